package sse

import "time"

// Writing through: when a user has one stream, taken over (park.go) and
// waiting in its read, the publisher writes the event to the stream's
// socket itself, and the stream's goroutine sleeps on.
//
// Waking the goroutine for an event costs more than the write it then
// does: the publisher's poke (a read deadline in the past, a runtime
// timer change), the goroutine's wake on another thread, its yield, a new
// read deadline, and a read that finds nothing before it parks again. A
// room message is one stanza per member, each read by that member's
// reader goroutine, which publishes it: in a room of 500 that was 500
// wakes on top of 500 writes per message, and in the one-way latency one
// more hand-over between goroutines, each a wake of an idle thread on a
// 2-core machine.
//
// Who writes: the stream's goroutine holds subscriber.wmu whenever it
// runs, and lets go of it only while it waits in its read. A publisher
// that gets it (TryLock: a publisher never waits for a stream) knows that
// the goroutine is not writing and that the connection is open, since the
// goroutine closes it holding wmu. It takes the events from the stream's
// cursor under the log's lock, as the goroutine does, so every stream
// still gets the log's order. Only a stream with nothing else to do is
// written through: one whose wake token is not set, that is not ended
// and has no pending bytes.
//
// The write is one system call on the socket, which Go keeps in
// non-blocking mode: it writes what the socket buffer takes and never
// waits. What it could not write (a client that reads slowly, a full
// buffer) becomes the writer's pending bytes, and the goroutine is woken
// to write them under its write deadline before anything else. The call
// goes to the file descriptor, not through net.Conn: Conn.Write waits
// until all is written, and syscall.RawConn.Write refuses to run once the
// connection's write deadline has passed, which for a stream idle longer
// than WriteTimeout it has (the deadline is set by writes).
//
// A user with several streams (tabs) is woken as before: one publisher
// writing to each tab in turn would do serially what the tabs' goroutines
// do side by side, and would lose their batching under load.

// throughMax bounds what a publisher writes through at once; more (a
// lazy event's backlog, say) is left to the stream's goroutine, which
// writes it in batches of maxBatch.
const throughMax = 16 << 10

// through is a write through that claimLocked prepared: a chunk in a
// pooled buffer, (*buf)[start:], and whether events were left for the
// stream's goroutine. A nil buf writes nothing.
type through struct {
	buf   *[]byte
	start int
	more  bool
}

// claimLocked reserves the stream for a write through by the caller and
// takes the frames it has not written yet into a chunk. ok false means
// the stream must be woken instead. Otherwise the caller must call
// writeThrough with t once s.log.mu is released; until then it holds
// s.wmu, unless t.buf is nil: the events were all ones the stream leaves
// out (omit.go), its cursor has moved past them, and it needs nothing.
// s.log.mu must be held for writing.
func (s *subscriber) claimLocked() (t through, ok bool) {
	if s.ended || len(s.wake) > 0 || !s.wmu.TryLock() {
		return through{}, false
	}
	// Holding wmu: the goroutine waits in its read, or has ended (and
	// cleared s.conn first), or the stream is not taken over (nil).
	p := s.conn.Load()
	if p == nil || p.fd < 0 || p.out.pending != nil {
		s.wmu.Unlock()
		return through{}, false
	}
	var fa [4][]byte
	frames, more := s.takeLocked(fa[:0], throughMax)
	if len(frames) == 0 {
		s.wmu.Unlock()
		return through{}, !more
	}
	bp := bufPool.Get().(*[]byte)
	b := (*bp)[:chunkHead]
	for _, f := range frames {
		b = append(b, f...)
	}
	*bp, t.start = asChunk(b, chunkHead)
	t.buf, t.more = bp, more
	return t, true
}

// writeThrough writes the chunk claimLocked made, once s.log.mu is
// released, and gives the stream back to its goroutine, waking it when
// some of the chunk or of the log is left to write.
func (s *subscriber) writeThrough(t through) {
	if t.buf == nil {
		return
	}
	p := s.conn.Load() // unchanged while wmu is held
	b := *t.buf
	if p.out.wrote != nil {
		p.out.wrote(b[chunkHead : len(b)-2])
	}
	more := t.more
	n := rawWrite(p.fd, b[t.start:])
	if n < len(b)-t.start {
		p.out.pending = append([]byte(nil), b[t.start+n:]...)
		more = true
	}
	p.out.last = time.Now()
	if cap(b) <= 2*maxBatch {
		*t.buf = b[:0]
		bufPool.Put(t.buf)
	}
	s.wmu.Unlock()
	if more {
		s.signal()
	}
}

// flushPending writes the bytes a write through left, under the
// connection's write deadline. Called by the stream's goroutine.
func (o *writer) flushPending() error {
	if o.pending == nil {
		return nil
	}
	_, err := o.c.Write(o.pending)
	o.pending = nil
	return err
}
