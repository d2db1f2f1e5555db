package xmppconn

import (
	"context"
	"encoding/xml"
	"errors"
	"strconv"
)

// NSBookmarks is the namespace of PEP native bookmarks (XEP-0402), which
// is also the name of the user's node that keeps them.
const NSBookmarks = "urn:xmpp:bookmarks:1"

// Conference is one native bookmark (XEP-0402 section 3): a room the
// user's clients list, and join on their own when Autojoin is set.
type Conference struct {
	Room     string // the room's bare JID, the item's id
	Name     string
	Autojoin bool
	Nick     string
	Password string
	// Offer names the gateway's bookmark an entry was offered from (an
	// extension of the gateway's, XEP-0402 section 3.1's extensions, which
	// clients keep), so that it can be taken back when that bookmark is
	// gone; "" for an entry of the user's own.
	Offer string
}

// NSOffer is the namespace of the gateway's mark on an offered bookmark.
const NSOffer = "urn:sparkgate:bookmark:0"

type offerMark struct {
	XMLName xml.Name `xml:"urn:sparkgate:bookmark:0 offer"`
	ID      string   `xml:"id,attr"`
}

type conferenceExtensions struct {
	Offer *offerMark `xml:"offer,omitempty"`
}

// conferenceXML is the payload of a bookmark's item.
type conferenceXML struct {
	XMLName    xml.Name              `xml:"urn:xmpp:bookmarks:1 conference"`
	Name       string                `xml:"name,attr,omitempty"`
	Autojoin   bool                  `xml:"autojoin,attr"`
	Nick       string                `xml:"nick,omitempty"`
	Password   string                `xml:"password,omitempty"`
	Extensions *conferenceExtensions `xml:"extensions,omitempty"`
}

// bookmarkOptions are XEP-0402's publish-options (section 3.3): a
// persistent node only the user reads. (ejabberd 23.01 knows no other
// fields; its own configuration forces the rest.)
func bookmarkOptions() *DataForm {
	return SubmitForm("http://jabber.org/protocol/pubsub#publish-options",
		[]string{"pubsub#persist_items", "pubsub#access_model"},
		map[string]string{"pubsub#persist_items": "true", "pubsub#access_model": "whitelist"})
}

// Bookmarks returns the user's native bookmarks (XEP-0402 section 3.2);
// a user who never stored one has none. An item whose payload cannot be
// read still names its room.
func (s *Session) Bookmarks(ctx context.Context) ([]Conference, error) {
	items, err := s.Items(ctx, "", NSBookmarks, 0)
	if errors.Is(err, ErrItemNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]Conference, 0, len(items))
	for _, it := range items {
		out = append(out, parseConference(it))
	}
	return out, nil
}

// SetBookmark stores c in the user's native bookmarks (XEP-0402 section
// 3.3), replacing the bookmark of the same room.
func (s *Session) SetBookmark(ctx context.Context, c Conference) error {
	x := conferenceXML{Name: c.Name, Autojoin: c.Autojoin, Nick: c.Nick, Password: c.Password}
	if c.Offer != "" {
		x.Extensions = &conferenceExtensions{Offer: &offerMark{ID: c.Offer}}
	}
	payload, err := xml.Marshal(x)
	if err != nil {
		return err
	}
	_, err = s.Publish(ctx, "", NSBookmarks, Item{ID: c.Room, Payload: payload}, bookmarkOptions())
	return err
}

// RemoveBookmark removes the bookmark of room from the user's native
// bookmarks (XEP-0402 section 3.4), telling the user's other clients. A
// room without one is no error.
func (s *Session) RemoveBookmark(ctx context.Context, room string) error {
	err := s.Retract(ctx, "", NSBookmarks, room, true)
	if errors.Is(err, ErrItemNotFound) {
		return nil
	}
	return err
}

// parseConference reads a bookmark's item.
func parseConference(it Item) Conference {
	c := Conference{Room: it.ID}
	var x struct {
		XMLName  xml.Name `xml:"urn:xmpp:bookmarks:1 conference"`
		Name     string   `xml:"name,attr"`
		Autojoin string   `xml:"autojoin,attr"`
		Nick     string   `xml:"nick"`
		Password string   `xml:"password"`
		Offer    []struct {
			XMLName xml.Name
			ID      string `xml:"id,attr"`
		} `xml:"extensions>offer"`
	}
	if xml.Unmarshal(it.Payload, &x) != nil {
		return c
	}
	c.Name, c.Nick, c.Password = x.Name, x.Nick, x.Password
	for _, o := range x.Offer {
		if o.XMLName.Space == NSOffer { // another's offer element is not ours
			c.Offer = o.ID
		}
	}
	c.Autojoin, _ = strconv.ParseBool(x.Autojoin) // xs:boolean: true, false, 1, 0
	return c
}
