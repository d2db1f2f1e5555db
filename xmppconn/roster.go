package xmppconn

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
)

// nsRoster is RFC 6121's roster namespace.
const nsRoster = "jabber:iq:roster"

// RosterItem is one contact of the user's roster (RFC 6121 section 2.1.2).
type RosterItem struct {
	JID          string   `xml:"jid,attr"`
	Name         string   `xml:"name,attr,omitempty"`
	Subscription string   `xml:"subscription,attr,omitempty"` // none, to, from, both, remove
	Ask          string   `xml:"ask,attr,omitempty"`          // subscribe while a request is pending
	Groups       []string `xml:"group"`
}

type rosterXML struct {
	Query *struct {
		Items []RosterItem `xml:"item"`
	} `xml:"jabber:iq:roster query"`
}

// Roster fetches the user's roster (RFC 6121 section 2.2).
func (s *Session) Roster(ctx context.Context) ([]RosterItem, error) {
	reply, err := s.iqGet(ctx, "", queryPayload(nsRoster, nil))
	if err != nil {
		return nil, err
	}
	var x rosterXML
	if err := xml.Unmarshal(reply.Raw, &x); err != nil || x.Query == nil {
		return nil, fmt.Errorf("%w: no roster in the reply", ErrProtocol)
	}
	return x.Query.Items, nil
}

// SetRosterItem adds or updates a roster item (RFC 6121 section 2.3, 2.4).
// Only JID, Name and Groups are sent; the server owns the subscription.
func (s *Session) SetRosterItem(ctx context.Context, it RosterItem) error {
	return s.rosterSet(ctx, RosterItem{JID: it.JID, Name: it.Name, Groups: it.Groups})
}

// RemoveRosterItem removes a contact, and with it the subscriptions both
// ways (RFC 6121 section 2.5). A contact not in the roster is
// item-not-found.
func (s *Session) RemoveRosterItem(ctx context.Context, jid string) error {
	return s.rosterSet(ctx, RosterItem{JID: jid, Subscription: "remove"})
}

func (s *Session) rosterSet(ctx context.Context, it RosterItem) error {
	var b bytes.Buffer
	if err := xml.NewEncoder(&b).EncodeElement(it, xml.StartElement{Name: xml.Name{Local: "item"}}); err != nil {
		return err
	}
	_, err := s.iqSet(ctx, "", queryPayload(nsRoster, b.Bytes()))
	return err
}
