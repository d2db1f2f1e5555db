package unread

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// Count is the read state of one conversation of one user.
type Count struct {
	// Peer is the conversation: the contact's or the room's bare JID.
	Peer string
	// Room is true for a group chat.
	Room bool
	// Unread is the number of messages from others since the last read.
	Unread int
	// LastRead is the id of the message the user last read up to (the id
	// of the displayed marker); empty when never read.
	LastRead string
}

// Store keeps the counts. Its methods are called from the Tracker's one
// goroutine.
type Store interface {
	// AddUnreads adds each arrival's N to its user's count for its peer,
	// creating the conversations that are new, and returns their new
	// states in the order of arrivals. No two arrivals name the same user
	// and peer. It stores all or none of them.
	AddUnreads(ctx context.Context, arrivals []Arrival) ([]Count, error)
	// MarkRead sets the user's count for peer to zero and its LastRead to
	// id, creating the conversation when new, and returns its new state
	// and whether anything changed.
	MarkRead(ctx context.Context, user, peer string, room bool, id string) (Count, bool, error)
	// Unread returns every conversation of the user, ordered by peer.
	Unread(ctx context.Context, user string) ([]Count, error)
}

// Arrival is what a batch adds to one conversation of one user: N
// messages from others.
type Arrival struct {
	User, Peer string
	Room       bool
	N          int
}

// Config configures a Tracker.
type Config struct {
	// Store keeps the counts. Required.
	Store Store
	// OnChange is told each conversation whose state a change altered,
	// from the Tracker's goroutine; it must not block. Nil: not told.
	OnChange func(user string, c Count)
	// Queue bounds the changes waiting to be stored; zero means 4096
	// (about a second of a busy gateway's messages at a few ms a write).
	Queue  int
	Logger *slog.Logger
}

// ErrClosed is returned by Read after Close.
var ErrClosed = errors.New("unread: tracker closed")

// Tracker applies changes to the counts in order. See the package doc.
type Tracker struct {
	cfg Config
	ops chan op
	// urge wakes a batch that sleeps (batch.go): a read is queued, or the
	// queue is half full. One token is enough; a stale one costs a look.
	urge chan struct{}
	quit chan struct{}
	done chan struct{}
	naps int // batch sleeps, for the tests; the goroutine's own

	mu     sync.RWMutex // held for sending on ops, and to close quit
	closed bool
}

// op is one change; done, when set, receives its result.
type op struct {
	user, peer, id string
	room, read     bool
	done           chan error
	at             time.Time // when it was queued
}

// New starts a Tracker.
func New(cfg Config) (*Tracker, error) {
	if cfg.Store == nil {
		return nil, errors.New("unread: Config.Store is nil")
	}
	if cfg.Queue <= 0 {
		cfg.Queue = 4096
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	t := &Tracker{cfg: cfg, ops: make(chan op, cfg.Queue), urge: make(chan struct{}, 1),
		quit: make(chan struct{}), done: make(chan struct{})}
	go t.run()
	return t, nil
}

// Arrived counts a message from someone else in the user's conversation
// with peer. It never blocks.
func (t *Tracker) Arrived(user, peer string, room bool) {
	t.enqueue(op{user: user, peer: peer, room: room})
}

// ReadLater is Read without waiting: for a read that arrives on a
// session's goroutine (a displayed marker from another client). It never
// blocks.
func (t *Tracker) ReadLater(user, peer string, room bool, id string) {
	t.enqueue(op{user: user, peer: peer, room: room, id: id, read: true})
}

func (t *Tracker) enqueue(o op) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.closed {
		return
	}
	o.at = time.Now()
	select {
	case t.ops <- o:
		if len(t.ops) >= cap(t.ops)/2 {
			t.wake()
		}
	default:
		t.cfg.Logger.Warn("unread: queue full, a change is lost", "user", o.user)
	}
}

// wake ends the sleep of a batch that waits for more arrivals.
func (t *Tracker) wake() {
	select {
	case t.urge <- struct{}{}:
	default:
	}
}

// Read clears the user's conversation with peer, read up to the message
// id, and returns once that is stored.
func (t *Tracker) Read(ctx context.Context, user, peer string, room bool, id string) error {
	done := make(chan error, 1)
	t.mu.RLock()
	if t.closed {
		t.mu.RUnlock()
		return ErrClosed
	}
	select {
	case t.ops <- op{user: user, peer: peer, room: room, id: id, read: true, done: done, at: time.Now()}:
		t.wake() // its caller waits: a sleeping batch ends now
		t.mu.RUnlock()
	case <-ctx.Done():
		t.mu.RUnlock()
		return ctx.Err()
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// List returns the user's conversations as stored.
func (t *Tracker) List(ctx context.Context, user string) ([]Count, error) {
	return t.cfg.Store.Unread(ctx, user)
}

// Close applies the queued changes and stops the goroutine. It is
// idempotent.
func (t *Tracker) Close() {
	t.mu.Lock()
	if !t.closed {
		t.closed = true
		close(t.quit)
	}
	t.mu.Unlock()
	<-t.done
}

func (t *Tracker) run() {
	defer close(t.done)
	b := newBatcher()
	for {
		select {
		case o := <-t.ops:
			for more := true; more; {
				o, more = t.drain(b, o, batchQuiet, batchMost)
			}
		case <-t.quit:
			for { // no sender is left (closed is set under the lock)
				select {
				case o := <-t.ops:
					t.drain(b, o, 0, 0)
				default:
					return
				}
			}
		}
	}
}

// drain applies o and the changes that follow it, arrivals in batches
// (batch.go) and reads one by one, in the order they came. The batch
// takes what is queued, then sleeps until quiet after the newest arrival
// it took, and goes on while more came meanwhile, until most has passed
// since o, maxBatch conversations or maxBatchOps changes. A read ends the
// batch after what was queued before it: its caller is waiting. A change
// queued after the batch's end, taken to see when it was queued, is
// returned (true) to start the next batch.
func (t *Tracker) drain(b *batcher, o op, quiet, most time.Duration) (op, bool) {
	w := batchWait{wait: quiet > 0 && !o.read, end: time.Now().Add(most)}
	defer w.stop()
	for n := 1; ; n++ {
		if o.read {
			t.flush(b)
			t.read(o)
			w.wait = false
		} else {
			b.add(o)
			w.last = o.at
		}
		if n == maxBatchOps || len(b.arrivals) == maxBatch {
			break
		}
		var ok, carry bool
		if o, ok, carry = t.next(&w, quiet); !ok {
			t.flush(b)
			return o, carry
		}
	}
	t.flush(b)
	return op{}, false
}

// batchWait is where a batch stands in its wait for more changes.
type batchWait struct {
	wait  bool      // false once a read has ended the wait, or for none
	last  time.Time // when the newest arrival taken was queued
	end   time.Time // the batch's bound
	timer *time.Timer
}

func (w *batchWait) stop() {
	if w.timer != nil {
		w.timer.Stop()
	}
}

// next returns the batch's next change: one queued already, or, while
// the batch may still wait, the first queued by the time quiet has passed
// since the newest arrival (or by the batch's end). It sleeps rather than
// waiting on the queue, so arrivals in the meantime do not wake it (a
// room message's copies each woke it before, the sending reader paying a
// thread wake-up per member); a read or a half-full queue does (wake).
// ok false: the batch is over; carry: with o, queued after its end, for
// the next one (so a queue that never empties still ends a batch).
func (t *Tracker) next(w *batchWait, quiet time.Duration) (o op, ok, carry bool) {
	slept := false
	for {
		select {
		case o := <-t.ops:
			if w.wait && !o.at.Before(w.end) {
				return o, false, true
			}
			return o, true, false
		default:
		}
		if !w.wait || slept {
			return op{}, false, false // nothing came in the quiet gap
		}
		d := time.Until(w.last.Add(quiet))
		if left := time.Until(w.end); left < d {
			d = left
		}
		if d <= 0 {
			return op{}, false, false
		}
		if w.timer == nil {
			w.timer = time.NewTimer(d)
		} else {
			w.timer.Reset(d)
		}
		t.naps++
		select {
		case <-w.timer.C:
			slept = true
		case <-t.urge:
		case <-t.quit:
			return op{}, false, false
		}
	}
}

// flush stores the batched arrivals and tells OnChange their new states.
func (t *Tracker) flush(b *batcher) {
	if len(b.arrivals) == 0 {
		return
	}
	counts, err := t.cfg.Store.AddUnreads(context.Background(), b.arrivals)
	if err != nil {
		t.cfg.Logger.Error("unread: store", "arrivals", len(b.arrivals), "err", err)
	} else if t.cfg.OnChange != nil {
		for i, c := range counts {
			t.cfg.OnChange(b.arrivals[i].User, c)
		}
	}
	b.reset()
}

// read applies one read and answers its waiter.
func (t *Tracker) read(o op) {
	c, changed, err := t.cfg.Store.MarkRead(context.Background(), o.user, o.peer, o.room, o.id)
	if o.done != nil {
		o.done <- err
	}
	if err != nil {
		t.cfg.Logger.Error("unread: store", "user", o.user, "err", err)
		return
	}
	if changed && t.cfg.OnChange != nil {
		t.cfg.OnChange(o.user, c)
	}
}
