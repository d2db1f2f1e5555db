package sse

import (
	"sync"
	"time"
)

// Writing through: when a stream is taken over (park.go) and waits in its
// read, the publisher writes the event to the stream's socket itself, and
// the stream's goroutine sleeps on.
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
// written through: one whose wake token is not set, that is not ended,
// has no pending bytes and has not written for throughGap (a stream
// under a steady flow of events batches them better woken).
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
// A user with several streams (tabs) has each of them written through in
// turn, from one chunk when their cursors were at the same event: a
// write costs the publisher a system call, where a wake costs the same
// write on another goroutine plus the wake's own work. Streams that
// cannot be written through are woken first, so that their goroutines
// run beside the publisher's writes. With 1,000 tabs of one user, one
// publish at a time (sparkbench -only peers, the SSE layer alone, one
// pair of runs), the last tab got the event at a p50 / p99 of 8.5 / 17.2
// ms written through against 10.1 / 20.2 woken, and the first at 0.3 ms
// against 1.1.

// throughMax bounds what a publisher writes through at once; more (a
// lazy event's backlog, say) is left to the stream's goroutine, which
// writes it in batches of maxBatch.
const throughMax = 16 << 10

// throughGap: a stream that wrote less than this long ago is woken rather
// than written through. Under a steady flow of events a woken goroutine
// takes all that arrived while it woke up in one write (3-4 events per
// write under the peers' throughput load), where a publisher writing
// through would write each event on its own: 100 tabs at 4,000 events a
// second delivered 280,000 events/s written through against 444,000
// woken. Spaced events (a chat, a room's messages, one publish at a
// time) find their streams idle for longer and are written through.
const throughGap = time.Millisecond

// through is a write through that a publisher prepared under the log's
// lock: the stream it reserved, and the chunk to write to it, (*buf)[start:],
// in a pooled buffer that several streams share when their cursors were
// at the same event (a user's tabs, most of the time); or, with wake set,
// a stream that must be woken instead.
type through struct {
	s      *subscriber
	buf    *[]byte
	start  int
	more   bool // events were left for the stream's goroutine
	shared bool // buf belongs to an earlier through of the same batch
	wake   bool
}

// claimLocked reserves the stream for a write through by the caller and
// appends to dst the frames it has not written yet. ok false means the
// stream must be woken instead. Otherwise, when frames is not empty, the
// caller holds s.wmu and must call writeThrough once s.log.mu is
// released; when it is empty, the events were all ones the stream leaves
// out (omit.go), its cursor has moved past them, wmu is released, and the
// stream needs nothing. now is the time of the publish. s.log.mu must be
// held for writing.
func (s *subscriber) claimLocked(dst [][]byte, now time.Time) (frames [][]byte, more, ok bool) {
	if s.ended || len(s.wake) > 0 || !s.wmu.TryLock() {
		return dst, false, false
	}
	// Holding wmu: the goroutine waits in its read, or has ended (and
	// cleared s.conn first), or the stream is not taken over (nil).
	p := s.conn.Load()
	if p == nil || p.fd < 0 || p.out.pending != nil || now.Sub(p.out.last) < throughGap {
		s.wmu.Unlock()
		return dst, false, false
	}
	frames, more = s.takeLocked(dst, throughMax)
	if len(frames) == 0 {
		s.wmu.Unlock()
		return frames, false, !more
	}
	return frames, more, true
}

// chunkOf copies frames into a pooled buffer as one HTTP/1.1 chunk.
func chunkOf(frames [][]byte) (buf *[]byte, start int) {
	bp := bufPool.Get().(*[]byte)
	b := (*bp)[:chunkHead]
	for _, f := range frames {
		b = append(b, f...)
	}
	*bp, start = asChunk(b, chunkHead)
	return bp, start
}

// sameFrames reports whether a and b are the same logged events: frames
// are never copied out of the log, so the same event is the same bytes.
func sameFrames(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if &a[i][0] != &b[i][0] {
			return false
		}
	}
	return true
}

// throughPool holds the batches wakeUnlock prepares for a user's streams.
var throughPool = sync.Pool{New: func() any { b := make([]through, 0, 8); return &b }}

// wakeUnlock releases l.mu and makes subs, the streams that have a new
// event, write it: written through for each stream whose goroutine waits
// in its read and has not written for throughGap (claimLocked), woken for
// the others, which an ended stream ignores. Wakes are sent before the
// writes, after the unlock, so that the woken goroutines find the log
// free and run beside the writes. now is the time of the publish. l.mu
// must be held for writing.
func wakeUnlock(l *userLog, subs []*subscriber, now time.Time) {
	// Most users have one or two streams: their batch stays on the stack.
	var ta [2]through
	ts := ta[:0]
	var bp *[]through
	if len(subs) > len(ta) {
		bp = throughPool.Get().(*[]through)
		if cap(*bp) < len(subs) { // each stream adds one at most: ts never grows
			*bp = make([]through, 0, len(subs))
		}
		ts = (*bp)[:0]
	}
	var fa, pa [4][]byte
	prev := pa[:0] // the frames of ts[owner], the last chunk made
	owner := -1
	for _, s := range subs {
		frames, more, ok := s.claimLocked(fa[:0], now)
		switch {
		case !ok:
			ts = append(ts, through{s: s, wake: true})
		case len(frames) == 0:
		case owner >= 0 && sameFrames(frames, prev):
			t := ts[owner]
			t.s, t.more, t.shared = s, more, true
			ts = append(ts, t)
		default:
			buf, start := chunkOf(frames)
			owner = len(ts)
			ts = append(ts, through{s: s, buf: buf, start: start, more: more})
			prev = append(pa[:0], frames...)
		}
	}
	l.mu.Unlock()
	for _, t := range ts {
		if t.wake {
			t.s.signal()
		}
	}
	for _, t := range ts {
		if !t.wake {
			t.s.writeThrough(t)
		}
	}
	for _, t := range ts {
		t.release()
	}
	if bp != nil {
		clear((*bp)[:len(ts)])
		if cap(*bp) <= 1<<12 {
			throughPool.Put(bp)
		}
	}
}

// release gives the chunk's buffer back to the pool, unless an earlier
// through of the batch owns it.
func (t through) release() {
	if t.buf == nil || t.shared {
		return
	}
	if cap(*t.buf) <= 2*maxBatch {
		*t.buf = (*t.buf)[:0]
		bufPool.Put(t.buf)
	}
}

// writeThrough writes the chunk once s.log.mu is released, and gives the
// stream back to its goroutine, waking it when some of the chunk or of
// the log is left to write. It does not release the chunk.
func (s *subscriber) writeThrough(t through) {
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
