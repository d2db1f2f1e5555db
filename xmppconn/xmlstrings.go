package xmppconn

// The strings of one top-level element.
//
// A chat message as ejabberd delivers it carries a dozen strings the
// tokenizer cannot take from its name table (addresses, ids, the body): one
// allocation each, or one per start tag, was a quarter of the read path's
// allocations (BenchmarkEventPath/read). The tokenizer cuts them instead
// from a chunk of a few hundred bytes that the element's strings share.
//
// The chunk is a strings.Builder: String hands out the bytes written so far
// as a string without copying them, and later writes append after them, so
// a string handed out is never written again (strings.Builder's contract,
// not a trick of ours). The tokenizer starts a new chunk for every
// top-level element (between), so the strings of a stanza that escapes to
// other goroutines share their chunk with no later stanza.
//
// The cost: a string kept alone keeps its chunk alive (at most strChunk
// bytes, the rest of its stanza's short strings).

// strChunk is the size of a chunk: a chat message's strings fill about
// 200 bytes.
const strChunk = 256

// str returns p as a string, cut from the current chunk when it fits.
// A string longer than half a chunk gets an allocation of its own, so that
// a long body neither wastes a chunk's rest nor grows chunks.
func (t *tokenizer) str(p []byte) string {
	if len(p) == 0 {
		return ""
	}
	b := &t.strs
	if b.Cap()-b.Len() < len(p) {
		if len(p) > strChunk/2 {
			return string(p)
		}
		b.Reset()
		b.Grow(strChunk)
	}
	n := b.Len()
	b.Write(p)
	return b.String()[n:]
}

// newChunk makes the next str start a new chunk: no string of the next
// top-level element shares memory with those of the last one.
func (t *tokenizer) newChunk() { t.strs.Reset() }
