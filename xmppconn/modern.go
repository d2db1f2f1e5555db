package xmppconn

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"unicode/utf8"

	"gosrc.io/xmpp/stanza"

	"github.com/sparkgate/sparkgate/chatapi"
)

// What chat users expect of messages today, as XMPP has it: corrections
// (XEP-0308), retractions (XEP-0424) and reactions (XEP-0444), read into
// typed events and written by the verbs below. Each refers to an earlier
// message by its id, which for messages sent through the gateway is also
// their origin-id (XEP-0359).

const (
	nsCorrect   = "urn:xmpp:message-correct:0"
	nsRetract   = "urn:xmpp:message-retract:1"
	nsRetract0  = "urn:xmpp:message-retract:0" // inside XEP-0422 apply-to, as older clients send
	nsFasten    = "urn:xmpp:fasten:0"
	nsReactions = "urn:xmpp:reactions:0"
	nsHints     = "urn:xmpp:hints"
	nsReply     = "urn:xmpp:reply:0"
)

// maxReactions bounds the reactions of one message set, and
// maxReactionBytes one reaction: XEP-0444 means a single emoji each, and
// anything larger is not one.
const (
	maxReactions     = 32
	maxReactionBytes = 64
)

// modern is what a message says of an earlier one: the ids it corrects,
// retracts, reacts to or answers, and its reactions.
type modern struct {
	replace, retract, reactTo, replyTo string
	reactions                          []string
	hasReactions                       bool
}

// modernOf reads the extensions of m from what the stanza decoder already
// made of them (children it does not know are *stanza.Node): no second
// parse on the path every received message takes, and no allocation for a
// message without them.
func modernOf(m *stanza.Message) *modern {
	var out *modern
	get := func() *modern {
		if out == nil {
			out = new(modern)
		}
		return out
	}
	for _, ext := range m.Extensions {
		n, ok := ext.(*stanza.Node)
		if !ok {
			continue
		}
		switch n.XMLName {
		case xml.Name{Space: nsCorrect, Local: "replace"}:
			get().replace = nodeAttr(n, "id")
		case xml.Name{Space: nsRetract, Local: "retract"}:
			get().retract = nodeAttr(n, "id")
		case xml.Name{Space: nsFasten, Local: "apply-to"}:
			for _, c := range n.Nodes {
				if c.XMLName == (xml.Name{Space: nsRetract0, Local: "retract"}) {
					get().retract = nodeAttr(n, "id")
				}
			}
		case xml.Name{Space: nsReactions, Local: "reactions"}:
			r := get()
			r.hasReactions, r.reactTo = true, nodeAttr(n, "id")
			for _, c := range n.Nodes {
				if c.XMLName.Local == "reaction" {
					r.reactions = append(r.reactions, c.Content)
				}
			}
		case xml.Name{Space: nsReply, Local: "reply"}:
			get().replyTo = nodeAttr(n, "id")
		}
	}
	return out
}

// retraction returns the id a message retracts, or "".
func (m *modern) retraction() string {
	if m == nil {
		return ""
	}
	return m.retract
}

// reactions returns the reaction event of a message, if it is one.
func (m *modern) reactionsOf(s *Stanza, sent bool) (chatapi.Reactions, bool) {
	if m == nil || !m.hasReactions || m.reactTo == "" {
		return chatapi.Reactions{}, false
	}
	r := chatapi.Reactions{Type: chatapi.TypeReactions, To: s.To, From: s.From, ID: m.reactTo, Reactions: []string{}, Sent: sent}
	for _, e := range m.reactions {
		if e != "" && len(e) <= maxReactionBytes && len(r.Reactions) < maxReactions {
			r.Reactions = append(r.Reactions, e)
		}
	}
	return r, true
}

// SendCorrection replaces the user's earlier message id to the JID to by
// body (XEP-0308) and returns the new message's id. Like SendChat it is
// kept for resending and echoed to the user's other tabs.
func (s *Session) SendCorrection(ctx context.Context, to, id, body string) (string, error) {
	if id == "" || body == "" {
		return "", fmt.Errorf("%w: a correction needs the message id and a body", ErrInvalidStanza)
	}
	return s.sendModern(ctx, to, body, correctionExt(id), chatapi.Chat{Replace: id})
}

// SendReply writes a message answering the message id of the JID to
// (XEP-0461) and returns its id; otherwise it is SendChat's message: kept,
// echoed, with a receipt request.
func (s *Session) SendReply(ctx context.Context, to, id, body string) (string, error) {
	if id == "" || body == "" {
		return "", fmt.Errorf("%w: a reply needs the message id and a body", ErrInvalidStanza)
	}
	ext := append(replyExt(to, id), `<request xmlns="urn:xmpp:receipts"></request><markable xmlns="urn:xmpp:chat-markers:0"></markable>`...)
	return s.sendModern(ctx, to, body, ext, chatapi.Chat{ReplyTo: id})
}

// retractFallback is the body a retraction carries for clients that do
// not know XEP-0424.
const retractFallback = "This person attempted to retract a previous message, but it's unsupported by your client."

// SendRetraction withdraws the user's earlier message id to the JID to
// (XEP-0424) and returns the retraction's id.
func (s *Session) SendRetraction(ctx context.Context, to, id string) (string, error) {
	if id == "" {
		return "", fmt.Errorf("%w: a retraction needs the message id", ErrInvalidStanza)
	}
	return s.sendModern(ctx, to, retractFallback, retractionExt(id), chatapi.Chat{Retract: id})
}

// SendReactions sets the user's reactions to the message id of the JID to
// (XEP-0444): the whole set, each an emoji; none withdraws them. It
// returns the message's id.
func (s *Session) SendReactions(ctx context.Context, to, id string, reactions []string) (string, error) {
	ext, err := reactionsExt(id, reactions)
	if err != nil {
		return "", err
	}
	mid, err := s.keepNew(ctx, "", func(id string) []byte { return modernStanza("chat", to, id, "", ext) })
	if err != nil {
		return "", err
	}
	s.deliver(chatapi.Reactions{Type: chatapi.TypeReactions, From: s.user, To: to, ID: id, Reactions: append([]string{}, reactions...), Sent: true})
	return mid, nil
}

// In a room (XEP-0045) the same four are groupchat messages to the room,
// and the room names a message differently for each (as XEP-0308,
// XEP-0424, XEP-0444 and XEP-0461 say for groupchat): a correction names
// the id its sender gave the message (which is also its origin-id for
// messages sent through the gateway, and which ejabberd keeps when it
// passes the message on: chatapi.muc's id), while a retraction, reactions
// and a reply name the room's stanza-id of it (XEP-0359, by the room's
// JID: chatapi.muc's stanzaId), the one id every occupant sees alike. The
// room reflects each to every occupant, the user's other tabs too, so
// nothing is echoed here; they are kept until the reflection as any room
// message is.

// SendRoomCorrection replaces the user's earlier message id in room (the
// id it was sent with) by body (XEP-0308) and returns the new message's
// id.
func (s *Session) SendRoomCorrection(ctx context.Context, room, id, body string) (string, error) {
	if id == "" || body == "" {
		return "", fmt.Errorf("%w: a correction needs the message id and a body", ErrInvalidStanza)
	}
	return s.sendRoomModern(ctx, room, body, correctionExt(id))
}

// SendRoomRetraction withdraws the user's earlier message in room that
// the room's stanza-id id names (XEP-0424), with the fallback body for
// clients without it, and returns the retraction's id.
func (s *Session) SendRoomRetraction(ctx context.Context, room, id string) (string, error) {
	if id == "" {
		return "", fmt.Errorf("%w: a retraction needs the message's stanza-id", ErrInvalidStanza)
	}
	return s.sendRoomModern(ctx, room, retractFallback, retractionExt(id))
}

// SendRoomReactions sets the user's reactions (XEP-0444) to the message of
// room that the room's stanza-id id names: the whole set; none withdraws
// them. It returns the message's id.
func (s *Session) SendRoomReactions(ctx context.Context, room, id string, reactions []string) (string, error) {
	ext, err := reactionsExt(id, reactions)
	if err != nil {
		return "", err
	}
	return s.sendRoomModern(ctx, room, "", ext)
}

// SendRoomReply writes a message to room answering the message that the
// room's stanza-id id names (XEP-0461); nick, when known, is the
// occupant who wrote it (the reply's to, room/nick). It returns the new
// message's id.
func (s *Session) SendRoomReply(ctx context.Context, room, id, nick, body string) (string, error) {
	if id == "" || body == "" {
		return "", fmt.Errorf("%w: a reply needs the message's stanza-id and a body", ErrInvalidStanza)
	}
	to := ""
	if nick != "" {
		to = bareJID(room) + "/" + nick
	}
	return s.sendRoomModern(ctx, room, body, replyExt(to, id))
}

// sendRoomModern writes a groupchat message with body (if any) and ext to
// room and keeps it until the room reflects it.
func (s *Session) sendRoomModern(ctx context.Context, room, body string, ext []byte) (string, error) {
	room = bareJID(room)
	return s.keepNew(ctx, room, func(id string) []byte { return modernStanza("groupchat", room, id, body, ext) })
}

// correctionExt names the message a correction replaces (XEP-0308).
func correctionExt(id string) []byte {
	var ext bytes.Buffer
	ext.WriteString(`<replace xmlns="` + nsCorrect + `"`)
	writeAttr(&ext, "id", id)
	ext.WriteString(`></replace>`)
	return ext.Bytes()
}

// retractionExt names the message a retraction withdraws (XEP-0424),
// marks the body as its fallback (XEP-0428) and asks the archive to keep
// it (XEP-0334).
func retractionExt(id string) []byte {
	var ext bytes.Buffer
	ext.WriteString(`<retract xmlns="` + nsRetract + `"`)
	writeAttr(&ext, "id", id)
	ext.WriteString(`></retract><fallback xmlns="urn:xmpp:fallback:0" for="` + nsRetract + `"></fallback><store xmlns="` + nsHints + `"></store>`)
	return ext.Bytes()
}

// replyExt names the message a reply answers and, when to is set, its
// author (XEP-0461).
func replyExt(to, id string) []byte {
	var ext bytes.Buffer
	ext.WriteString(`<reply xmlns="` + nsReply + `"`)
	writeAttr(&ext, "to", to)
	writeAttr(&ext, "id", id)
	ext.WriteString(`></reply>`)
	return ext.Bytes()
}

// reactionsExt is a whole reactions set to the message id (XEP-0444), or
// ErrInvalidStanza when id is empty, there are too many, or one is no
// short valid text.
func reactionsExt(id string, reactions []string) ([]byte, error) {
	if id == "" || len(reactions) > maxReactions {
		return nil, fmt.Errorf("%w: reactions need the message id, and at most %d", ErrInvalidStanza, maxReactions)
	}
	var ext bytes.Buffer
	ext.WriteString(`<reactions xmlns="` + nsReactions + `"`)
	writeAttr(&ext, "id", id)
	ext.WriteString(`>`)
	for _, r := range reactions {
		if r == "" || len(r) > maxReactionBytes || !utf8.ValidString(r) {
			return nil, fmt.Errorf("%w: a reaction is one emoji", ErrInvalidStanza)
		}
		ext.WriteString(`<reaction>`)
		xml.EscapeText(&ext, []byte(r))
		ext.WriteString(`</reaction>`)
	}
	ext.WriteString(`</reactions><store xmlns="` + nsHints + `"></store>`)
	return ext.Bytes(), nil
}

// sendModern writes a chat message with body and the extension ext, keeps
// it, and echoes it to the user's other tabs as echo (with the rest of
// its fields filled in).
func (s *Session) sendModern(ctx context.Context, to, body string, ext []byte, echo chatapi.Chat) (string, error) {
	mid, err := s.keepNew(ctx, "", func(id string) []byte { return modernStanza("chat", to, id, body, ext) })
	if err != nil {
		return "", err
	}
	echo.Type, echo.From, echo.To, echo.ID, echo.Sent = chatapi.TypeChat, s.user, to, mid, true
	if echo.Retract == "" {
		echo.Body = body
	}
	s.deliver(echo)
	return mid, nil
}

// modernStanza is a message of type typ (chat or groupchat) with an
// origin-id, the body (if any) and ext, which is already XML.
func modernStanza(typ, to, id, body string, ext []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(body) + len(ext) + len(to) + 2*len(id) + 200)
	b.WriteString(`<message`)
	writeAttr(&b, "type", typ)
	writeAttr(&b, "id", id)
	writeAttr(&b, "to", to)
	b.WriteByte('>')
	writeBody(&b, body)
	b.WriteString(`<origin-id xmlns="urn:xmpp:sid:0" id="`)
	xml.EscapeText(&b, []byte(id))
	b.WriteString(`"></origin-id>`)
	b.Write(ext)
	b.WriteString(`</message>`)
	return b.Bytes()
}
