package xmppconn

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"

	"github.com/sparkgate/sparkgate/chatapi"
)

// nsBlocking is XEP-0191's namespace (blocking command).
const nsBlocking = "urn:xmpp:blocking"

// blockItem is an <item jid='…'/> of a block, an unblock or a blocklist.
type blockItem struct {
	JID string `xml:"jid,attr"`
}

type blocklistXML struct {
	List *struct {
		Items []blockItem `xml:"item"`
	} `xml:"urn:xmpp:blocking blocklist"`
}

// Blocklist fetches the JIDs the user blocks (XEP-0191 section 3.2), in
// the server's order. ErrServiceUnavailable (or ErrFeatureNotImplemented)
// means the server does not offer blocking.
func (s *Session) Blocklist(ctx context.Context) ([]string, error) {
	reply, err := s.iqGet(ctx, "", &iqPayload{XMLName: xml.Name{Space: nsBlocking, Local: "blocklist"}})
	if err != nil {
		return nil, err
	}
	var x blocklistXML
	if err := xml.Unmarshal(reply.Raw, &x); err != nil || x.List == nil {
		return nil, fmt.Errorf("%w: no blocklist in the reply", ErrProtocol)
	}
	out := make([]string, 0, len(x.List.Items))
	for _, it := range x.List.Items {
		if it.JID != "" {
			out = append(out, it.JID)
		}
	}
	return out, nil
}

// Block adds jids to the user's blocklist (XEP-0191 section 3.3): the
// server then drops their stanzas to the user and the user's presence to
// them. Every client of the account hears of it as a block push
// (chatapi.blocklist). jids must not be empty.
func (s *Session) Block(ctx context.Context, jids ...string) error {
	return s.blockCommand(ctx, "block", jids)
}

// Unblock takes jids off the user's blocklist (XEP-0191 section 3.4); a
// JID that is not blocked is no error. jids must not be empty: an unblock
// without items would unblock everyone (section 3.5), which this verb
// never does by accident.
func (s *Session) Unblock(ctx context.Context, jids ...string) error {
	return s.blockCommand(ctx, "unblock", jids)
}

func (s *Session) blockCommand(ctx context.Context, verb string, jids []string) error {
	if len(jids) == 0 {
		return fmt.Errorf("%w: %s names no JID", ErrInvalidStanza, verb)
	}
	var b bytes.Buffer
	enc := xml.NewEncoder(&b)
	for _, j := range jids {
		if err := enc.EncodeElement(blockItem{JID: j}, xml.StartElement{Name: xml.Name{Local: "item"}}); err != nil {
			return err
		}
	}
	if err := enc.Flush(); err != nil {
		return err
	}
	_, err := s.iqSet(ctx, "", &iqPayload{XMLName: xml.Name{Space: nsBlocking, Local: verb}, Inner: b.Bytes()})
	return err
}

// isBlockPush reports whether an IQ set's payload is a XEP-0191 block or
// unblock push (section 3.3, 3.4).
func isBlockPush(typ string, payload xml.Name) bool {
	return typ == "set" && payload.Space == nsBlocking && (payload.Local == "block" || payload.Local == "unblock")
}

type blockPushXML struct {
	Block *struct {
		Items []blockItem `xml:"item"`
	} `xml:"urn:xmpp:blocking block"`
	Unblock *struct {
		Items []blockItem `xml:"item"`
	} `xml:"urn:xmpp:blocking unblock"`
}

// translateBlockPush reads a XEP-0191 block or unblock push: an IQ set
// from the user's own account (or from no one). ok is false for anything
// else, a push from another entity included (section 3.3: only the
// user's server pushes). An unblock without items unblocked everyone.
func translateBlockPush(s *Stanza, self string) (ev chatapi.Blocklist, ok bool) {
	if s.Type != "set" || (s.From != "" && s.From != self) {
		return ev, false
	}
	var x blockPushXML
	if err := xml.Unmarshal(s.Raw, &x); err != nil {
		return ev, false
	}
	var items []blockItem
	switch {
	case x.Block != nil && x.Unblock == nil:
		ev.Action, items = chatapi.BlocklistBlock, x.Block.Items
		if len(items) == 0 {
			return ev, false // a block of nothing means nothing
		}
	case x.Unblock != nil && x.Block == nil:
		ev.Action, items = chatapi.BlocklistUnblock, x.Unblock.Items
	default:
		return ev, false
	}
	ev.JIDs = make([]string, 0, len(items))
	for _, it := range items {
		if it.JID != "" {
			ev.JIDs = append(ev.JIDs, it.JID)
		}
	}
	return ev, true
}
