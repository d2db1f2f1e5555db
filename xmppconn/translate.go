package xmppconn

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"slices"
	"strings"
	"time"

	"gosrc.io/xmpp/stanza"

	"github.com/sparkgate/sparkgate/chatapi"
)

// Namespaces the translation looks for.
const (
	nsMUCUser    = "http://jabber.org/protocol/muc#user"
	nsConference = "jabber:x:conference"
	nsPubSubEvt  = "http://jabber.org/protocol/pubsub#event"
	nsJSON       = "urn:xmpp:json:0"
)

// Translate turns one inbound stanza of the user whose bare JID is self
// into the chatapi events it means, in order. It is a pure function: no
// session, no clock. MAM results are not live events and translate to
// nothing (the archive catch-up handles them). The only IQs that mean an
// event are a roster push (see translateRosterPush) and a blocklist push
// (translateBlockPush). Carbons
// (XEP-0280) are honoured only when they come from the user's own bare JID,
// as XEP-0280 section 11 requires; a forged one translates to nothing.
// mucServices are the domains (lower case) of the group chat services
// whose rooms may mediate invitations (see invitation).
func Translate(s *Stanza, self string, mucServices []string) []chatapi.Payload {
	switch s.Name {
	case "message":
		if s.MAM != nil {
			return nil
		}
		if s.Carbon != nil {
			if s.From != self || s.Carbon.Forwarded.Message == nil {
				return nil
			}
			inner := s.Carbon.Forwarded.Message
			if inner.Delay == nil {
				inner.Delay = s.Carbon.Forwarded.Delay
			}
			return translateMessage(inner, self, s.Carbon.Sent, mucServices)
		}
		return translateMessage(s, self, false, mucServices)
	case "presence":
		if s.Presence == nil {
			return nil
		}
		return []chatapi.Payload{translatePresence(s)}
	case "iq":
		if r, ok := translateRosterPush(s, self); ok {
			return []chatapi.Payload{r}
		}
		if b, ok := translateBlockPush(s, self); ok {
			return []chatapi.Payload{b}
		}
	}
	return nil
}

// translateRosterPush reads a roster push (RFC 6121 section 2.1.6): an IQ
// set from the user's own account (or from no one, which means the same)
// whose roster query holds exactly one item. ok is false for anything
// else, including a push the RFC says to ignore because another entity
// sent it. An item with subscription "remove" left the roster.
func translateRosterPush(s *Stanza, self string) (ev chatapi.Roster, ok bool) {
	if s.Type != "set" || (s.From != "" && s.From != self) {
		return ev, false
	}
	var x rosterXML
	if err := xml.Unmarshal(s.Raw, &x); err != nil || x.Query == nil || len(x.Query.Items) != 1 {
		return ev, false
	}
	it := x.Query.Items[0]
	if it.JID == "" {
		return ev, false
	}
	groups := it.Groups
	if groups == nil {
		groups = []string{}
	}
	return chatapi.Roster{
		JID:          it.JID,
		Name:         it.Name,
		Subscription: it.Subscription,
		Ask:          it.Ask,
		Groups:       groups,
		Removed:      it.Subscription == "remove",
	}, true
}

// TranslateArchived turns one message found in the archive (a MAM result's
// forwarded message) into its chat or groupchat event, marked with the
// archive id and the stamp of the result, preceded by its invitation event
// when the message is a room's invitation (on one of mucServices, as
// Translate decides): the catch-up after a connection begins delivers what
// the live stream missed as the live stream would have, and an invitation
// sent while the user's session was starting reached it only there (its
// live copy, held back until the catch-up ended, was then dropped as seen).
// It returns nil for archived stanzas that are not messages with a body.
func TranslateArchived(r *MAMResult, self string, mucServices []string) []chatapi.Payload {
	m := r.Forwarded.Message
	if m == nil || m.Message == nil || m.Message.Body == "" {
		return nil
	}
	if m.Delay == nil {
		m.Delay = r.Forwarded.Delay
	}
	sent := bareJID(m.From) == self
	var inv []chatapi.Payload
	for _, p := range translateMessage(m, self, sent, mucServices) {
		switch ev := p.(type) {
		case chatapi.Invitation:
			if !sent {
				inv = append(inv, ev)
			}
		case chatapi.Chat:
			ev.StanzaID = r.ID
			return append(inv, ev)
		case chatapi.GroupChat:
			ev.StanzaID = r.ID
			return append(inv, ev)
		}
	}
	return nil
}

func translateMessage(s *Stanza, self string, sent bool, mucServices []string) []chatapi.Payload {
	m := s.Message
	if m == nil {
		return nil
	}
	var out []chatapi.Payload
	stamp := ""
	if s.Delay != nil && !s.Delay.Stamp.IsZero() {
		stamp = s.Delay.Stamp.UTC().Format(time.RFC3339Nano)
	}

	if inv, ok := invitation(s, mucServices); ok {
		inv.Stamp = stamp
		out = append(out, inv)
	}
	// A message that came back as an error (the recipient does not exist,
	// cannot be reached, refuses it) says why: chatapi.error with the
	// failed message's id and the condition. Its chatapi.chat of type
	// error follows when it carries the body, as before.
	if s.Type == "error" {
		out = append(out, errorEvent(s))
	}

	// Chat states, receipts and markers ride on chat messages, with or
	// without a body. An active state on a message with a body says
	// nothing the message does not (XEP-0085 section 5.1), so it is not an
	// event of its own.
	for _, ext := range m.Extensions {
		switch e := ext.(type) {
		case *stanza.StateActive:
			if m.Body == "" {
				out = append(out, chatState(s, chatapi.StateActive))
			}
		case *stanza.StateComposing:
			out = append(out, chatState(s, chatapi.StateComposing))
		case *stanza.StatePaused:
			out = append(out, chatState(s, chatapi.StatePaused))
		case *stanza.StateInactive:
			out = append(out, chatState(s, chatapi.StateInactive))
		case *stanza.StateGone:
			out = append(out, chatState(s, chatapi.StateGone))
		case *stanza.ReceiptReceived:
			out = append(out, chatapi.Receipt{Type: chatapi.TypeReceived, From: s.From, To: s.To, ID: e.ID})
		case *stanza.MarkDisplayed:
			out = append(out, chatapi.Receipt{Type: chatapi.TypeDisplayed, From: s.From, To: s.To, ID: e.ID})
		case *stanza.PubSubEvent:
			out = append(out, pubsubEvents(s, stamp)...)
		}
	}

	typ := s.Type
	if typ == "" {
		typ = chatapi.TypeNormal
	}
	// Corrections, retractions and reactions (modern.go), in rooms too.
	mod := modernOf(m)
	if typ == "groupchat" {
		return append(out, groupChat(s, stamp, sent, mod)...)
	}
	if r, ok := mod.reactionsOf(s, sent); ok {
		return append(out, r)
	}
	if id := mod.retraction(); id != "" {
		return append(out, chatapi.Chat{Type: typ, To: s.To, From: s.From, ID: s.ID,
			StanzaID: stanzaIDBy(s, self), Stamp: stamp, Sent: sent, Retract: id})
	}
	if m.Body == "" {
		if data := jsonData(m); data != nil {
			out = append(out, chatapi.Notify{Type: chatapi.TypeNotify, To: s.To, From: s.From, Data: data})
		}
		return out
	}
	replace, replyTo := "", ""
	if mod != nil {
		replace, replyTo = mod.replace, mod.replyTo
	}
	return append(out, chatapi.Chat{
		Replace:  replace,
		ReplyTo:  replyTo,
		Type:     typ,
		To:       s.To,
		From:     s.From,
		Data:     jsonData(m),
		Body:     m.Body,
		ID:       s.ID,
		StanzaID: stanzaIDBy(s, self),
		Stamp:    stamp,
		Thread:   m.Thread,
		Sent:     sent,
		File:     fileOf(m),
	})
}

// errorEvent is the chatapi.error of a message of type error: its
// defined condition (undefined-condition when the server gave none) and
// the server's text (session.go's messageError reads them).
func errorEvent(s *Stanza) chatapi.Error {
	e := chatapi.Error{Type: "error", To: s.To, From: s.From, ID: s.ID, Condition: "undefined-condition"}
	var se *StanzaError
	if errors.As(messageError(s), &se) {
		e.Condition, e.Text = se.Condition, se.Text
	}
	return e
}

func chatState(s *Stanza, state string) chatapi.ChatState {
	thread := ""
	if s.Message != nil {
		thread = s.Message.Thread
	}
	return chatapi.ChatState{Type: chatapi.TypeChatState, From: s.From, To: s.To, State: state, Thread: thread,
		Room: s.Type == "groupchat"}
}

// invitation finds a room invitation: direct (XEP-0249, jabber:x:conference)
// or mediated by the room (XEP-0045 section 7.8.2, muc#user invite).
//
// Only a room can vouch for the inviter it names: a mediated invitation's
// invite from='...' is believed when the message comes from a room's bare
// JID on one of mucServices. Anyone else can put any JID there, so for
// anyone else (a forged mediated invitation, like a direct one) the
// inviter is the message's own sender.
func invitation(s *Stanza, mucServices []string) (chatapi.Invitation, bool) {
	for _, ext := range s.Message.Extensions {
		n, ok := ext.(*stanza.Node)
		if !ok || n.XMLName.Local != "x" {
			continue
		}
		switch n.XMLName.Space {
		case nsConference:
			room := nodeAttr(n, "jid")
			if room == "" {
				continue
			}
			return chatapi.Invitation{
				Type: chatapi.TypeInvitationReceived, Room: room, Inviter: s.From,
				From: s.From, To: s.To, Password: nodeAttr(n, "password"),
				Reason: nodeAttr(n, "reason"), Direct: true,
			}, true
		case nsMUCUser:
			var inv chatapi.Invitation
			found := false
			for i := range n.Nodes {
				c := &n.Nodes[i]
				switch c.XMLName.Local {
				case "invite":
					found = true
					inv.Inviter = nodeAttr(c, "from")
					for j := range c.Nodes {
						if c.Nodes[j].XMLName.Local == "reason" {
							inv.Reason = c.Nodes[j].Content
						}
					}
				case "password":
					inv.Password = c.Content
				}
			}
			if !found {
				continue
			}
			inv.Type = chatapi.TypeInvitationReceived
			inv.Room = bareJID(s.From)
			inv.From, inv.To = s.From, s.To
			if !fromRoom(s.From, mucServices) {
				inv.Inviter = s.From
			}
			return inv, true
		}
	}
	return chatapi.Invitation{}, false
}

// fromRoom reports whether from is a room's bare JID (a local part, no
// resource) on one of mucServices (lower case).
func fromRoom(from string, mucServices []string) bool {
	local, domain, ok := strings.Cut(from, "@")
	if !ok || local == "" || domain == "" || strings.ContainsRune(from, '/') {
		return false
	}
	return slices.Contains(mucServices, strings.ToLower(domain))
}

func translatePresence(s *Stanza) chatapi.Presence {
	p := s.Presence
	ptype := s.Type
	if ptype == "" {
		ptype = chatapi.PresenceAvailable
	}
	show := string(p.Show)
	if show == "" {
		show = chatapi.PresenceAvailable
	}
	ev := chatapi.Presence{
		Type:         chatapi.TypePresence,
		To:           s.To,
		From:         s.From,
		Status:       p.Status,
		Show:         show,
		PresenceType: ptype,
		Priority:     int(p.Priority),
	}
	for _, ext := range p.Extensions {
		n, ok := ext.(*stanza.Node)
		if !ok || n.XMLName.Space != nsMUCUser || n.XMLName.Local != "x" {
			continue
		}
		for i := range n.Nodes {
			switch c := &n.Nodes[i]; c.XMLName.Local {
			case "item":
				ev.Role = nodeAttr(c, "role")
				ev.Affiliation = nodeAttr(c, "affiliation")
				ev.JID = nodeAttr(c, "jid")
				if _, nick, ok := strings.Cut(s.From, "/"); ok {
					ev.Nick = nick
				}
				if r := childText(c, "reason"); r != "" {
					ev.Reason = r
				}
			case "status":
				if code := nodeAttr(c, "code"); code != "" {
					ev.Codes = append(ev.Codes, code)
				}
			case "destroy":
				ev.Destroyed = true
				ev.Alternate = nodeAttr(c, "jid")
				if r := childText(c, "reason"); r != "" {
					ev.Reason = r
				}
			}
		}
	}
	return ev
}

// pubsubEventXML is the part of a pubsub#event notification the gateway
// reads (XEP-0060 section 7.1.2, 7.2.2, 8.5, 8.4).
type pubsubEventXML struct {
	Event *struct {
		Items *struct {
			Node  string `xml:"node,attr"`
			Items []struct {
				ID    string `xml:"id,attr"`
				Inner []byte `xml:",innerxml"`
			} `xml:"item"`
			Retracts []struct {
				ID string `xml:"id,attr"`
			} `xml:"retract"`
		} `xml:"items"`
		Purge *struct {
			Node string `xml:"node,attr"`
		} `xml:"purge"`
		Delete *struct {
			Node string `xml:"node,attr"`
		} `xml:"delete"`
	} `xml:"http://jabber.org/protocol/pubsub#event event"`
}

// jsonPayload is an XEP-0335 JSON container.
type jsonPayload struct {
	JSON *struct {
		Text string `xml:",chardata"`
	} `xml:"urn:xmpp:json:0 json"`
}

// ItemContent is what a pubsub item carries, as chatapi.pubsub shows it:
// its XML (trimmed), and the JSON of an XEP-0335 container in it, if any
// (nil otherwise).
func ItemContent(inner []byte) (payload string, data json.RawMessage) {
	trimmed := bytes.TrimSpace(inner)
	var jp jsonPayload
	if xml.Unmarshal(append(append([]byte("<x>"), trimmed...), "</x>"...), &jp) == nil && jp.JSON != nil {
		if txt := strings.TrimSpace(jp.JSON.Text); json.Valid([]byte(txt)) {
			data = json.RawMessage(txt)
		}
	}
	return string(trimmed), data
}

func pubsubEvents(s *Stanza, stamp string) []chatapi.Payload {
	var ev pubsubEventXML
	if err := xml.Unmarshal(s.Raw, &ev); err != nil || ev.Event == nil {
		return nil
	}
	from := s.From
	if e := ev.Event; (e.Items != nil && mucSubEvent(e.Items.Node)) || (e.Delete != nil && mucSubEvent(e.Delete.Node)) {
		return nil // MucSub: the room itself tells the session (mucsub.go)
	}
	var out []chatapi.Payload
	switch e := ev.Event; {
	case e.Items != nil:
		for _, it := range e.Items.Items {
			p := chatapi.PubSub{Type: chatapi.TypePubSubItem, From: from, To: s.To, Node: e.Items.Node, ItemID: it.ID, Stamp: stamp}
			payload := bytes.TrimSpace(it.Inner)
			p.Payload, p.Data = ItemContent(payload)
			out = append(out, p)
			if pe := profileEvent(e.Items.Node, from, payload); pe != nil { // profile.go
				out = append(out, pe)
			}
		}
		for _, r := range e.Items.Retracts {
			out = append(out, chatapi.PubSub{Type: chatapi.TypePubSubRetract, From: from, To: s.To, Node: e.Items.Node, ItemID: r.ID, Stamp: stamp})
		}
	case e.Purge != nil:
		out = append(out, chatapi.PubSub{Type: chatapi.TypePubSubPurge, From: from, To: s.To, Node: e.Purge.Node, Stamp: stamp})
	case e.Delete != nil:
		out = append(out, chatapi.PubSub{Type: chatapi.TypePubSubDelete, From: from, To: s.To, Node: e.Delete.Node, Stamp: stamp})
	}
	return out
}

// jsonData returns the JSON carried by a message in an XEP-0335 container,
// or nil (which encodes as null, as the catalogue's data field is when
// absent).
func jsonData(m *stanza.Message) json.RawMessage {
	for _, ext := range m.Extensions {
		if n, ok := ext.(*stanza.Node); ok && n.XMLName.Space == nsJSON && n.XMLName.Local == "json" {
			if txt := strings.TrimSpace(n.Content); json.Valid([]byte(txt)) {
				return json.RawMessage(txt)
			}
		}
	}
	return nil
}

// stanzaIDBy returns the XEP-0359 stanza-id assigned by the entity by. Ids
// set by anyone else are ignored: XEP-0359 section 4 says a stanza-id is
// trustworthy only when its by is the archive the client asked.
func stanzaIDBy(s *Stanza, by string) string {
	for _, id := range s.StanzaIDs {
		if id.By == by {
			return id.ID
		}
	}
	return ""
}

func nodeAttr(n *stanza.Node, local string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == local && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

// bareJID strips the resource from a JID.
func bareJID(j string) string {
	b, _, _ := strings.Cut(j, "/")
	return b
}

// childText returns the text of n's first child named local, or "".
func childText(n *stanza.Node, local string) string {
	for i := range n.Nodes {
		if n.Nodes[i].XMLName.Local == local {
			return n.Nodes[i].Content
		}
	}
	return ""
}

// groupChat translates a room's message: a reaction set, a retraction, a
// subject (set or cleared), or a message with a body, which may correct
// or answer an earlier one; nothing for anything else.
func groupChat(s *Stanza, stamp string, sent bool, mod *modern) []chatapi.Payload {
	m := s.Message
	if r, ok := mod.reactionsOf(s, sent); ok {
		return []chatapi.Payload{r}
	}
	roomID := stanzaIDBy(s, bareJID(s.From))
	if id := mod.retraction(); id != "" {
		return []chatapi.Payload{chatapi.GroupChat{Type: chatapi.TypeGroupchat, To: s.To, From: s.From,
			ID: s.ID, StanzaID: roomID, Stamp: stamp, Retract: id}}
	}
	var subject *string
	if hasSubject(s) { // roomstate.go: an empty subject clears it
		subject = &m.Subject
	}
	if m.Body == "" && subject == nil {
		return nil
	}
	replace, replyTo := "", ""
	if mod != nil {
		replace, replyTo = mod.replace, mod.replyTo
	}
	return []chatapi.Payload{chatapi.GroupChat{
		Type:     chatapi.TypeGroupchat,
		To:       s.To,
		From:     s.From,
		Data:     jsonData(m),
		Body:     m.Body,
		ID:       s.ID,
		StanzaID: roomID,
		Stamp:    stamp,
		Subject:  subject,
		File:     fileOf(m),
		Replace:  replace,
		ReplyTo:  replyTo,
	}}
}
