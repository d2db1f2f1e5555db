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
	cfg  Config
	ops  chan op
	quit chan struct{}
	done chan struct{}

	mu     sync.RWMutex // held for sending on ops, and to close quit
	closed bool
}

// op is one change; done, when set, receives its result.
type op struct {
	user, peer, id string
	room, read     bool
	done           chan error
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
	t := &Tracker{cfg: cfg, ops: make(chan op, cfg.Queue), quit: make(chan struct{}), done: make(chan struct{})}
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
	select {
	case t.ops <- o:
	default:
		t.cfg.Logger.Warn("unread: queue full, a change is lost", "user", o.user)
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
	case t.ops <- op{user: user, peer: peer, room: room, id: id, read: true, done: done}:
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
			t.drain(b, o, batchQuiet, batchMost)
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
// takes what is queued, then waits up to quiet for each next change,
// until most has passed since o, maxBatch conversations or maxBatchOps
// changes. A read ends the wait: its caller is waiting.
func (t *Tracker) drain(b *batcher, o op, quiet, most time.Duration) {
	wait := quiet > 0 && !o.read
	end := time.Now().Add(most)
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for n := 1; ; n++ {
		if o.read {
			t.flush(b)
			t.read(o)
			wait = false
		} else {
			b.add(o)
		}
		if n == maxBatchOps || len(b.arrivals) == maxBatch {
			break
		}
		left := time.Until(end)
		// What is queued already joins the batch while it may grow (a
		// select would pick an expired timer half the time).
		if left > 0 || !wait {
			select {
			case o = <-t.ops:
				continue
			default:
			}
		}
		if !wait || left <= 0 {
			break
		}
		d := min(quiet, left)
		if timer == nil {
			timer = time.NewTimer(d)
		} else {
			timer.Reset(d)
		}
		select {
		case o = <-t.ops:
			continue
		case <-timer.C:
		case <-t.quit:
		}
		break
	}
	t.flush(b)
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
