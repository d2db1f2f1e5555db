// Package lease decides which gateway node owns a user: the one that holds
// the user's lease, a key in a NATS JetStream key-value bucket.
//
// # Taking and keeping a lease
//
// Acquire creates the user's key (KV Create: only when it is absent or
// deleted), its value naming this node. The bucket's TTL (its stream's
// MaxAge, with history 1) removes a key that nobody renewed for TTL, so a
// dead owner's lease frees itself. The holder renews about every TTL/3
// (less up to a tenth, at random, so that leases taken together do not
// renew together for ever) with Update at the revision it last wrote
// (compare-and-set): a renewal that finds another revision means another
// node took the key, and the lease is lost at once. A renewal that fails
// is retried until the lease's deadline — the time of the last successful
// renewal's request plus TTL, less a margin — and then the lease is lost:
// before that deadline no other node can have created the key, since the
// server ages the key from a later instant.
//
// # Renewing under load
//
// The next renewal is due a period after the last one's request was
// sent, not after its answer came: a slow answer does not push the
// following renewals later, nearer their deadlines. Each attempt waits
// at most TTL/4 for NATS's answer, then the next one starts TTL/20 later:
// an answer lost (a starved process, a JetStream busy writing) costs one
// attempt, not the whole time left before the deadline, while a slow one
// still has the time to come. An attempt whose write went through although its
// answer did not finds the key at a later revision holding this holder's
// own value, and adopts it. Stats tells how late the renewals were, how
// many attempts were retried and how many leases were lost. So two nodes never both believe they hold a user's lease;
// the appends of a node that acted on a stale belief anyway are refused by
// the event log's fence (package natslog).
//
// # Revisions
//
// Revision is the key's last revision written by this holder. It grows with
// each renewal and with each new holder, so it orders owners.
//
// # Goroutines
//
// A held Lease runs one goroutine, which renews it; it ends when the lease
// is lost or released. Release waits for it.
package lease

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Errors of the leases.
var (
	// ErrHeld is returned (wrapped in a *HeldError) by Acquire when
	// another holder has the user's lease.
	ErrHeld = errors.New("lease: held by another node")
	// ErrLost is the cause given when a lease is lost: another node took
	// the key, or NATS could not be reached until the lease's deadline.
	ErrLost = errors.New("lease: lost")
	// ErrUnavailable wraps every failure to reach NATS.
	ErrUnavailable = errors.New("lease: NATS unavailable")
)

// HeldError says who holds a lease Acquire could not take.
type HeldError struct {
	User string
	Node string // the holder's node id
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("lease: %s is held by node %s", e.User, e.Node)
}

// Unwrap makes errors.Is(err, ErrHeld) true.
func (e *HeldError) Unwrap() error { return ErrHeld }

// Config configures Leases. The zero value of a field selects its default.
type Config struct {
	// Bucket is the key-value bucket's name. Empty means "sg_owner".
	Bucket string
	// TTL is how long a lease outlives its last renewal. Zero means 10 s.
	// The bucket is made with it; Open updates an existing bucket's TTL.
	TTL time.Duration
	// Node is this node's id, in each lease it holds. Empty means NewNode().
	Node string
}

// Leases takes and renews users' leases for one node. Its methods are safe
// for concurrent use.
type Leases struct {
	cfg Config
	nc  *nats.Conn
	kv  jetstream.KeyValue

	mu    sync.Mutex
	stats Stats
}

// Stats tells how the renewals of a node's leases went since Open.
type Stats struct {
	Renewals int64 // renewals written
	Retries  int64 // attempts that failed and were tried again
	Lost     int64 // leases lost: taken over, expired, or not renewed before their deadline
	// MaxLate is the most a renewal was written after it was due (the
	// time its retries and a late timer took); MinLeft the least time a
	// lease still had before its deadline when a renewal was written.
	MaxLate, MinLeft time.Duration
}

// Stats returns how the renewals went since Open.
func (ls *Leases) Stats() Stats {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return ls.stats
}

// renewed counts a renewal written late after it was due, left before the
// lease's deadline.
func (ls *Leases) renewed(late, left time.Duration) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	st := &ls.stats
	if st.Renewals == 0 || left < st.MinLeft {
		st.MinLeft = left
	}
	st.Renewals++
	st.MaxLate = max(st.MaxLate, late)
}

func (ls *Leases) count(f func(*Stats)) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	f(&ls.stats)
}

// NewNode returns a node id unique to this process: host name, process id
// and random bits (a restarted process on the same host is another node).
func NewNode() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "node"
	}
	var b [4]byte
	rand.Read(b[:])
	return host + "-" + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(b[:])
}

// Open creates the bucket if it does not exist (or updates its TTL) and
// returns the node's leases. nc stays the caller's: Open does not close it.
// nc should be made with nats.ReconnectBufSize(-1): a renewal made while
// NATS is unreachable then fails at once instead of arriving late.
func Open(ctx context.Context, nc *nats.Conn, cfg Config) (*Leases, error) {
	if cfg.Bucket == "" {
		cfg.Bucket = "sg_owner"
	}
	if cfg.TTL == 0 {
		cfg.TTL = 10 * time.Second
	}
	if cfg.TTL < 300*time.Millisecond {
		return nil, fmt.Errorf("lease: TTL %v is under 300ms", cfg.TTL)
	}
	if cfg.Node == "" {
		cfg.Node = NewNode()
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("lease: %w", err)
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:  cfg.Bucket,
		TTL:     cfg.TTL,
		History: 1,
		Storage: jetstream.FileStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: bucket %s: %w", ErrUnavailable, cfg.Bucket, err)
	}
	return &Leases{cfg: cfg, nc: nc, kv: kv}, nil
}

// Node returns this node's id.
func (ls *Leases) Node() string { return ls.cfg.Node }

// TTL returns the leases' time to live.
func (ls *Leases) TTL() time.Duration { return ls.cfg.TTL }

// key returns user's key: the hex of the bare JID, since a key may not
// hold '@' and a JID may hold much more.
func key(user string) string { return hex.EncodeToString([]byte(user)) }

// value is what a lease's key holds.
type value struct {
	Node  string `json:"node"`
	Token string `json:"token"` // unique per Acquire: tells our own write apart
}

// Holder returns the node id that holds user's lease, or "" when nobody
// does.
func (ls *Leases) Holder(ctx context.Context, user string) (string, error) {
	e, err := ls.kv.Get(ctx, key(user))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("%w: holder: %w", ErrUnavailable, err)
	}
	var v value
	if err := json.Unmarshal(e.Value(), &v); err != nil {
		return "", fmt.Errorf("lease: %s: bad value: %w", user, err)
	}
	return v.Node, nil
}

// Acquire takes user's lease when it is free (never taken, released, or
// expired) and starts renewing it. It returns a *HeldError when another
// holder has it — this node included: a node keeps one Lease per user.
// onLost, when not nil, is called once, from the lease's goroutine, when
// the lease is lost; it may call Release. A Release that returned before
// the loss means onLost is never called.
func (ls *Leases) Acquire(ctx context.Context, user string, onLost func(error)) (*Lease, error) {
	var tok [8]byte
	rand.Read(tok[:])
	v, err := json.Marshal(value{Node: ls.cfg.Node, Token: hex.EncodeToString(tok[:])})
	if err != nil {
		return nil, err
	}
	start := time.Now()
	rev, err := ls.kv.Create(ctx, key(user), v)
	if errors.Is(err, jetstream.ErrKeyExists) {
		node, herr := ls.Holder(ctx, user)
		if herr != nil {
			return nil, herr
		}
		if node == "" { // released or expired meanwhile: the caller may try again
			node = "(none)"
		}
		return nil, &HeldError{User: user, Node: node}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: acquire: %w", ErrUnavailable, err)
	}
	l := &Lease{
		ls:       ls,
		user:     user,
		value:    v,
		rev:      rev,
		deadline: start.Add(ls.deadline()),
		onLost:   onLost,
		lost:     make(chan struct{}),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	go l.run()
	return l, nil
}

// deadline is how long after a renewal's request the holder may still
// believe it holds the lease: TTL less a margin for clock rates and the
// time the loss takes to act on.
func (ls *Leases) deadline() time.Duration { return ls.cfg.TTL - ls.cfg.TTL/10 }

// Lease is a held lease on one user.
type Lease struct {
	ls     *Leases
	user   string
	value  []byte
	onLost func(error)
	lost   chan struct{} // closed when lost
	stop   chan struct{} // closed by Release
	done   chan struct{} // closed when run returns

	mu       sync.Mutex
	rev      uint64
	deadline time.Time
	err      error // why lost
	stopOnce sync.Once
}

// User returns the user the lease is on.
func (l *Lease) User() string { return l.user }

// Revision returns the key's revision this holder wrote last.
func (l *Lease) Revision() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rev
}

// Lost is closed when the lease is lost (not when it is released).
func (l *Lease) Lost() <-chan struct{} { return l.lost }

// Err returns why the lease was lost (wrapping ErrLost), or nil.
func (l *Lease) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Release stops renewing and deletes the key if this holder still has it
// (compared by revision), so another node may take it at once. It waits
// for the lease's goroutine (unless the lease was lost: onLost may be the
// caller) and is idempotent; after a loss it deletes nothing.
func (l *Lease) Release(ctx context.Context) error {
	first := false
	l.stopOnce.Do(func() { first = true; close(l.stop) })
	select {
	case <-l.done:
	case <-l.lost:
		return nil
	}
	if !first || l.Err() != nil {
		return nil
	}
	err := l.ls.kv.Delete(ctx, key(l.user), jetstream.LastRevision(l.Revision()))
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return nil // taken over or expired: not ours to delete
	}
	if err != nil {
		return fmt.Errorf("%w: release: %w", ErrUnavailable, err)
	}
	return nil
}

// run renews the lease about every TTL/3 until it is released or lost.
func (l *Lease) run() {
	defer close(l.done)
	ttl := l.ls.cfg.TTL
	period := func() time.Duration { return ttl/3 - mrand.N(ttl/30+1) }
	retry := ttl / 20
	due := time.Now().Add(period())
	t := time.NewTimer(time.Until(due))
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		start, err := l.renew(due)
		switch {
		case err == nil:
			due = start.Add(period())
			t.Reset(time.Until(due))
		case errors.Is(err, ErrLost):
			l.lose(err)
			return
		default:
			l.mu.Lock()
			left := time.Until(l.deadline)
			l.mu.Unlock()
			if left <= 0 {
				l.lose(fmt.Errorf("%w: not renewed before its deadline: %w", ErrLost, err))
				return
			}
			l.ls.count(func(st *Stats) { st.Retries++ })
			t.Reset(min(retry, left))
		}
	}
}

// renew writes the lease again at its revision, a renewal that was due
// at due. It returns an error wrapping ErrLost when the key is no longer
// ours, another error when NATS did not answer (in time: an attempt waits
// at most TTL/4). It returns when the renewal written was sent.
func (l *Lease) renew(due time.Time) (time.Time, error) {
	l.mu.Lock()
	rev, left := l.rev, time.Until(l.deadline)
	l.mu.Unlock()
	if left <= 0 {
		return time.Time{}, fmt.Errorf("%w: deadline passed", ErrUnavailable)
	}
	ctx, cancel := context.WithTimeout(context.Background(), min(left, l.ls.cfg.TTL/4))
	defer cancel()
	start := time.Now()
	k := key(l.user)
	next, err := l.ls.kv.Update(ctx, k, l.value, rev)
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		// Our previous renewal may have been written although its answer
		// was lost: the key then still holds our value, at a later
		// revision, which we adopt.
		e, gerr := l.ls.kv.Get(ctx, k)
		switch {
		case gerr == nil && string(e.Value()) == string(l.value):
			next, err = l.ls.kv.Update(ctx, k, l.value, e.Revision())
			if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
				return time.Time{}, fmt.Errorf("%w: %s taken over", ErrLost, l.user)
			}
		case gerr == nil, errors.Is(gerr, jetstream.ErrKeyNotFound):
			return time.Time{}, fmt.Errorf("%w: %s taken over or expired", ErrLost, l.user)
		default:
			return time.Time{}, fmt.Errorf("%w: renew: %w", ErrUnavailable, gerr)
		}
	}
	if errors.Is(err, nats.ErrConnectionClosed) {
		return time.Time{}, fmt.Errorf("%w: connection closed", ErrLost)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: renew: %w", ErrUnavailable, err)
	}
	now := time.Now()
	l.mu.Lock()
	left = l.deadline.Sub(now)
	l.rev, l.deadline = next, start.Add(l.ls.deadline())
	l.mu.Unlock()
	l.ls.renewed(now.Sub(due), left)
	return start, nil
}

// lose records the loss, closes Lost and calls onLost.
func (l *Lease) lose(err error) {
	l.ls.count(func(st *Stats) { st.Lost++ })
	l.mu.Lock()
	l.err = err
	l.mu.Unlock()
	close(l.lost)
	if l.onLost != nil {
		l.onLost(err)
	}
}
