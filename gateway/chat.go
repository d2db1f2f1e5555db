package gateway

import (
	"bytes"
	"crypto/rand"
	"encoding/xml"
	"net/http"

	"github.com/labstack/echo/v4"
	"gosrc.io/xmpp/stanza"

	"github.com/sparkgate/sparkgate"
	"github.com/sparkgate/sparkgate/chatapi"
)

// maxMessage bounds a message body (the spec says the same).
const maxMessage = 64 << 10

// GetOpenAPISpec serves the contract itself.
func (s *Server) GetOpenAPISpec(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/yaml", sparkgate.OpenAPI)
}

// SendChatMessage serves POST /chat/message/{to}: a one-to-one message
// from the user's session. The user's other tabs get it as a chatapi.chat
// event with sent set.
func (s *Server) SendChatMessage(c echo.Context, to To) error {
	jid, err := toJID(string(to), s.cfg.Domain)
	if err != nil {
		return errorf(http.StatusBadRequest, err.Error())
	}
	body, err := readText(c.Request(), maxMessage)
	if err != nil {
		return err
	}
	if body == "" {
		return errorf(http.StatusBadRequest, "the message is empty")
	}
	sess, err := s.session(c)
	if err != nil {
		return err
	}
	id := rand.Text()
	if err := sess.SendMessageRaw(c.Request().Context(), chatMessage(jid, id, body), id); err != nil {
		return err
	}
	// The user's other tabs see the whole conversation; the server sends
	// no carbon back to the resource that sent the message.
	s.deliver(sess.User(), chatapi.Chat{Type: chatapi.TypeChat, From: sess.User(), To: jid, Body: body, ID: id, Sent: true})
	return c.JSON(http.StatusOK, SentMessage{Id: id})
}

// chatMessage is the stanza SendChatMessage writes: a chat message with
// XEP-0085's active state and XEP-0359's origin-id, byte for byte what
// xml.Marshal makes of that stanza.Message, written directly because the
// reflecting encoder (and the 4 KiB buffer it allocates per call) was a
// third of this handler's CPU in a profile. The session still checks the bytes
// before writing them.
func chatMessage(to, id, body string) []byte {
	var b bytes.Buffer
	b.Grow(len(body) + len(to) + 2*len(id) + 190)
	b.WriteString(`<message type="chat"`)
	attr(&b, "id", id)
	attr(&b, "to", to)
	b.WriteByte('>')
	if body != "" {
		b.WriteString(`<body>`)
		xml.EscapeText(&b, []byte(body))
		b.WriteString(`</body>`)
	}
	b.WriteString(`<active xmlns="http://jabber.org/protocol/chatstates"></active><origin-id xmlns="urn:xmpp:sid:0" id="`)
	xml.EscapeText(&b, []byte(id))
	b.WriteString(`"></origin-id></message>`)
	return b.Bytes()
}

// attr writes ` name="value"`, escaped, unless value is empty (omitempty).
func attr(b *bytes.Buffer, name, value string) {
	if value == "" {
		return
	}
	b.WriteByte(' ')
	b.WriteString(name)
	b.WriteString(`="`)
	xml.EscapeText(b, []byte(value))
	b.WriteByte('"')
}

// originID is XEP-0359's origin-id, which lets the other clients of the
// user match the message when the archive returns it.
type originID struct {
	stanza.MsgExtension
	XMLName xml.Name `xml:"urn:xmpp:sid:0 origin-id"`
	ID      string   `xml:"id,attr"`
}

// PostChatState serves POST /chat/chatstate/{state}/{to}: an XEP-0085 chat
// state notification.
func (s *Server) PostChatState(c echo.Context, state PostChatStateParamsState, to To) error {
	jid, err := toJID(string(to), s.cfg.Domain)
	if err != nil {
		return errorf(http.StatusBadRequest, err.Error())
	}
	var ext stanza.MsgExtension
	switch string(state) {
	case chatapi.StateActive:
		ext = &stanza.StateActive{}
	case chatapi.StateComposing:
		ext = &stanza.StateComposing{}
	case chatapi.StatePaused:
		ext = &stanza.StatePaused{}
	case chatapi.StateInactive:
		ext = &stanza.StateInactive{}
	case chatapi.StateGone:
		ext = &stanza.StateGone{}
	default:
		return errorf(http.StatusBadRequest, "unknown chat state")
	}
	sess, err := s.session(c)
	if err != nil {
		return err
	}
	msg := stanza.Message{Attrs: stanza.Attrs{To: jid, Type: stanza.MessageTypeChat}}
	msg.Extensions = append(msg.Extensions, ext)
	if err := sess.Send(c.Request().Context(), msg); err != nil {
		return err
	}
	return c.NoContent(http.StatusOK)
}

// SetPresence serves POST /presence.
func (s *Server) SetPresence(c echo.Context, params SetPresenceParams) error {
	show, status := "", ""
	if params.Show != nil {
		show = string(*params.Show)
		switch show {
		case "chat", "away", "xa", "dnd":
		default:
			return errorf(http.StatusBadRequest, "show must be chat, away, xa or dnd")
		}
	}
	if params.Status != nil {
		status = *params.Status
	}
	sess, err := s.session(c)
	if err != nil {
		return err
	}
	if err := sess.SetPresence(c.Request().Context(), show, status); err != nil {
		return err
	}
	return c.NoContent(http.StatusOK)
}
