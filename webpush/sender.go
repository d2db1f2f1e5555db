package webpush

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	wp "github.com/SherClockHolmes/webpush-go"
)

// MaxPayload is the longest payload that fits one aes128gcm record of
// 4096 bytes (RFC 8291 section 4): 4096 - 16 (tag) - 86 (header) - 1
// (padding delimiter).
const MaxPayload = 3993

// DefaultTTL is how long a push service keeps an undelivered notification
// when Notification.TTL is zero.
const DefaultTTL = 12 * time.Hour

// Urgency is the Urgency header of RFC 8030 section 5.3.
type Urgency string

// The urgencies of RFC 8030 section 5.3.
const (
	UrgencyVeryLow Urgency = "very-low"
	UrgencyLow     Urgency = "low"
	UrgencyNormal  Urgency = "normal"
	UrgencyHigh    Urgency = "high"
)

// Notification is one message for a user's browsers.
type Notification struct {
	// Payload is what the service worker receives (JSON, as the client
	// expects it); at most MaxPayload bytes. Encrypted per subscription.
	Payload []byte
	// Build, when not nil, makes the payload instead: it is called on a
	// worker goroutine, once per Send that is not collapsed into a later
	// one, and only when the user has a subscription. It suits payloads
	// that are costly or carry a credential (an action token) to make for
	// users who cannot be reached. A payload over MaxPayload or an error
	// drops the notification; ErrSkip drops it as no failure (the user
	// does not want it).
	Build func() ([]byte, error)
	// TTL is how long the push service keeps it for an offline browser;
	// zero means DefaultTTL. Rounded down to seconds.
	TTL time.Duration
	// Urgency lets the push service decide when to wake the device; empty
	// means UrgencyNormal.
	Urgency Urgency
	// Topic collapses notifications: a later one with the same topic
	// replaces an earlier one still waiting, here and at the push service
	// (RFC 8030 section 5.4; the header value is derived from it). Empty
	// means none.
	Topic string
}

// SenderConfig configures NewSender. Zero values are documented per field.
type SenderConfig struct {
	// Keys is the VAPID key pair that signs requests. Required.
	Keys VAPID
	// Subject is the contact for the push services (RFC 8292 section 2.1):
	// an e-mail address without "mailto:" or an https URL. Required.
	Subject string
	// Store holds the subscriptions. Required.
	Store Store
	// HTTPClient sends the requests; nil means a client with Timeout that
	// follows no redirects and, unless AllowPrivate, connects only to
	// public addresses.
	HTTPClient interface {
		Do(*http.Request) (*http.Response, error)
	}
	// AllowPrivate lets the default client connect to loopback, private,
	// link-local and other non-public addresses. False refuses them, so
	// that a subscription cannot turn the gateway against an internal
	// service (SSRF); tests set it for a push service on loopback.
	AllowPrivate bool
	// Timeout bounds one request to a push service; zero means 10 s.
	Timeout time.Duration
	// QueueSize bounds the notifications and retries waiting; zero means
	// 1024. Send fails with ErrQueueFull beyond it.
	QueueSize int
	// Workers is the number of goroutines sending; zero means 4.
	Workers int
	// Collapse holds a notification with a topic for this long before
	// sending it, so that a burst of messages in one conversation becomes
	// one push carrying the latest; zero sends at once.
	Collapse time.Duration
	// MaxAttempts bounds the tries per subscription when the push service
	// answers 429 or 5xx or cannot be reached; zero means 4.
	MaxAttempts int
	// MinBackoff and MaxBackoff bound the wait before a retry, which
	// doubles from MinBackoff; a Retry-After header is honoured up to
	// MaxBackoff. Zero means 1 s and 60 s.
	MinBackoff, MaxBackoff time.Duration
	// Logger receives the sender's logs; nil means slog.Default().
	Logger *slog.Logger
}

// Sender delivers notifications to every subscription of a user, from its
// own goroutines. Its methods are safe for concurrent use.
type Sender struct {
	cfg    SenderConfig
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	wake   chan struct{}

	mu      sync.Mutex
	closed  bool
	queue   []*task          // waiting work, each runnable from its due time
	pending map[string]*task // fan-out tasks not yet started, by user and topic

	stats senderStats // stats.go
}

// task is either a fan-out to all of a user's subscriptions (sub == nil) or
// a retry to one subscription.
type task struct {
	user    string
	n       Notification
	key     string // pending key, "" when not collapsible
	sub     *Subscription
	attempt int // attempts made so far (retries)
	due     time.Time
}

// NewSender checks cfg and starts the workers.
func NewSender(cfg SenderConfig) (*Sender, error) {
	if err := cfg.Keys.Check(); err != nil {
		return nil, err
	}
	if cfg.Subject == "" {
		return nil, errors.New("webpush: SenderConfig.Subject is empty")
	}
	if cfg.Store == nil {
		return nil, errors.New("webpush: SenderConfig.Store is nil")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = newHTTPClient(cfg.Timeout, cfg.AllowPrivate)
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 1024
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 4
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = time.Minute
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = cfg.MinBackoff
	}
	s := &Sender{
		cfg:     cfg,
		log:     cfg.Logger,
		wake:    make(chan struct{}, 1),
		pending: make(map[string]*task),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(cfg.Workers)
	for range cfg.Workers {
		go s.worker()
	}
	return s, nil
}

// PublicKey returns the VAPID public key, base64url of the uncompressed
// point.
func (s *Sender) PublicKey() string { return s.cfg.Keys.Public }

// Send queues n for every subscription of user and returns at once. A
// notification with the same user and topic still waiting is replaced by n.
// It fails with ErrTooLarge, ErrQueueFull or ErrClosed.
func (s *Sender) Send(user string, n Notification) error {
	if len(n.Payload) > MaxPayload {
		return ErrTooLarge
	}
	n.Payload = append([]byte(nil), n.Payload...)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	key := ""
	if n.Topic != "" {
		key = user + "\x00" + n.Topic
		if t, ok := s.pending[key]; ok {
			t.n = n
			return nil
		}
	}
	if len(s.queue) >= s.cfg.QueueSize {
		return ErrQueueFull
	}
	t := &task{user: user, n: n, key: key, due: time.Now()}
	if key != "" {
		s.pending[key] = t
		t.due = t.due.Add(s.cfg.Collapse)
	}
	s.queue = append(s.queue, t)
	s.signal()
	return nil
}

// Close stops the workers and waits for them; notifications still queued
// are dropped. It is idempotent.
func (s *Sender) Close() error {
	s.mu.Lock()
	dropped := 0
	if !s.closed {
		s.closed = true
		dropped = len(s.queue)
		s.queue, s.pending = nil, map[string]*task{}
	}
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	if dropped > 0 {
		s.log.Info("push sender closed with notifications queued", "dropped", dropped)
	}
	return nil
}

// signal wakes one worker. s.mu must be held.
func (s *Sender) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Sender) worker() {
	defer s.wg.Done()
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		t, wait := s.next()
		if t != nil {
			s.run(t)
			continue
		}
		var due <-chan time.Time
		if wait > 0 {
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			due = timer.C
		}
		select {
		case <-s.ctx.Done():
			return
		case <-s.wake:
		case <-due:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// next takes the due task that has waited longest, or says how long
// until the next one is due (zero: nothing queued).
func (s *Sender) next() (*task, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || len(s.queue) == 0 {
		return nil, 0
	}
	best := 0
	for i, t := range s.queue {
		if t.due.Before(s.queue[best].due) {
			best = i
		}
	}
	t := s.queue[best]
	if wait := time.Until(t.due); wait > 0 {
		return nil, wait
	}
	s.queue = append(s.queue[:best], s.queue[best+1:]...)
	if t.key != "" {
		delete(s.pending, t.key)
	}
	if len(s.queue) > 0 {
		// Pass the wake-up on so that idle workers share the work.
		s.signal()
	}
	return t, 0
}

func (s *Sender) run(t *task) {
	if t.sub != nil {
		s.deliver(t.user, *t.sub, t.n, t.attempt+1)
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.Timeout)
	subs, err := s.cfg.Store.PushSubscriptions(ctx, t.user)
	cancel()
	if err != nil {
		if s.ctx.Err() == nil {
			s.log.Error("push: list subscriptions", "user", t.user, "err", err)
		}
		return
	}
	now := time.Now()
	live := subs[:0]
	for _, sub := range subs {
		if !sub.Expires.IsZero() && sub.Expires.Before(now) {
			s.stats.expired.Add(1)
			s.remove(sub, "expired")
			continue
		}
		live = append(live, sub)
	}
	if len(live) == 0 {
		return
	}
	n := t.n
	if n.Build != nil {
		p, err := n.Build()
		if err == nil && len(p) > MaxPayload {
			err = ErrTooLarge
		}
		if errors.Is(err, ErrSkip) {
			s.log.Debug("push: not sent", "user", t.user, "why", err)
			return
		}
		if err != nil {
			s.log.Warn("push: build payload", "user", t.user, "err", err)
			return
		}
		n.Payload, n.Build = p, nil
	}
	for _, sub := range live {
		s.deliver(t.user, sub, n, 1)
	}
}

// deliver makes one attempt and schedules a retry or removes the
// subscription as the push service's answer says.
func (s *Sender) deliver(user string, sub Subscription, n Notification, attempt int) {
	if s.ctx.Err() != nil {
		return
	}
	status, retryAfter, err := s.post(sub, n)
	switch {
	case err == nil && status >= 200 && status < 300:
		s.stats.delivered.Add(1)
		s.log.Debug("push delivered", "sub", sub, "status", status, "attempt", attempt)
		return
	case err == nil && (status == http.StatusNotFound || status == http.StatusGone):
		s.stats.gone.Add(1)
		s.remove(sub, strconv.Itoa(status))
		return
	case err != nil && s.ctx.Err() != nil:
		return
	case errors.Is(err, ErrForbiddenAddress):
		s.stats.refused.Add(1)
		s.log.Warn("push refused: endpoint is not a public address", "sub", sub)
		return
	case err != nil, status == http.StatusTooManyRequests, status >= 500:
		if attempt >= s.cfg.MaxAttempts {
			s.stats.failed.Add(1)
			s.log.Warn("push failed, giving up", "sub", sub, "status", status, "attempts", attempt, "err", err)
			return
		}
		wait := s.backoff(attempt, retryAfter)
		if !s.schedule(&task{user: user, n: n, sub: &sub, attempt: attempt, due: time.Now().Add(wait)}) {
			s.stats.failed.Add(1)
			s.log.Warn("push retry dropped, queue full", "sub", sub)
			return
		}
		s.stats.retried.Add(1)
	default:
		// 400, 401, 403, 413: the request itself is wrong; a retry would
		// be too.
		s.stats.refused.Add(1)
		s.log.Warn("push refused", "sub", sub, "status", status)
	}
}

// post sends n to sub once. It returns the status and the Retry-After
// delay, or an error when no answer came.
func (s *Sender) post(sub Subscription, n Notification) (int, time.Duration, error) {
	ttl := n.TTL
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	urgency := n.Urgency
	if urgency == "" {
		urgency = UrgencyNormal
	}
	opts := &wp.Options{
		HTTPClient:      s.cfg.HTTPClient,
		Subscriber:      s.cfg.Subject,
		Topic:           topicHeader(n.Topic),
		TTL:             int(ttl / time.Second),
		Urgency:         wp.Urgency(urgency),
		VAPIDPublicKey:  s.cfg.Keys.Public,
		VAPIDPrivateKey: s.cfg.Keys.Private,
	}
	// The library appends padding to the slice it is given: hand it a
	// copy without spare capacity so the shared payload is never written.
	msg := make([]byte, len(n.Payload))
	copy(msg, n.Payload)
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.Timeout)
	defer cancel()
	resp, err := wp.SendNotificationWithContext(ctx, msg, &wp.Subscription{
		Endpoint: sub.Endpoint,
		Keys:     wp.Keys{Auth: sub.Auth, P256dh: sub.P256dh},
	}, opts)
	if err != nil {
		return 0, 0, fmt.Errorf("webpush: post: %w", err)
	}
	// webpush-go returns every HTTP status as a response, not an error.
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	var retryAfter time.Duration
	if v := resp.Header.Get("Retry-After"); v != "" {
		if secs, err := strconv.Atoi(v); err == nil && secs > 0 {
			retryAfter = time.Duration(secs) * time.Second
		} else if at, err := http.ParseTime(v); err == nil {
			retryAfter = time.Until(at)
		}
	}
	return resp.StatusCode, retryAfter, nil
}

// backoff is the wait before attempt+1: MinBackoff doubled per attempt, or
// the push service's Retry-After when longer, at most MaxBackoff.
func (s *Sender) backoff(attempt int, retryAfter time.Duration) time.Duration {
	d := s.cfg.MinBackoff
	for i := 1; i < attempt && d < s.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = max(d, retryAfter)
	return min(d, s.cfg.MaxBackoff)
}

// schedule queues a retry; false when the queue is full or closed.
func (s *Sender) schedule(t *task) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || len(s.queue) >= s.cfg.QueueSize {
		return false
	}
	s.queue = append(s.queue, t)
	s.signal()
	return true
}

func (s *Sender) remove(sub Subscription, why string) {
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.Timeout)
	defer cancel()
	if err := s.cfg.Store.DeletePushEndpoint(ctx, sub.User, sub.Endpoint); err != nil {
		s.log.Error("push: remove subscription", "sub", sub, "err", err)
		return
	}
	s.log.Info("push subscription removed", "sub", sub, "reason", why)
}

// topicHeader turns a topic into an RFC 8030 Topic header value: at most
// 32 characters of the base64url alphabet.
func topicHeader(topic string) string {
	if topic == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(topic))
	return base64.RawURLEncoding.EncodeToString(sum[:])[:32]
}
