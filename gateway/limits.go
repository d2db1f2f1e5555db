package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sparkgate/sparkgate/xmppconn"
)

// LimitsConfig bounds what one client, and all clients together, may make
// the gateway hold or wait for. A request refused by a limit gets the JSON
// error of its status (413, 429, 503 or 504); the first refusal by a limit
// is logged at once at warn, further ones as one line per LogInterval with
// their count, never one line per request. Each refusal is counted in the
// sparkgate_limit_hits_total metric.
type LimitsConfig struct {
	// MaxBody bounds every request body, in bytes. A body that says it is
	// larger is refused before it is read, one that turns out larger
	// (chunked) when the reading passes the limit; both with 413. Zero
	// means 512 KiB. The spec sets tighter limits per operation.
	MaxBody int64
	// MaxStreamsPerUser bounds the event streams one user has open on this
	// gateway; one more is 429. Zero means no limit.
	MaxStreamsPerUser int
	// MaxStreamsPerIP bounds the event streams open from one client
	// address (as the login rate limit finds it: the TCP peer), all users
	// together; one more is 429 with Retry-After. Zero means no limit.
	MaxStreamsPerIP int
	// MaxStreams bounds the event streams of all users on this gateway;
	// one more is 503 with Retry-After. Zero means no limit.
	MaxStreams int
	// RequestTimeout bounds each API request except the event stream: the
	// request's context ends after it, so XMPP round trips and store calls
	// give up, and the client gets 504. Zero means no limit.
	RequestTimeout time.Duration
	// LogInterval is how often, at most, repeated refusals by one limit
	// are logged as one summary line. Zero means a minute.
	LogInterval time.Duration
	// IPv6Prefix is how many leading bits of a client's IPv6 address the
	// per-address limits (MaxStreamsPerIP, the login rate limit and the
	// lockout at an address) count it by: zero means 64, one
	// subscriber's network; 128 counts each address (clientaddr.go).
	IPv6Prefix int
	// TrustedProxies are the networks of the reverse proxies in front of
	// the gateway: a request from one of them counts, for the
	// per-address limits and in the logs, by the client address its
	// X-Forwarded-For names (clientaddr.go). Empty: the TCP peer's.
	TrustedProxies []netip.Prefix
	// UserRequests bounds the API requests of each user with a token
	// (apilimit.go): past it, 429 with Retry-After. Zero fields mean
	// DefaultUserRequestLimit's; a negative Burst switches it off.
	UserRequests RateLimit
}

// The names of the limits, as the log and the metric's limit label say
// them. They match the configuration options of cmd/sparkgate.
const (
	limitMaxBody           = "max-body"
	limitMaxStreamsPerUser = "max-streams-per-user"
	limitMaxStreamsPerIP   = "max-streams-per-ip"
	limitMaxStreams        = "max-streams"
	limitMaxSessions       = "max-sessions"
	limitRequestTimeout    = "request-timeout"
	// limitUserRequests (apilimit.go) is one more.
)

// codeOverCapacity is the error code of a 503 that a gateway-wide limit
// (sessions, streams) answered: the gateway is full, not broken.
const codeOverCapacity = "over_capacity"

// defaultMaxBody is LimitsConfig.MaxBody's zero value.
const defaultMaxBody = 512 << 10

// limitRetryAfter is the Retry-After of the answers of the stream and
// session limits: long enough for a burst of reconnects to spread out.
const limitRetryAfter = 10 * time.Second

// limitError marks an error as a refusal by a limit that limits.hit has
// already counted and logged, so handleError does not log it again.
type limitError struct {
	name string
	err  error // what the limit cut short, if anything (context.DeadlineExceeded)
}

func (e *limitError) Error() string {
	if e.err != nil {
		return "limit " + e.name + ": " + e.err.Error()
	}
	return "limit " + e.name
}

func (e *limitError) Unwrap() error { return e.err }

// isLimit reports whether err is a refusal by a limit (see limitError).
func isLimit(err error) bool {
	var le *limitError
	return errors.As(err, &le)
}

// limits holds the gateway's counters of open streams and the log state of
// each limit. Its methods are safe for concurrent use.
type limits struct {
	cfg  LimitsConfig
	log  *slog.Logger
	hits *prometheus.CounterVec // label limit; registered by routeMetrics

	mu      sync.Mutex
	others  func() int     // the other nodes' streams (census.go); nil: none
	streams int            // open streams, all users
	perUser map[string]int // open streams by user
	perIP   map[string]int // open streams by client address
	logs    map[string]*limitLog
	closed  bool
}

// limitLog is the log state of one limit: quiet (timer nil), or
// summarizing, when pending counts the refusals since the last line and
// timer writes the next one.
type limitLog struct {
	pending int
	timer   *time.Timer
}

func newLimits(cfg LimitsConfig, log *slog.Logger) *limits {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = defaultMaxBody
	}
	if cfg.LogInterval <= 0 {
		cfg.LogInterval = time.Minute
	}
	if cfg.IPv6Prefix == 0 {
		cfg.IPv6Prefix = defaultIPv6Prefix
	}
	l := &limits{
		cfg:     cfg,
		log:     log,
		perUser: make(map[string]int),
		perIP:   make(map[string]int),
		logs:    make(map[string]*limitLog),
		hits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sparkgate_limit_hits_total",
			Help: "Requests refused by a configured limit, by the limit's option name (max-body 413, max-streams-per-user, max-streams-per-ip and api-user 429, max-streams and max-sessions 503, request-timeout 504).",
		}, []string{"limit"}),
	}
	// Every label exists from the start, so a dashboard sees zeros.
	for _, name := range []string{limitMaxBody, limitMaxStreamsPerUser, limitMaxStreamsPerIP, limitMaxStreams, limitMaxSessions, limitRequestTimeout, limitUserRequests} {
		l.hits.WithLabelValues(name)
	}
	return l
}

// hit counts one refusal by the limit name. The first refusal after a
// quiet interval is logged at once with attrs; later ones are summed up in
// one line per LogInterval while they go on.
func (l *limits) hit(name string, attrs ...any) {
	l.hits.WithLabelValues(name).Inc()
	l.mu.Lock()
	st := l.logs[name]
	if st == nil {
		st = &limitLog{}
		l.logs[name] = st
	}
	if st.timer != nil || l.closed {
		st.pending++
		l.mu.Unlock()
		return
	}
	st.timer = time.AfterFunc(l.cfg.LogInterval, func() { l.summarize(name) })
	l.mu.Unlock()
	args := append([]any{"limit", name}, attrs...)
	args = append(args, "next_summary_after", l.cfg.LogInterval.String())
	l.log.Warn("limit reached; further refusals are logged as a count", args...)
}

// summarize writes the line that counts the refusals of the last interval,
// and goes quiet when there were none.
func (l *limits) summarize(name string) {
	l.mu.Lock()
	st := l.logs[name]
	n := st.pending
	st.pending = 0
	if n == 0 || l.closed {
		st.timer = nil
	} else {
		st.timer.Reset(l.cfg.LogInterval)
	}
	l.mu.Unlock()
	if n > 0 {
		l.log.Warn("limit reached again", "limit", name, "hits", n, "within", l.cfg.LogInterval.String())
	}
}

// close stops the summary timers and writes the counts not yet logged.
func (l *limits) close() {
	l.mu.Lock()
	l.closed = true
	type pending struct {
		name string
		n    int
	}
	var out []pending
	for name, st := range l.logs {
		if st.timer != nil {
			st.timer.Stop()
			st.timer = nil
		}
		if st.pending > 0 {
			out = append(out, pending{name, st.pending})
			st.pending = 0
		}
	}
	l.mu.Unlock()
	for _, p := range out {
		l.log.Warn("limit reached again", "limit", p.name, "hits", p.n, "within", l.cfg.LogInterval.String())
	}
}

// acquireStream counts one more open stream of user from the client
// address addr. It returns the name of the limit that refuses it, or a
// release func that must be called once when the stream ends.
func (l *limits) acquireStream(user, addr string) (release func(), refused string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if max := l.cfg.MaxStreamsPerUser; max > 0 && l.perUser[user] >= max {
		return nil, limitMaxStreamsPerUser
	}
	if max := l.cfg.MaxStreamsPerIP; max > 0 && l.perIP[addr] >= max {
		return nil, limitMaxStreamsPerIP
	}
	if max := l.cfg.MaxStreams; max > 0 && l.streams+l.othersLocked() >= max {
		return nil, limitMaxStreams
	}
	l.streams++
	l.perUser[user]++
	l.perIP[addr]++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.streams--
			decrement(l.perUser, user)
			decrement(l.perIP, addr)
		})
	}, ""
}

// othersLocked returns the other nodes' streams (census.go). l.mu is
// held.
func (l *limits) othersLocked() int {
	if l.others == nil {
		return 0
	}
	return l.others()
}

// streamCount returns this node's open streams.
func (l *limits) streamCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.streams
}

// decrement counts one less for key, dropping it at zero.
func decrement(m map[string]int, key string) {
	if m[key]--; m[key] <= 0 {
		delete(m, key)
	}
}

// openStream is the stream handler's hook: it counts a new event stream of
// user from the client's address against max-streams-per-user and
// max-streams-per-ip (429) and max-streams (503), and returns the func
// that releases it when the stream ends.
func (s *Server) openStream(c echo.Context, user string) (release func(), err error) {
	addr := s.clientAddr(c)
	release, refused := s.limits.acquireStream(user, addr)
	switch refused {
	case "":
		return release, nil
	case limitMaxStreamsPerUser:
		max := s.limits.cfg.MaxStreamsPerUser
		s.limits.hit(refused, "user", user, "max", max)
		return nil, tooManyStreams(c, refused, fmt.Sprintf("too many open event streams for this user (at most %d); close one first", max))
	case limitMaxStreamsPerIP:
		max := s.limits.cfg.MaxStreamsPerIP
		s.limits.hit(refused, "ip", addr, "max", max)
		return nil, tooManyStreams(c, refused, fmt.Sprintf("too many open event streams from this address (at most %d); close one first", max))
	default:
		max := s.limits.cfg.MaxStreams
		s.limits.hit(refused, "max", max)
		setRetryAfter(c, limitRetryAfter)
		return nil, &Error{Status: http.StatusServiceUnavailable, Code: codeOverCapacity,
			Message: fmt.Sprintf("the gateway holds as many event streams as it may (%d); try again later", max),
			Err:     &limitError{name: refused}}
	}
}

// tooManyStreams is the 429 of a stream limit of one user or one address,
// with Retry-After.
func tooManyStreams(c echo.Context, limit, msg string) error {
	setRetryAfter(c, limitRetryAfter)
	return &Error{Status: http.StatusTooManyRequests, Code: codeRateLimited, Message: msg, Err: &limitError{name: limit}}
}

// limitRequests is the middleware of the per-request limits: the body
// size of every request, the time limit of API requests but the event
// stream, and the answer of the session limit.
func (s *Server) limitRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		max := s.limits.cfg.MaxBody
		if r.ContentLength > max {
			s.limits.hit(limitMaxBody, "max", formatSize(max), "method", r.Method, "path", c.Path())
			return s.tooLarge(nil)
		}
		var body *limitedBody
		if r.Body != nil && r.Body != http.NoBody {
			body = &limitedBody{rc: r.Body, left: max, s: s}
			r.Body = body
		}
		var tctx context.Context
		var timeout *Error
		if d := s.limits.cfg.RequestTimeout; d > 0 && strings.HasPrefix(r.URL.Path, APIPrefix+"/rest/") {
			// The cause is what context.Cause, and so every XMPP wait,
			// returns once the deadline passes: already the 504.
			timeout = &Error{Status: http.StatusGatewayTimeout, Code: codeTimeout,
				Message: "the request took longer than the limit of " + d.String(),
				Err:     &limitError{name: limitRequestTimeout, err: context.DeadlineExceeded}}
			ctx, cancel := context.WithTimeoutCause(r.Context(), d, timeout)
			defer cancel()
			tctx = ctx
			c.SetRequest(r.WithContext(ctx))
		}

		err := next(c)

		committed := c.Response().Committed
		switch {
		case body != nil && body.over:
			s.limits.hit(limitMaxBody, "max", formatSize(max), "method", r.Method, "path", c.Path())
			if !committed && (err == nil || classify(err).Status != http.StatusRequestEntityTooLarge) {
				// Whatever the handler made of the failed read, the
				// answer is the limit's.
				return s.tooLarge(err)
			}
		case tctx != nil && context.Cause(tctx) == timeout && !committed && overran(err):
			s.limits.hit(limitRequestTimeout, "timeout", s.limits.cfg.RequestTimeout.String(), "method", r.Method, "path", c.Path())
			return timeout
		case errors.Is(err, xmppconn.ErrTooManySessions) && !committed:
			s.limits.hit(limitMaxSessions)
			setRetryAfter(c, limitRetryAfter)
			return &Error{Status: http.StatusServiceUnavailable, Code: codeOverCapacity,
				Message: "the gateway holds as many XMPP sessions (logged-in users) as it may; try again later",
				Err:     &limitError{name: limitMaxSessions, err: err}}
		}
		return err
	}
}

// overran reports whether a handler's result, after the request's time
// limit passed, is the limit's doing: a context error, a failure (5xx), or
// nothing written at all. A 4xx is the handler's own answer and stands.
func overran(err error) bool {
	if err == nil {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	return classify(err).Status >= 500
}

// tooLarge is the 413 of the body limit; cause is the handler's error, for
// the debug log.
func (s *Server) tooLarge(cause error) *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Code: codeTooLarge,
		Message: "the request body is larger than the limit of " + formatSize(s.limits.cfg.MaxBody),
		Err:     &limitError{name: limitMaxBody, err: cause}}
}

// limitedBody reads a request body up to the limit; reading past it fails
// with the 413 (an *echo.HTTPError, which the validator passes through).
type limitedBody struct {
	rc   io.ReadCloser
	left int64
	over bool
	s    *Server
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.over {
		return 0, b.err()
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	if int64(n) > b.left {
		b.over = true
		n = int(b.left)
		b.left = 0
		return n, b.err()
	}
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) err() error {
	return echo.NewHTTPError(http.StatusRequestEntityTooLarge,
		"the request body is larger than the limit of "+formatSize(b.s.limits.cfg.MaxBody))
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// formatSize writes a byte count as people configure it: 512 KiB, 2 MiB,
// 1000 bytes.
func formatSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
