package xmppconn

import "sync"

// A Conn in inline mode has no inbound queue: its reader hands each
// stanza to the owner's handler on the reader's own goroutine. A Session
// uses it so that one goroutine per user both reads the socket and runs
// the session's logic (a queue and a consumer goroutine per user cost
// about 10 KiB and a goroutine each while idle, for nothing: the handler
// never waits for the network). Until the owner hands the handler over,
// the reader keeps what it reads (up to Config.QueueSize stanzas, then it
// waits, as on a full queue), and the handover runs those first, so the
// order is the server's.
//
// The handler runs on the reader: it must not wait for an IQ reply on the
// same Conn (nobody would read it) and should not write synchronously; the
// Session writes its automatic answers with writeAsync.
type inline struct {
	mu     sync.Mutex
	h      func(*Stanza) // nil until handOff
	held   []*Stanza     // read before handOff, in order
	handed chan struct{} // closed by handOff
	ended  func(error)   // called by the reader as it exits, after handOff
	exited bool          // the reader has exited
}

// newInline is the inline state of a Conn dialled in inline mode.
func newInline() *inline { return &inline{handed: make(chan struct{})} }

// handInline gives s to the handler, or keeps it until handOff; it returns
// false when the reader must stop (the stream ends while it waits for room).
func (c *Conn) handInline(s *Stanza) bool {
	in := c.inl
	for {
		in.mu.Lock()
		if h := in.h; h != nil {
			in.mu.Unlock()
			h(s)
			return true
		}
		if len(in.held) < c.s.QueueSize {
			in.held = append(in.held, s)
			in.mu.Unlock()
			return true
		}
		in.mu.Unlock()
		if !c.waitForRoom(in.handed) {
			return false
		}
	}
}

// handOff makes h the handler of every stanza from now on, after it has
// run on those read so far, and ended the function the reader calls with
// the stream's end reason as it exits. It reports whether the reader will
// call ended; false means the stream has already ended (Err tells why)
// and the caller handles the end itself. Only the first call counts.
func (c *Conn) handOff(h func(*Stanza), ended func(error)) bool {
	in := c.inl
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.h != nil {
		return false
	}
	// Run under in.mu: the reader waits for them before its next stanza.
	for i, s := range in.held {
		h(s)
		in.held[i] = nil
	}
	in.held = nil
	in.h = h
	close(in.handed)
	if in.exited {
		return false
	}
	in.ended = ended
	return true
}

// exitInline runs as the reader exits: it tells the owner, if handed over.
func (c *Conn) exitInline() {
	in := c.inl
	in.mu.Lock()
	in.exited = true
	ended := in.ended
	in.mu.Unlock()
	if ended != nil {
		ended(c.Err())
	}
}
