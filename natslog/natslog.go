// Package natslog keeps each user's event log in NATS JetStream, so that
// several gateway nodes share it and a gateway restart loses no event: it
// is the Remote of package sse (see sse.Remote).
//
// # Layout
//
// One stream (Config.Stream) holds every user's events, one subject per
// user: Config.Subject + "." + the hex of the user's bare JID (a JID may
// hold '.', '*' or '>', which are not safe in a subject token). The stream
// is bounded per subject by count and age (MaxMsgsPerSubject, MaxAge: the
// gateway's -event-buffer and -event-buffer-age) and allows direct get, so
// a replay reads messages without creating a consumer (a consumer per user
// or per stream does not scale: see shared research, scale anchors §2).
//
// Each message carries the event's name (header Sg-Event) and its seq
// (header Sg-Seq): the user's event number, counted from 1 and contiguous,
// so event ids "<gen>-<seq>" stay monotonic per user across owners and
// restarts; gen is the stream's creation time, so a stream deleted and
// made again resets every client.
//
// # Marks
//
// An append may carry a mark (header Sg-Mark): an opaque string that says
// how far the producer of the user's events had got when it appended, such
// as the id of the last archived message the user's XMPP session delivered.
// An append without one carries the user's last mark on, so the newest
// message always holds it, and Mark reads it back with one direct get: a
// new owner, or the same gateway restarted, resumes the producer exactly
// where the events in the log end. The mark travels with the events in one
// fenced write, so it never runs ahead of or behind them.
//
// # Fenced appends
//
// Only the user's owner appends (one node holds a user's XMPP session; the
// lease that decides who is another package's job). Each append names the
// stream sequence of the user's last message it knows of
// (Nats-Expected-Last-Subject-Sequence), so when another node has appended
// since (it took the lease over), the stale owner's append is refused with
// ErrFenced: it must stop acting for the user. A new owner starts from
// what the stream holds (Claim), never from its memory.
//
// # Live events
//
// Follow holds a core NATS subscription on the user's subject: JetStream
// captures the owner's publish and the subscribers receive it as a plain
// message, in order per publisher. A stream's node subscribes before it
// replays, and sse.Hub.PublishSeq drops what the replay already gave.
package natslog

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Headers of each event message.
const (
	headerSeq   = "Sg-Seq"
	headerEvent = "Sg-Event"
	headerMark  = "Sg-Mark"
)

// followTimeout bounds the wait for the server to confirm a subscription.
const followTimeout = 5 * time.Second

// Errors of the log.
var (
	// ErrFenced is returned (wrapped) by Append when another node appended
	// to the user's log since this one's last append: this node is no
	// longer the user's owner.
	ErrFenced = errors.New("natslog: another node owns the user's log")
	// ErrUnavailable wraps every failure to reach NATS.
	ErrUnavailable = errors.New("natslog: NATS unavailable")
)

// Config configures a Log. The zero value of a field selects its default.
type Config struct {
	// Stream is the JetStream stream's name. Empty means "SG_EVENTS".
	Stream string
	// Subject is the prefix of the users' subjects. Empty means "sg.ev".
	Subject string
	// MaxEvents is how many events of each user the stream keeps
	// (MaxMsgsPerSubject). Zero means 1024.
	MaxEvents int
	// MaxAge is how long an event is kept. Zero means one hour; negative
	// means no age limit.
	MaxAge time.Duration
	// Fenced, when set, is wrapped in Append's error beside ErrFenced, so
	// that a caller which knows nothing of this package recognizes a
	// fenced append by its own sentinel (gateway.ErrOwnedElsewhere).
	Fenced error
}

// Log is the event log of every user in one JetStream stream. Its methods
// are safe for concurrent use.
type Log struct {
	cfg Config
	nc  *nats.Conn
	js  jetstream.JetStream
	st  jetstream.Stream
	gen uint64

	mu    sync.Mutex
	heads map[string]head // users this node appends for: what it appended last
}

// head is where a user's log ends, as known by its owner.
type head struct {
	streamSeq uint64 // stream sequence of the user's last message, 0 if none
	seq       uint64 // its event seq
	mark      string // its mark
}

// Open creates the stream if it does not exist (or updates its limits)
// and returns the log. nc stays the caller's: Open does not close it. nc
// should be made with nats.ReconnectBufSize(-1): otherwise an append made
// while NATS is unreachable fails for its caller yet is sent when the
// connection comes back, and the owner's next append is refused as fenced.
func Open(ctx context.Context, nc *nats.Conn, cfg Config) (*Log, error) {
	if cfg.Stream == "" {
		cfg.Stream = "SG_EVENTS"
	}
	if cfg.Subject == "" {
		cfg.Subject = "sg.ev"
	}
	if cfg.MaxEvents == 0 {
		cfg.MaxEvents = 1024
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = time.Hour
	}
	maxAge := cfg.MaxAge
	if maxAge < 0 {
		maxAge = 0 // no limit, for JetStream
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("natslog: %w", err)
	}
	st, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:              cfg.Stream,
		Subjects:          []string{cfg.Subject + ".>"},
		Storage:           jetstream.FileStorage,
		Retention:         jetstream.LimitsPolicy,
		Discard:           jetstream.DiscardOld,
		MaxMsgsPerSubject: int64(cfg.MaxEvents),
		MaxAge:            maxAge,
		AllowDirect:       true,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: create stream %s: %w", ErrUnavailable, cfg.Stream, err)
	}
	gen := uint64(max(st.CachedInfo().Created.UnixMilli(), 1))
	return &Log{cfg: cfg, nc: nc, js: js, st: st, gen: gen, heads: map[string]head{}}, nil
}

// Gen identifies the log in event ids: the stream's creation time in
// milliseconds, the same on every node and across restarts.
func (l *Log) Gen() uint64 { return l.gen }

// Subject returns user's subject.
func (l *Log) Subject(user string) string {
	return l.cfg.Subject + "." + hex.EncodeToString([]byte(user))
}

// Claim makes this node user's owner for appends: it reads where the
// user's log ends from the stream, so the next Append continues it. A lease
// holder calls it right after taking the lease, before appending.
func (l *Log) Claim(ctx context.Context, user string) error {
	h, err := l.last(ctx, user)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.heads[user] = h
	l.mu.Unlock()
	return nil
}

// Release forgets what this node knew of user's log end (the user's
// session ended here, or its lease was lost).
func (l *Log) Release(user string) {
	l.mu.Lock()
	delete(l.heads, user)
	l.mu.Unlock()
}

// last reads the end of user's log from the stream.
func (l *Log) last(ctx context.Context, user string) (head, error) {
	m, err := l.st.GetLastMsgForSubject(ctx, l.Subject(user))
	switch {
	case errors.Is(err, jetstream.ErrMsgNotFound):
		return head{}, nil
	case err != nil:
		return head{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	seq, err := strconv.ParseUint(m.Header.Get(headerSeq), 10, 64)
	if err != nil {
		return head{}, fmt.Errorf("natslog: message %d without a seq: %w", m.Sequence, err)
	}
	return head{streamSeq: m.Sequence, seq: seq, mark: m.Header.Get(headerMark)}, nil
}

// Mark returns the mark of user's newest event in the log: "" when the
// log holds no event of the user (never any, or all aged out) or the
// newest carries none.
func (l *Log) Mark(ctx context.Context, user string) (string, error) {
	h, err := l.last(ctx, user)
	return h.mark, err
}

// Append appends an event to user's log with mark (see Marks; "" carries
// the last mark on) and returns its seq. It refuses with ErrFenced when
// another node appended since this node's last append (or Claim): the
// caller is no longer the owner. A user this node has not claimed is
// claimed first.
func (l *Log) Append(ctx context.Context, user, name string, data []byte, mark string) (uint64, error) {
	l.mu.Lock()
	h, ok := l.heads[user]
	l.mu.Unlock()
	if !ok {
		if err := l.Claim(ctx, user); err != nil {
			return 0, err
		}
		l.mu.Lock()
		h = l.heads[user]
		l.mu.Unlock()
	}
	msg := nats.NewMsg(l.Subject(user))
	msg.Data = data
	msg.Header.Set(headerEvent, name)
	msg.Header.Set(headerSeq, strconv.FormatUint(h.seq+1, 10))
	if mark == "" {
		mark = h.mark
	}
	if mark != "" {
		msg.Header.Set(headerMark, mark)
	}
	ack, err := l.js.PublishMsg(ctx, msg, jetstream.WithExpectLastSequencePerSubject(h.streamSeq))
	if err != nil {
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
			apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
			l.Release(user)
			if l.cfg.Fenced != nil {
				return 0, fmt.Errorf("%w: %w: %s: %w", ErrFenced, l.cfg.Fenced, user, err)
			}
			return 0, fmt.Errorf("%w: %s: %w", ErrFenced, user, err)
		}
		return 0, fmt.Errorf("%w: append: %w", ErrUnavailable, err)
	}
	l.mu.Lock()
	if cur, ok := l.heads[user]; ok && cur == h {
		l.heads[user] = head{streamSeq: ack.Sequence, seq: h.seq + 1, mark: mark}
	}
	l.mu.Unlock()
	return h.seq + 1, nil
}

// Replay calls fn, oldest first, for each kept event of user after seq
// after, and returns the seqs of the oldest and newest kept events (0, 0
// when none is kept). It reads with direct get, one message after another
// on the user's subject: no consumer is created. It implements sse.Remote.
func (l *Log) Replay(ctx context.Context, user string, after uint64, fn func(seq uint64, name string, data []byte)) (first, last uint64, err error) {
	subj := l.Subject(user)
	next := uint64(1)
	// Bounded: the subject keeps MaxEvents messages, plus what is
	// appended during the walk.
	for range 2*l.cfg.MaxEvents + 64 {
		m, err := l.st.GetMsg(ctx, next, jetstream.WithGetMsgSubject(subj))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return first, last, nil
		}
		if err != nil {
			return 0, 0, fmt.Errorf("%w: replay: %w", ErrUnavailable, err)
		}
		next = m.Sequence + 1
		seq, err := strconv.ParseUint(m.Header.Get(headerSeq), 10, 64)
		if err != nil {
			continue // not an event of ours
		}
		if first == 0 {
			first = seq
		}
		last = seq
		if seq > after {
			fn(seq, m.Header.Get(headerEvent), m.Data)
		}
	}
	return first, last, nil
}

// Follow calls fn for each event appended to user's log from now on, from
// NATS's delivery goroutine of the subscription, until stop is called.
func (l *Log) Follow(user string, fn func(seq uint64, name string, data []byte)) (stop func(), err error) {
	sub, err := l.nc.Subscribe(l.Subject(user), func(m *nats.Msg) {
		seq, err := strconv.ParseUint(m.Header.Get(headerSeq), 10, 64)
		if err != nil {
			return
		}
		fn(seq, m.Header.Get(headerEvent), m.Data)
	})
	if err == nil {
		// The server has the subscription once it answers a ping: from
		// then on no event is missed, and the caller may replay.
		err = l.nc.FlushTimeout(followTimeout)
		if err != nil {
			sub.Unsubscribe()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: follow: %w", ErrUnavailable, err)
	}
	return func() { sub.Unsubscribe() }, nil
}
