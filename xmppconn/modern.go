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
	var ext bytes.Buffer
	ext.WriteString(`<replace xmlns="` + nsCorrect + `"`)
	writeAttr(&ext, "id", id)
	ext.WriteString(`></replace>`)
	return s.sendModern(ctx, to, body, ext.Bytes(), chatapi.Chat{Replace: id})
}

// SendReply writes a message answering the message id of the JID to
// (XEP-0461) and returns its id; otherwise it is SendChat's message: kept,
// echoed, with a receipt request.
func (s *Session) SendReply(ctx context.Context, to, id, body string) (string, error) {
	if id == "" || body == "" {
		return "", fmt.Errorf("%w: a reply needs the message id and a body", ErrInvalidStanza)
	}
	var ext bytes.Buffer
	ext.WriteString(`<reply xmlns="` + nsReply + `"`)
	writeAttr(&ext, "to", to)
	writeAttr(&ext, "id", id)
	ext.WriteString(`></reply><request xmlns="urn:xmpp:receipts"></request><markable xmlns="urn:xmpp:chat-markers:0"></markable>`)
	return s.sendModern(ctx, to, body, ext.Bytes(), chatapi.Chat{ReplyTo: id})
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
	var ext bytes.Buffer
	ext.WriteString(`<retract xmlns="` + nsRetract + `"`)
	writeAttr(&ext, "id", id)
	ext.WriteString(`></retract><fallback xmlns="urn:xmpp:fallback:0" for="` + nsRetract + `"></fallback><store xmlns="` + nsHints + `"></store>`)
	return s.sendModern(ctx, to, retractFallback, ext.Bytes(), chatapi.Chat{Retract: id})
}

// SendReactions sets the user's reactions to the message id of the JID to
// (XEP-0444): the whole set, each an emoji; none withdraws them. It
// returns the message's id.
func (s *Session) SendReactions(ctx context.Context, to, id string, reactions []string) (string, error) {
	if id == "" || len(reactions) > maxReactions {
		return "", fmt.Errorf("%w: reactions need the message id, and at most %d", ErrInvalidStanza, maxReactions)
	}
	var ext bytes.Buffer
	ext.WriteString(`<reactions xmlns="` + nsReactions + `"`)
	writeAttr(&ext, "id", id)
	ext.WriteString(`>`)
	for _, r := range reactions {
		if r == "" || len(r) > maxReactionBytes || !utf8.ValidString(r) {
			return "", fmt.Errorf("%w: a reaction is one emoji", ErrInvalidStanza)
		}
		ext.WriteString(`<reaction>`)
		xml.EscapeText(&ext, []byte(r))
		ext.WriteString(`</reaction>`)
	}
	ext.WriteString(`</reactions><store xmlns="` + nsHints + `"></store>`)
	mid, err := s.keepNew(ctx, "", func(id string) []byte { return modernStanza(to, id, "", ext.Bytes()) })
	if err != nil {
		return "", err
	}
	s.deliver(chatapi.Reactions{Type: chatapi.TypeReactions, From: s.user, To: to, ID: id, Reactions: append([]string{}, reactions...), Sent: true})
	return mid, nil
}

// sendModern writes a chat message with body and the extension ext, keeps
// it, and echoes it to the user's other tabs as echo (with the rest of
// its fields filled in).
func (s *Session) sendModern(ctx context.Context, to, body string, ext []byte, echo chatapi.Chat) (string, error) {
	mid, err := s.keepNew(ctx, "", func(id string) []byte { return modernStanza(to, id, body, ext) })
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

// modernStanza is a chat message with an origin-id, the body (if any) and
// ext, which is already XML.
func modernStanza(to, id, body string, ext []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(body) + len(ext) + len(to) + 2*len(id) + 200)
	b.WriteString(`<message type="chat"`)
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
