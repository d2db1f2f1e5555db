package sse

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Errors returned by the hub.
var (
	// ErrClosed is returned by ServeStream after Close, before any header
	// is written, so the caller can answer 503.
	ErrClosed = errors.New("sse: hub closed")
	// ErrSlow is returned by ServeStream when the stream was ended because
	// it fell behind: the log dropped an event it had not written, or a write
	// missed its deadline.
	ErrSlow = errors.New("sse: stream fell behind")
	// ErrInvalidConfig is returned (wrapped) by New for a Config field out
	// of range.
	ErrInvalidConfig = errors.New("sse: invalid config")
)

// Reasons the hub gives in the close event of a stream it ends itself.
// EndUser passes the caller's reason instead.
const (
	ReasonSlow     = "slow"
	ReasonMaxAge   = "max-age"
	ReasonShutdown = "shutdown"
	ReasonEnded    = "ended" // Forget dropped the user's log
)

// Config configures a Hub. The zero value of every field selects its
// default.
type Config struct {
	// LogEvents is how many of a user's most recent events are kept for
	// replay. Zero means 1024.
	LogEvents int
	// LogBytes bounds the encoded size of a user's kept events. Zero means
	// 1 MiB.
	LogBytes int
	// LogAge is how long an event is kept for replay. Zero means one hour;
	// negative means no age limit.
	LogAge time.Duration

	// QueueEvents, when positive, is how many events a stream may fall
	// behind the newest before it is ended as slow. Streams have no queue
	// of their own: each reads the user's log from where it is, so falling
	// behind costs no memory beyond the log. Zero means no limit of its
	// own: a stream is ended as slow only when the log must drop an event
	// the stream has not written yet (see LogEvents, LogBytes, LogAge), the
	// point from which resuming could not replay it either.
	QueueEvents int
	// WriteTimeout is the deadline of each write (a batch of logged events
	// and its flush); a stream whose write misses it is ended. The
	// deadline is moved only when it was set more than an eighth of
	// WriteTimeout ago, so a write gets between seven eighths and all of
	// it. Zero means 10 seconds.
	WriteTimeout time.Duration
	// Heartbeat is how long a stream may stay silent before the hub writes a
	// ": ping" comment, so proxies and clients see it alive. Zero means 15
	// seconds (what openapi.yaml promises); negative disables heartbeats.
	Heartbeat time.Duration
	// Retry is the reconnection delay suggested to clients in the "retry:"
	// field. Zero means 3 seconds; negative means no retry field.
	Retry time.Duration
	// MaxAge ends a stream (with reason "max-age", asking the client to
	// resume) after a random age between MaxAge*(1-MaxAgeJitter) and
	// MaxAge, so that clients do not reconnect all at once. Zero means no
	// limit.
	MaxAge time.Duration
	// MaxAgeJitter is the fraction of MaxAge that is randomised, in [0, 1).
	// Zero means 0.2.
	MaxAgeJitter float64

	// ResetEvent is the name of the event sent when a resume is impossible.
	// Empty means "chatapi.reset".
	ResetEvent string
	// CloseEvent is the name of the last event of a stream the hub ends.
	// Empty means "chatapi.close".
	CloseEvent string

	// Lazy names events that do not wake a stream on their own: each is
	// written with the stream's next event, or LazyDelay after it was
	// logged, whichever comes first (lazy.go). For summaries of events the
	// streams get anyway, such as a conversation's unread count.
	Lazy []string
	// LazyDelay bounds how long a lazy event waits for the stream's next
	// write. Zero means 100 ms.
	LazyDelay time.Duration

	// Remote, when set, is the log that holds each user's events beyond
	// this process, and the hub's memory is its cache (see [Remote]). Nil
	// means memory only.
	Remote Remote

	// Wrote, when set, is called with each part of a stream's body as
	// the hub writes it (without HTTP/1.1 chunk framing): the retry
	// field and hello, batches of events, heartbeats, the close event. It
	// runs on the stream's goroutine or on a publisher's (through.go),
	// must be quick, and must not keep body. For counting (the gateway's
	// metrics).
	Wrote func(body []byte)

	// Logger receives debug records about streams. Nil means slog.Default().
	Logger *slog.Logger
}

func (c *Config) setDefaults() error {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if c.LogEvents < 0 || c.LogBytes < 0 || c.QueueEvents < 0 || c.WriteTimeout < 0 || c.MaxAge < 0 || c.LazyDelay < 0 {
		return fmt.Errorf("%w: negative size or duration", ErrInvalidConfig)
	}
	if c.MaxAgeJitter < 0 || c.MaxAgeJitter >= 1 {
		return fmt.Errorf("%w: MaxAgeJitter %v not in [0, 1)", ErrInvalidConfig, c.MaxAgeJitter)
	}
	def(&c.LogEvents, 1024)
	def(&c.LogBytes, 1<<20)
	defDur(&c.LogAge, time.Hour)
	defDur(&c.WriteTimeout, 10*time.Second)
	defDur(&c.Heartbeat, 15*time.Second)
	defDur(&c.Retry, 3*time.Second)
	defDur(&c.LazyDelay, defaultLazyDelay)
	if c.MaxAgeJitter == 0 {
		c.MaxAgeJitter = 0.2
	}
	c.ResetEvent = cleanName(c.ResetEvent)
	if c.ResetEvent == "" {
		c.ResetEvent = "chatapi.reset"
	}
	c.CloseEvent = cleanName(c.CloseEvent)
	if c.CloseEvent == "" {
		c.CloseEvent = "chatapi.close"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

// Hub holds the per-user event logs and the open streams. Create it with
// New; all its methods are safe for concurrent use.
type Hub struct {
	cfg  Config
	log  *slog.Logger
	lazy map[string]bool // Config.Lazy's names; fixed

	mu       sync.RWMutex
	users    map[string]*userLog // guarded by mu
	lastGen  uint64              // guarded by mu; the newest log id handed out
	draining bool                // guarded by mu; EndStreams or Close was called
	closed   bool                // guarded by mu; Close was called

	streams atomic.Int64   // open streams, all users
	serving sync.WaitGroup // one per ServeStream call past registration
	once    sync.Once
}

// New returns a hub configured by cfg.
func New(cfg Config) (*Hub, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	return &Hub{cfg: cfg, log: cfg.Logger, lazy: lazyNames(cfg.Lazy), users: make(map[string]*userLog)}, nil
}

// Publish appends an event to user's log and wakes every stream the user
// has open, without waiting for any of them. data is the event's
// serialized payload: it is encoded into an SSE frame once, and the same
// frame goes to every stream and into the log; Publish does not retain data.
// CR, LF and NUL are removed from name.
//
// Publish returns how many streams will write the event: 0 means the
// user has no live stream (the caller may send a Web Push instead); the
// event is still kept, and the next stream the user opens receives it.
// After Close, Publish drops the event and returns 0.
func (h *Hub) Publish(user, name string, data []byte) (live int) {
	h.mu.RLock()
	l := h.users[user]
	if l == nil || h.closed {
		h.mu.RUnlock()
		h.mu.Lock()
		if h.closed {
			h.mu.Unlock()
			return 0
		}
		l = h.logLocked(user)
		l.mu.Lock()
		h.mu.Unlock()
	} else {
		l.mu.Lock()
		h.mu.RUnlock()
	}
	name = cleanName(name)
	now := time.Now()
	live = l.appendLocked(&h.cfg, name, data, now)
	wakeUnlock(l, h.toWakeLocked(l, name), now) // none for a lazy event (lazy.go)
	return live
}

// logLocked returns user's log, creating it. h.mu must be held for writing.
func (h *Hub) logLocked(user string) *userLog {
	l := h.users[user]
	if l == nil {
		var gen uint64
		if h.cfg.Remote != nil {
			gen = h.cfg.Remote.Gen()
		} else {
			gen = uint64(max(time.Now().UnixMilli(), 0))
			if gen <= h.lastGen {
				gen = h.lastGen + 1
			}
			h.lastGen = gen
		}
		l = newUserLog(gen)
		h.users[user] = l
	}
	return l
}

// Streams returns how many streams user has open.
func (h *Hub) Streams(user string) int {
	h.mu.RLock()
	l := h.users[user]
	if l == nil {
		h.mu.RUnlock()
		return 0
	}
	l.mu.RLock()
	h.mu.RUnlock()
	defer l.mu.RUnlock()
	return len(l.subs)
}

// Count returns how many streams are open, all users together.
func (h *Hub) Count() int {
	return int(h.streams.Load())
}

// EndUser ends every stream of user, for example at logout or when the
// user's token expires: each stream writes the events already logged, then a
// close event with reason and resume false, and ends. The user's log is kept
// (see Forget). EndUser returns how many streams it asked to end and does
// not wait for them.
func (h *Hub) EndUser(user, reason string) int { return h.endUser(user, reason, false) }

// MoveUser ends every stream of user as EndUser does, but with resume
// true: the user's session moves to another gateway node, whose streams
// continue the same log (a Remote), so a client resumes there with its
// Last-Event-ID.
func (h *Hub) MoveUser(user, reason string) int { return h.endUser(user, reason, true) }

func (h *Hub) endUser(user, reason string, resume bool) int {
	h.mu.RLock()
	l := h.users[user]
	if l == nil {
		h.mu.RUnlock()
		return 0
	}
	l.mu.Lock()
	h.mu.RUnlock()
	defer l.mu.Unlock()
	for _, s := range l.subs {
		s.endLocked(reason, resume)
	}
	return len(l.subs)
}

// Forget drops user's log, when the user's session has ended for good. Any
// stream the user still has is ended with reason "ended" and resume false.
// Events published later start a new log, whose ids do not resume the old
// one's.
func (h *Hub) Forget(user string) {
	h.mu.Lock()
	l := h.users[user]
	delete(h.users, user)
	if l == nil {
		h.mu.Unlock()
		return
	}
	l.mu.Lock()
	h.mu.Unlock()
	defer l.mu.Unlock()
	for _, s := range l.subs {
		s.endLocked(ReasonEnded, false) // keeps what it has not written yet
	}
	l.ring = ring{}
	l.bytes = 0
}

// EndStreams asks every open stream to write a close event with reason
// "shutdown" (resume true) and end, and makes streams opened afterwards do
// the same right after their hello event. It returns without waiting, so it
// suits http.Server.RegisterOnShutdown.
func (h *Hub) EndStreams() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.endAllLocked()
}

// endAllLocked ends every stream. h.mu must be held for writing.
func (h *Hub) endAllLocked() {
	h.draining = true
	for _, l := range h.users {
		l.mu.Lock()
		for _, s := range l.subs {
			s.endLocked(ReasonShutdown, true)
		}
		l.mu.Unlock()
	}
}

// Close ends every stream as EndStreams does, refuses new ones with
// ErrClosed, and returns once every ServeStream call has returned. It is
// idempotent and always returns nil.
func (h *Hub) Close() error {
	h.once.Do(func() {
		h.mu.Lock()
		h.closed = true
		h.endAllLocked()
		h.mu.Unlock()
	})
	h.serving.Wait()
	return nil
}
