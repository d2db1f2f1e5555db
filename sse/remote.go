package sse

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrUnavailable is returned (wrapped) by ServeStream, before any header is
// written, when a resume needs the Remote log and it does not answer: the
// caller answers 503 and the client retries.
var ErrUnavailable = errors.New("sse: event log unavailable")

// remoteTimeout bounds a Remote replay made while a stream opens; it holds
// the user's log lock (never the hub's), so the user's own events wait for
// it, no one else's.
const remoteTimeout = 5 * time.Second

// Remote is a user's event log kept outside the hub (JetStream, say), so
// that event ids survive a gateway restart and a stream on another node can
// replay what it missed. With Config.Remote nil the hub keeps events in its
// memory only, as the package documentation describes.
//
// With a Remote, the hub's memory is a cache of the newest events: ids are
// "<Gen>-<seq>" where seq is the user's event number in the Remote log,
// given to [Hub.PublishSeq] by whoever appended the event there, and a
// resume after an id the memory no longer (or not yet) holds is served by
// Replay. A resume after an id older than what Replay still has gets the
// reset event, as without a Remote.
//
// Implementations must be safe for concurrent use.
type Remote interface {
	// Gen identifies the log (the first part of every id); it must stay the
	// same across restarts of the gateway and be the same on every node.
	Gen() uint64
	// Replay calls fn, oldest first, for each kept event of user whose seq
	// is after after, and returns the seqs of the oldest and newest kept
	// events (first > last, or both 0, when none is kept).
	Replay(ctx context.Context, user string, after uint64, fn func(seq uint64, name string, data []byte)) (first, last uint64, err error)
}

// PublishSeq is Publish for an event that already has its seq in the
// Remote log (see [Remote]): the hub's memory takes the event at that seq.
// An event at or below the newest seq already held is a duplicate and is
// dropped (returning 0); an event past a gap (events this node never saw)
// first drops the events held, and ends as slow every stream that had not
// written up to the gap: it resumes from the Remote log.
func (h *Hub) PublishSeq(user, name string, data []byte, seq uint64) (live int) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return 0
	}
	l := h.logLocked(user)
	l.mu.Lock()
	h.mu.Unlock()
	if seq <= l.last {
		l.mu.Unlock()
		return 0
	}
	if seq > l.last+1 {
		l.jumpLocked(seq - 1)
	}
	name = cleanName(name)
	now := time.Now()
	live = l.appendLocked(&h.cfg, name, data, now)
	wakeUnlock(l, h.toWakeLocked(l, name), now)
	return live
}

// jumpLocked drops the kept events and makes last the newest seq, ending as
// slow every stream that had not written all events up to last. A log that
// had no event yet (last 0: this node just learnt of the user) only moves
// its streams' cursors: they asked for live events, not for a position.
// l.mu must be held for writing.
func (l *userLog) jumpLocked(last uint64) {
	fresh := l.last == 0
	l.ring = ring{}
	l.bytes = 0
	l.last = last
	for _, s := range l.subs {
		switch {
		case s.ended || s.next > last:
		case fresh:
			s.next = last + 1
		default:
			l.endSlowLocked(s)
		}
	}
	if l.acked < last {
		l.acked = last
	}
}

// replayRemoteLocked returns the frames of the events after seq after that
// the memory lacks, from the Remote log, and whether after is older than
// what it keeps. When the Remote log is ahead of the memory (a new gateway,
// or events this node missed), the memory jumps to its newest seq and every
// event after after comes from the Remote log. l.mu must be held for
// writing.
func (h *Hub) replayRemoteLocked(ctx context.Context, l *userLog, user string, after uint64) (frames [][]byte, expired bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
	defer cancel()
	type ev struct {
		seq   uint64
		frame []byte
	}
	var evs []ev
	var idb [maxIDLen]byte
	first, last, err := h.cfg.Remote.Replay(ctx, user, after, func(seq uint64, name string, data []byte) {
		id := appendID(idb[:0], l.gen, seq)
		name = cleanName(name)
		evs = append(evs, ev{seq, appendFrame(make([]byte, 0, frameSize(len(id), name, data)), id, name, data)})
	})
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	localFirst := l.firstLocked()
	if last > l.last {
		l.jumpLocked(last)
		localFirst = last + 1
	}
	switch {
	case first == 0 || first > last: // none kept: expired if some came after
		return nil, after < last, nil
	case after+1 < first:
		return nil, true, nil
	}
	for _, e := range evs {
		if e.seq > after && e.seq < localFirst {
			frames = append(frames, e.frame)
		}
	}
	return frames, false, nil
}
