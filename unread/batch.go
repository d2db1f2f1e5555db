package unread

import "time"

// Arrivals are stored in batches. A room message is one arrival per
// member, queued as each member's session reads its copy; stored one by
// one, each was a statement of its own (about 0.1 ms of CPU each on
// SQLite: 50 ms for a room of 500, on the cores the members' events
// need). The tracker takes an arrival, then those that follow it while
// they keep coming, and stores the arrivals between two reads together,
// those of one conversation added up: OnChange hears the state after the
// batch, not each step to it. A read ends the batch before it, so it
// still applies after every arrival queued earlier, and ends the wait,
// since its caller waits for it.
//
// A batch ends when no arrival came for batchQuiet, so a room message's
// copies, which reach the members' sessions over 20 to 50 ms, are stored
// once they are all in, not in slices while the members' events still
// need the cores. In a busy room the next message's copies follow within
// the quiet gap and join the same batch, where each member's entry adds
// them up: batchMost bounds that wait, so a busy room costs one upsert per
// member per batchMost, whatever its message rate.
//
// While a batch waits it sleeps until batchQuiet after the newest arrival
// it has taken (each is stamped as it is queued), then takes what came
// meanwhile; the arrivals do not wake it. Waiting on the queue instead
// woke the tracker's goroutine once per arrival, and the session that
// queued it paid for the wake-up (a thread woken on the other core)
// before it could publish the member's event. A read wakes it, since its
// caller waits, and so does a queue half full.

// batchQuiet is the gap in arrivals that ends a batch: a lone message's
// count is stored this much after it arrives.
const batchQuiet = 10 * time.Millisecond

// batchMost bounds a batch's wait from its first arrival: a count shows
// at most this much late (plus the lazy delivery of chatapi.unread).
const batchMost = 100 * time.Millisecond

// maxBatch bounds the conversations of one batch: a batch is one
// statement per store chunk and one OnChange per conversation, and a
// bigger one would hold back the reads queued behind it.
const maxBatch = 1024

// maxBatchOps bounds the changes one drain takes, however few
// conversations they touch, so a queue that never empties still ends a
// batch.
const maxBatchOps = 16 * maxBatch

// batcher gathers arrivals, one entry per conversation, in first-arrival
// order.
type batcher struct {
	arrivals []Arrival
	index    map[[2]string]int // user, peer → index in arrivals
}

func newBatcher() *batcher { return &batcher{index: map[[2]string]int{}} }

func (b *batcher) add(o op) {
	k := [2]string{o.user, o.peer}
	if i, ok := b.index[k]; ok {
		b.arrivals[i].N++
		b.arrivals[i].Room = o.room
		return
	}
	b.index[k] = len(b.arrivals)
	b.arrivals = append(b.arrivals, Arrival{User: o.user, Peer: o.peer, Room: o.room, N: 1})
}

// reset empties b for the next batch, keeping its memory only when small
// (a burst's 1,024 entries need not stay).
func (b *batcher) reset() {
	if cap(b.arrivals) > 64 {
		b.arrivals = nil
		b.index = map[[2]string]int{}
		return
	}
	b.arrivals = b.arrivals[:0]
	clear(b.index)
}
