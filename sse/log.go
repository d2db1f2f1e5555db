package sse

import (
	"sync"
	"time"
)

// entry is one logged event, already encoded as an SSE frame.
type entry struct {
	at    int64 // when it was logged, in Unix nanoseconds (a time.Time is three words; a step of the wall clock moves LogAge by as much)
	frame []byte
}

// ring is a FIFO of entries that grows on demand up to its limit. It
// starts small: most users' logs hold a handful of events (an idle user's,
// a presence or two), and each user has one.
type ring struct {
	buf  []entry
	head int
	n    int
}

func (r *ring) at(i int) *entry { return &r.buf[(r.head+i)%len(r.buf)] }

// push appends e; the caller keeps r.n below limit (by popping) first.
func (r *ring) push(e entry, limit int) {
	if r.n == len(r.buf) {
		size := min(max(2*len(r.buf), 2), limit)
		buf := make([]entry, size)
		for i := 0; i < r.n; i++ {
			buf[i] = *r.at(i)
		}
		r.buf, r.head = buf, 0
	}
	r.buf[(r.head+r.n)%len(r.buf)] = e
	r.n++
}

func (r *ring) pop() entry {
	e := r.buf[r.head]
	r.buf[r.head] = entry{}
	r.head = (r.head + 1) % len(r.buf)
	r.n--
	return e
}

// userLog is one user's event log and the user's open streams.
type userLog struct {
	gen uint64 // identifies this log in event ids; fixed

	// mu is held for writing to change the log or the set of streams, and
	// for reading by a stream copying frames out of the log.
	mu    sync.RWMutex
	ring  ring          // guarded by mu; the kept events, oldest first
	bytes int           // guarded by mu; encoded size of the kept events
	last  uint64        // guarded by mu; seq of the newest event, 0 if none
	acked uint64        // guarded by mu; newest seq that reached a stream
	subs  []*subscriber // guarded by mu; replaced, never changed in place, so a copy can be read without mu
}

func newUserLog(gen uint64) *userLog {
	return &userLog{gen: gen}
}

// addLocked adds a stream. l.mu must be held for writing.
func (l *userLog) addLocked(s *subscriber) {
	subs := make([]*subscriber, len(l.subs), len(l.subs)+1)
	copy(subs, l.subs)
	l.subs = append(subs, s)
}

// removeLocked removes a stream. l.mu must be held for writing.
func (l *userLog) removeLocked(s *subscriber) {
	for i, x := range l.subs {
		if x == s {
			subs := make([]*subscriber, 0, len(l.subs)-1)
			subs = append(subs, l.subs[:i]...)
			l.subs = append(subs, l.subs[i+1:]...)
			return
		}
	}
}

// first returns the seq of the oldest kept event; first > last when none is
// kept. l.mu must be held.
func (l *userLog) firstLocked() uint64 { return l.last - uint64(l.ring.n) + 1 }

// appendLocked logs an event and returns how many streams will write it;
// the caller wakes them. A stream that falls more than cfg.QueueEvents
// events behind, or whose next event the log has to drop, is ended as
// slow. l.mu must be held for writing.
func (l *userLog) appendLocked(cfg *Config, name string, data []byte, now time.Time) int {
	l.last++
	var idb [maxIDLen]byte
	id := appendID(idb[:0], l.gen, l.last)
	frame := appendFrame(make([]byte, 0, frameSize(len(id), name, data)), id, name, data)

	for l.ring.n >= cfg.LogEvents {
		l.bytes -= len(l.ring.pop().frame)
	}
	l.ring.push(entry{at: now.UnixNano(), frame: frame}, cfg.LogEvents)
	l.bytes += len(frame)
	for _, s := range l.subs {
		if !s.ended {
			l.acked = l.last // lowered again below for a stream ended as slow
			break
		}
	}
	l.trimLocked(cfg, now)

	live := 0
	for _, s := range l.subs {
		if s.ended {
			continue
		}
		if cfg.QueueEvents > 0 && l.last-s.next >= uint64(cfg.QueueEvents) {
			l.endSlowLocked(s)
			continue
		}
		live++
	}
	return live
}

// endSlowLocked ends a stream that fell behind. l.mu must be held for
// writing.
func (l *userLog) endSlowLocked(s *subscriber) {
	s.endLocked(ReasonSlow, true)
	if s.next <= l.acked {
		// Its tab may come back without a Last-Event-ID (it saw none of
		// the events it missed): they must still count as not received.
		l.acked = s.next - 1
	}
}

// trimLocked drops the oldest events beyond the byte and age limits, and
// ends as slow every stream that had not yet written one of the events
// dropped here or before. l.mu must be held for writing.
func (l *userLog) trimLocked(cfg *Config, now time.Time) {
	for l.ring.n > 0 {
		e := l.ring.at(0)
		if l.bytes <= cfg.LogBytes && (cfg.LogAge < 0 || time.Duration(now.UnixNano()-e.at) <= cfg.LogAge) {
			break
		}
		l.bytes -= len(l.ring.pop().frame)
	}
	first := l.firstLocked()
	for _, s := range l.subs {
		if !s.ended && s.next < first {
			l.endSlowLocked(s)
		}
	}
}

// sinceLocked returns the frames of the events after seq after (all kept ones
// when after is below them). l.mu must be held.
func (l *userLog) sinceLocked(after uint64) [][]byte {
	first := l.firstLocked()
	if after < first-1 {
		after = first - 1
	}
	n := int(l.last - after)
	if n <= 0 {
		return nil
	}
	out := make([][]byte, n)
	skip := l.ring.n - n
	for i := range out {
		out[i] = l.ring.at(skip + i).frame
	}
	return out
}
