package xmppconn

import (
	"context"
	"encoding/xml"
	"strings"
)

// MucSub (ejabberd's room subscriptions, https://docs.ejabberd.im/developer/xmpp-clients-bots/extensions/muc-sub/):
// a member subscribed to a room's messages node hears of its messages
// while not an occupant, as pubsub events sent to the member's bare JID.
// The gateway subscribes its users to the rooms they join so that, once
// their session is gone, the server's push (XEP-0357) carries room
// messages too; the gateway's app server decides which of them notify.

const (
	nsMucSub          = "urn:xmpp:mucsub:0"
	mucSubNodePrefix  = "urn:xmpp:mucsub:nodes:"
	mucSubMessageNode = mucSubNodePrefix + "messages"
)

// SubscribeRoom subscribes the user, under nick, to the messages of the
// room (a bare JID). The room must allow subscriptions; a room that does
// not answers with a *StanzaError (not-allowed).
func (s *Session) SubscribeRoom(ctx context.Context, room, nick string) error {
	p := &iqPayload{
		XMLName: xml.Name{Space: nsMucSub, Local: "subscribe"},
		Attrs:   []xml.Attr{{Name: xml.Name{Local: "nick"}, Value: nick}},
		Inner:   []byte(`<event node='` + mucSubMessageNode + `'/>`),
	}
	_, err := s.iqSet(ctx, room, p)
	return err
}

// UnsubscribeRoom ends the user's subscription to the room.
func (s *Session) UnsubscribeRoom(ctx context.Context, room string) error {
	_, err := s.iqSet(ctx, room, &iqPayload{XMLName: xml.Name{Space: nsMucSub, Local: "unsubscribe"}})
	return err
}

// mucSubEvent reports whether node is one of MucSub's: such events repeat
// what the room's own history and archive give the session when it joins,
// so they are not events for the tabs.
func mucSubEvent(node string) bool { return strings.HasPrefix(node, mucSubNodePrefix) }
