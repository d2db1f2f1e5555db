package xmppconn

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"strings"

	"github.com/sparkgate/sparkgate/chatapi"
)

// SendChat writes a one-to-one chat message the user wrote to the JID to,
// with body as its text and data, when not nil, as its JSON payload (an
// XEP-0335 container, which the receiver's chatapi.chat carries back as
// data). The message announces XEP-0085's active state, carries an
// XEP-0359 origin-id equal to its id, which it returns, asks for a
// delivery receipt (XEP-0184) and is markable (XEP-0333): both answers
// arrive as chatapi.receipt. It is kept in the
// outbox (sent again after a connection loss, see outbox), and the user's
// other tabs get it as chatapi.chat with sent set: the server sends no
// carbon back to the resource that wrote it.
func (s *Session) SendChat(ctx context.Context, to, body string, data json.RawMessage) (string, error) {
	if data != nil && !json.Valid(data) {
		return "", fmt.Errorf("%w: the message data is not JSON", ErrInvalidStanza)
	}
	id, err := s.keepNew(ctx, "", func(id string) []byte { return chatStanza(to, id, body, data) })
	if err != nil {
		return "", err
	}
	s.deliver(chatapi.Chat{Type: chatapi.TypeChat, From: s.user, To: to, Body: body, Data: data, ID: id, Sent: true})
	return id, nil
}

// SendGroupChat writes a message the user wrote to the room (a bare JID)
// and returns its id, which is also its origin-id. It stays in the outbox
// until the room reflects it; the reflection is the user's own copy, so
// there is no echo.
func (s *Session) SendGroupChat(ctx context.Context, room, body string) (string, error) {
	return s.keepNew(ctx, bareJID(room), func(id string) []byte { return groupChatStanza(room, id, body) })
}

// keepNew writes a new message the user wrote, built by build with its
// id (which is also its origin-id), keeps it (see outbox; room is the
// room's bare JID for a room message) and returns the id.
func (s *Session) keepNew(ctx context.Context, room string, build func(id string) []byte) (string, error) {
	c, err := s.usable()
	if err != nil {
		return "", err
	}
	s.used()
	id := rand.Text()
	if err := s.keep(ctx, c, build(id), id, room); err != nil {
		return "", err
	}
	return id, nil
}

// SendChatState writes an XEP-0085 chat state notification (one of
// chatapi's State* values) to the JID to. It is not kept: a state that a
// connection loss drops is stale by the time the next one is up. To a room
// the session is in it goes as groupchat, which the room passes to every
// occupant (XEP-0085 section 5.5); to anyone else, as chat.
func (s *Session) SendChatState(ctx context.Context, to, state string) error {
	switch state {
	case chatapi.StateActive, chatapi.StateComposing, chatapi.StatePaused, chatapi.StateInactive, chatapi.StateGone:
	default:
		return fmt.Errorf("%w: unknown chat state %q", ErrInvalidStanza, state)
	}
	c, err := s.usable()
	if err != nil {
		return err
	}
	s.used()
	typ := "chat"
	if s.RoomNick(strings.ToLower(to)) != "" { // a room the session is in
		typ = "groupchat"
	}
	var b bytes.Buffer
	b.WriteString(`<message type="` + typ + `"`)
	writeAttr(&b, "to", to)
	b.WriteString(`><`)
	b.WriteString(state)
	b.WriteString(` xmlns="http://jabber.org/protocol/chatstates"></`)
	b.WriteString(state)
	b.WriteString(`></message>`)
	return c.write(ctx, b.Bytes())
}

// SendDisplayed tells the JID to that the user has read its message id and
// every earlier one (XEP-0333's displayed marker). The server's carbons
// tell the user's other XMPP clients; the sender's tabs get it as
// chatapi.receipt of type displayed.
func (s *Session) SendDisplayed(ctx context.Context, to, id string) error {
	if id == "" {
		return fmt.Errorf("%w: a displayed marker needs the message id", ErrInvalidStanza)
	}
	c, err := s.usable()
	if err != nil {
		return err
	}
	s.used()
	var b bytes.Buffer
	b.WriteString(`<message type="chat"`)
	writeAttr(&b, "to", to)
	b.WriteString(`><displayed xmlns="urn:xmpp:chat-markers:0"`)
	writeAttr(&b, "id", id)
	b.WriteString(`></displayed></message>`)
	return c.write(ctx, b.Bytes())
}

// The stanzas below are written directly, byte for byte what xml.Marshal
// makes of the same gosrc stanza.Message (message_test.go keeps it so, and
// checks the reader accepts them): the reflecting encoder and the 4 KiB
// buffer it allocates per call were a third of the send path's CPU in a
// profile, and these bytes are never parsed again before the write.

// chatStanza is the stanza SendChat writes.
func chatStanza(to, id, body string, data json.RawMessage) []byte {
	var b bytes.Buffer
	b.Grow(len(body) + len(data) + len(to) + 2*len(id) + 230)
	b.WriteString(`<message type="chat"`)
	writeAttr(&b, "id", id)
	writeAttr(&b, "to", to)
	b.WriteByte('>')
	writeBody(&b, body)
	b.WriteString(`<active xmlns="http://jabber.org/protocol/chatstates"></active><origin-id xmlns="urn:xmpp:sid:0" id="`)
	xml.EscapeText(&b, []byte(id))
	b.WriteString(`"></origin-id><request xmlns="urn:xmpp:receipts"></request><markable xmlns="urn:xmpp:chat-markers:0"></markable>`)
	if data != nil {
		b.WriteString(`<json xmlns="urn:xmpp:json:0">`)
		xml.EscapeText(&b, data)
		b.WriteString(`</json>`)
	}
	b.WriteString(`</message>`)
	return b.Bytes()
}

// groupChatStanza is the stanza SendGroupChat writes.
func groupChatStanza(room, id, body string) []byte {
	var b bytes.Buffer
	b.Grow(len(body) + len(room) + 2*len(id) + 150)
	b.WriteString(`<message type="groupchat"`)
	writeAttr(&b, "id", id)
	writeAttr(&b, "to", room)
	b.WriteByte('>')
	writeBody(&b, body)
	b.WriteString(`<origin-id xmlns="urn:xmpp:sid:0" id="`)
	xml.EscapeText(&b, []byte(id))
	b.WriteString(`"></origin-id></message>`)
	return b.Bytes()
}

// writeBody writes <body>, escaped, unless body is empty (omitempty).
func writeBody(b *bytes.Buffer, body string) {
	if body == "" {
		return
	}
	b.WriteString(`<body>`)
	xml.EscapeText(b, []byte(body))
	b.WriteString(`</body>`)
}

// writeAttr writes ` name="value"`, escaped, unless value is empty
// (omitempty).
func writeAttr(b *bytes.Buffer, name, value string) {
	if value == "" {
		return
	}
	b.WriteByte(' ')
	b.WriteString(name)
	b.WriteString(`="`)
	xml.EscapeText(b, []byte(value))
	b.WriteByte('"')
}
