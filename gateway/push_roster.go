package gateway

import (
	"context"
	"encoding/xml"
	"fmt"
	"strings"

	"gosrc.io/xmpp/stanza"

	"github.com/sparkgate/sparkgate/xmppconn"
)

// pushRosterReply is the part of a jabber:iq:roster result Web Push needs.
type pushRosterReply struct {
	Query struct {
		Items []struct {
			JID          string `xml:"jid,attr"`
			Subscription string `xml:"subscription,attr"`
		} `xml:"jabber:iq:roster item"`
	} `xml:"jabber:iq:roster query"`
}

// pushRoster returns the bare JIDs in the user's roster (RFC 6121 section
// 2.2), lowercased, whatever the subscription state.
func pushRoster(ctx context.Context, sess *xmppconn.Session) (map[string]bool, error) {
	iq := &stanza.IQ{Attrs: stanza.Attrs{Type: stanza.IQTypeGet}}
	iq.RosterItems()
	reply, err := sess.IQ(ctx, iq)
	if err != nil {
		return nil, err
	}
	var r pushRosterReply
	if err := xml.Unmarshal(reply.Raw, &r); err != nil {
		return nil, fmt.Errorf("gateway: roster reply: %w", err)
	}
	out := make(map[string]bool, len(r.Query.Items))
	for _, it := range r.Query.Items {
		if it.Subscription == "remove" {
			continue
		}
		out[strings.ToLower(it.JID)] = true
	}
	return out, nil
}
