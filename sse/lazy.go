package sse

import (
	"slices"
	"time"
)

// Lazy events (Config.Lazy) do not wake a stream: they are logged as any
// event and written with the stream's next write, or by a timer
// Config.LazyDelay after the first of them that is still waiting.
//
// Why: a stream write is one system call per stream per wake (on
// loopback, the receiver's TCP input runs inside it), and it is most of
// what an event costs the gateway. Some events are a summary of others
// that the user's streams get anyway: the gateway's chatapi.unread
// follows each room message to each member some milliseconds later
// (after its count is stored). Written on their own, they double the
// writes of a busy room's fan-out, and those of the first members compete
// with the message still on its way to the last ones. Lazy, they ride
// along with the next message, or arrive a moment later on a quiet
// stream.
//
// The order of events is unchanged: a lazy event is written before every
// event logged after it. Resuming and the log's limits treat it as any
// other.

// defaultLazyDelay is how long a lazy event waits for company at most:
// under a tenth of a second, a badge that follows a message is not seen
// to lag it, and a room posting faster than ten messages a second has its
// counts ride along with its messages.
const defaultLazyDelay = 100 * time.Millisecond

// lazyNames returns Config.Lazy as a set of cleaned names.
func lazyNames(names []string) map[string]bool {
	if len(names) == 0 {
		return nil
	}
	set := make(map[string]bool, len(names))
	for _, n := range names {
		if n = cleanName(n); n != "" {
			set[n] = true
		}
	}
	return set
}

// toWakeLocked returns the streams to signal, once l.mu is released, for
// an event named name just logged: all of them but those that leave it
// out (omit.go), none when it is lazy; the streams it does not return
// have their lazy timers armed instead. l.mu must be held for writing.
//
// An event no stream writes waits as a lazy one does, so that the streams'
// cursors move past it within LazyDelay. Woken at once, a stream wrote
// what else was waiting with nothing of its own: the gateway logs a
// stanza's raw XML just before its translation, and a member's waiting
// unread count went out alone, the message a moment later in a write of
// its own (a room of 500: 1.57 writes per member per message).
//
// When only some of the user's streams leave the event out (a tab that
// asked for raw XML beside tabs that did not), the others are woken and
// these wait as for a lazy event.
func (h *Hub) toWakeLocked(l *userLog, name string) []*subscriber {
	lazy := h.lazy[name]
	if !lazy && !someOmit(l.subs, name) {
		return l.subs
	}
	var wake []*subscriber
	for _, s := range l.subs {
		if lazy || slices.Contains(s.omit, name) {
			s.armLazyLocked(h.cfg.LazyDelay)
		} else {
			wake = append(wake, s)
		}
	}
	return wake
}

// armLazyLocked makes sure the stream writes within d what it has not
// written. The timer is made once per stream and re-armed after each
// write that disarmed it; it runs lazyDue. s.log.mu must be held for
// writing.
func (s *subscriber) armLazyLocked(d time.Duration) {
	if s.ended || s.lazyArmed {
		return
	}
	s.lazyArmed = true
	if s.lazyTimer == nil {
		s.lazyTimer = time.AfterFunc(d, s.lazyDue)
		return
	}
	s.lazyTimer.Reset(d)
}

// disarmLazyLocked stops the timer once the stream has taken every logged
// event: the lazy ones went with that write. s.log.mu must be held (for
// reading by the stream's own goroutine, as for s.next).
func (s *subscriber) disarmLazyLocked() {
	if s.lazyArmed {
		s.lazyArmed = false
		s.lazyTimer.Stop()
	}
}

// lazyDue writes what a stream has waiting when a lazy event has waited
// LazyDelay: through, when the stream is idle (through.go), or by
// waking it, which an ended stream ignores. In a busy
// room's pauses, these writes are one per member per message.
func (s *subscriber) lazyDue() {
	l := s.log
	l.mu.Lock()
	one := [1]*subscriber{s}
	wakeUnlock(l, one[:], time.Now())
}

// someOmit reports whether any of subs leaves out the event name.
func someOmit(subs []*subscriber, name string) bool {
	for _, s := range subs {
		if slices.Contains(s.omit, name) {
			return true
		}
	}
	return false
}
