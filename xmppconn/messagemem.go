package xmppconn

import (
	"encoding/xml"

	"gosrc.io/xmpp/stanza"
)

// messageMem is the memory of one decoded message: its Stanza, its
// stanza.Message and room for what a chat message as ejabberd delivers it
// carries besides (two or three extensions, one XEP-0359 stanza-id). One
// allocation instead of four: allocations were most of the read path's
// cost (BenchmarkEventPath/read).
//
// The parts are only reachable through the pointers and slices of the
// Stanza, as if allocated one by one; the cost is that any one of them
// kept keeps the whole block (about 570 bytes) alive. Three extensions,
// not four: with the allocator's 8-byte header for a large object with
// pointers, the block just fits the 576-byte size class.
type messageMem struct {
	st   Stanza
	msg  stanza.Message
	exts [3]stanza.MsgExtension
	ids  [1]StanzaID
}

// newMessageStanza returns a Stanza whose Message has name and attrs, with
// room for extensions and stanza ids in the same allocation. Its decoder
// must call trimMessage when done.
func newMessageStanza(name xml.Name, attrs stanza.Attrs) *Stanza {
	mem := new(messageMem)
	s := &mem.st
	s.Message = &mem.msg
	mem.msg.XMLName, mem.msg.Attrs = name, attrs
	mem.msg.Extensions = mem.exts[:0]
	s.StanzaIDs = mem.ids[:0]
	return s
}

// trimMessage leaves nil the slices of s that decoding did not use, as
// they are in a message without extensions or stanza ids decoded any other
// way.
func trimMessage(s *Stanza) {
	if len(s.StanzaIDs) == 0 {
		s.StanzaIDs = nil
	}
	if len(s.Message.Extensions) == 0 {
		s.Message.Extensions = nil
	}
}
