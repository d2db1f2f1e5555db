package xmppconn

// The attribute slices of start tags.
//
// The tokenizer cuts the attribute slices of its start tags from an arena
// of arenaChunk attributes, so that the tags of a stanza share one
// allocation. The arena is reused for the next top-level element: a new
// arena per stanza was the read path's largest allocation (about 900
// bytes of the 2.3 KiB of a chat message, BenchmarkEventPath/read).
//
// # Contract
//
// A start tag's attr slice stays valid until the end of the top-level
// element it belongs to (tokenizer.between); then a later element's
// attributes overwrite it. Its capacity is cut, so an append never writes
// into the arena. Whatever keeps attributes past the element must copy
// them: decodeNode (a *stanza.Node's Attrs is part of its Stanza, which
// escapes to other goroutines), decodeReflect (encoding/xml hands the
// start tag to UnmarshalXML methods that may keep it), the stream header
// and elemReader.next's caller (element.attr is only valid until the next
// call of next). TestReaderKeepsStanzas holds the decoded stanzas to it.
//
// An idle connection holds no arena: the reader gives it back to
// arenaPool before it waits for input (elemReader.waitInput), cleared so
// that it keeps no stanza's strings alive, and takes one again for the
// next stanza. Dropped instead, it was allocated anew for every stanza
// after a pause: each member of a room, between two posts, is such a
// connection.

import (
	"encoding/xml"
	"sync"
)

// arenaChunk is the number of attributes an arena allocation holds: a
// chat message as ejabberd delivers it has a dozen.
const arenaChunk = 16

// arenaPool holds the arenas of idle connections.
var arenaPool = sync.Pool{New: func() any { return new([arenaChunk]xml.Attr) }}

// attrs returns a slice of n attributes, valid until the end of the
// current top-level element.
func (t *tokenizer) attrs(n int) []xml.Attr {
	if cap(t.arena)-len(t.arena) < n {
		if t.arena == nil && n <= arenaChunk {
			t.arena = arenaPool.Get().(*[arenaChunk]xml.Attr)[:0]
		} else {
			t.arena = make([]xml.Attr, 0, max(n, arenaChunk))
		}
	}
	i := len(t.arena)
	t.arena = t.arena[:i+n]
	return t.arena[i : i+n : i+n]
}

// reuseAttrs makes the arena's room free again at the end of a top-level
// element. (Attributes of earlier chunks, when an element needed more than
// one, are left to the garbage collector.)
func (t *tokenizer) reuseAttrs() { t.arena = t.arena[:0] }

// dropAttrs lets go of the arena while the connection is idle: one of
// arenaChunk attributes goes back to arenaPool, cleared.
func (t *tokenizer) dropAttrs() {
	if cap(t.arena) == arenaChunk {
		a := (*[arenaChunk]xml.Attr)(t.arena[:arenaChunk])
		clear(a[:])
		arenaPool.Put(a)
	}
	t.arena = nil
}
