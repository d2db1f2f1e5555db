package gateway

import (
	"context"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"github.com/sparkgate/sparkgate/auth"
)

// maxLimiterKeys bounds the keys (usernames, client addresses) each table
// of limiters or failures holds. Idle keys are dropped first; when the
// table is still full a new key is refused (fail closed).
const maxLimiterKeys = 100_000

// A RateLimit is a token bucket: Burst attempts at once, then one more
// every Every.
type RateLimit struct {
	// Every is the time in which one attempt is earned back; zero means
	// the default of the limit it sets.
	Every time.Duration
	// Burst is how many attempts may be made at once; zero means the
	// default, a negative value switches the limit off.
	Burst int
}

func (l RateLimit) orDefault(d RateLimit) RateLimit {
	if l.Every <= 0 {
		l.Every = d.Every
	}
	if l.Burst == 0 {
		l.Burst = d.Burst
	}
	return l
}

// attemptLimiter spends attempts of keys (client addresses, users): a
// keyedLimiter in this process's memory, or a storedLimiter in a store
// that gateways share. take spends one attempt of key; when none is left
// it returns false and how long until one is.
type attemptLimiter interface {
	take(key string) (bool, time.Duration)
}

// storedLimiter keeps its buckets in an AttemptStore, under prefix+key.
// A store that fails refuses the attempt (fail closed) for a second,
// unless failOpen: then it lets the attempt through, for budgets whose
// refusal loses something of the user's and guards nothing (a
// notification of theirs), where a refused login or call only waits.
type storedLimiter struct {
	st       AttemptStore
	prefix   string
	limit    RateLimit
	now      func() time.Time
	log      *slog.Logger
	failOpen bool
}

// storeTimeout bounds one attempt's round trip to the store.
const storeTimeout = 5 * time.Second

func (l storedLimiter) take(key string) (bool, time.Duration) {
	if l.limit.Burst < 0 {
		return true, 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	ok, wait, err := l.st.TakeAttempt(ctx, l.prefix+key, l.now(), l.limit.Every, l.limit.Burst)
	if err != nil {
		l.log.Error("take an attempt", "bucket", l.prefix, "err", err, "let through", l.failOpen)
		if l.failOpen {
			return true, 0
		}
		return false, time.Second
	}
	return ok, wait
}

// perMinute spends up to limit calls per minute of each key: a token bucket
// that holds limit calls and earns one back every minute/limit, kept in st
// under prefix when st is set. So a burst gets limit at most, however it
// falls on the clock, and a steady flow limit a minute (a window per clock
// minute let twice the limit through across a minute's end). A negative
// limit switches it off; zero is taken as one. failOpen is storedLimiter's.
func perMinute(limit int, st AttemptStore, prefix string, now func() time.Time, log *slog.Logger, failOpen bool) attemptLimiter {
	l := RateLimit{Burst: -1}
	if limit >= 0 {
		limit = max(limit, 1)
		l = RateLimit{Every: time.Minute / time.Duration(limit), Burst: limit}
	}
	if st != nil {
		return storedLimiter{st: st, prefix: prefix, limit: l, now: now, log: log, failOpen: failOpen}
	}
	return newKeyedLimiter(l, now)
}

// keyedLimiter keeps one token bucket per key. It is safe for concurrent
// use.
type keyedLimiter struct {
	limit rate.Limit
	burst int
	now   func() time.Time

	mu   sync.Mutex
	keys map[string]*rate.Limiter
}

func newKeyedLimiter(l RateLimit, now func() time.Time) *keyedLimiter {
	if l.Burst < 0 {
		return nil
	}
	return &keyedLimiter{limit: rate.Every(l.Every), burst: l.Burst, now: now, keys: make(map[string]*rate.Limiter)}
}

// take spends one attempt of key. When none is left it returns false and
// how long until one is.
func (k *keyedLimiter) take(key string) (bool, time.Duration) { return k.takeN(key, 1) }

// takeN spends n attempts of key at once (n at most the burst), or none:
// then it returns false and how long until n are there.
func (k *keyedLimiter) takeN(key string, n int) (bool, time.Duration) {
	if k == nil {
		return true, 0
	}
	now := k.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	lim, ok := k.keys[key]
	if !ok {
		if len(k.keys) >= maxLimiterKeys {
			k.purge(now)
		}
		if len(k.keys) >= maxLimiterKeys {
			return false, time.Second
		}
		lim = rate.NewLimiter(k.limit, k.burst)
		k.keys[key] = lim
	}
	r := lim.ReserveN(now, n)
	if !r.OK() {
		return false, time.Second
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// purge drops the buckets that are full again: they behave like new ones.
func (k *keyedLimiter) purge(now time.Time) {
	for key, lim := range k.keys {
		if lim.TokensAt(now) >= float64(k.burst) {
			delete(k.keys, key)
		}
	}
}

// failures counts failed logins per user and locks a user out once max
// of them fall within window, until the oldest of those leaves it. It is
// safe for concurrent use; a nil *failures locks nobody out.
type failures struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu    sync.Mutex
	users map[string][]time.Time // oldest first, at most max
}

func newFailures(max int, window time.Duration, now func() time.Time) *failures {
	if max < 0 {
		return nil
	}
	return &failures{max: max, window: window, now: now, users: make(map[string][]time.Time)}
}

// locked reports until when user is locked out, or the zero time.
func (f *failures) locked(user string) time.Time {
	if f == nil {
		return time.Time{}
	}
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	ts := f.recent(user, now)
	if len(ts) < f.max {
		return time.Time{}
	}
	return ts[len(ts)-f.max].Add(f.window)
}

// add records a failure of user and reports until when the user is now
// locked out (zero when not).
func (f *failures) add(user string) time.Time {
	if f == nil {
		return time.Time{}
	}
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	ts := f.recent(user, now)
	if ts == nil && len(f.users) >= maxLimiterKeys {
		for u := range f.users {
			f.recent(u, now)
		}
		if len(f.users) >= maxLimiterKeys {
			return time.Time{}
		}
	}
	ts = append(ts, now)
	if len(ts) > f.max {
		ts = ts[len(ts)-f.max:]
	}
	f.users[user] = ts
	if len(ts) < f.max {
		return time.Time{}
	}
	return ts[0].Add(f.window)
}

// clear forgets the failures of user (after a successful login).
func (f *failures) clear(user string) {
	if f == nil {
		return
	}
	f.mu.Lock()
	delete(f.users, user)
	f.mu.Unlock()
}

// recent drops the failures of user older than the window and returns the
// rest. f.mu is held.
func (f *failures) recent(user string, now time.Time) []time.Time {
	ts := f.users[user]
	i := 0
	for i < len(ts) && !now.Before(ts[i].Add(f.window)) {
		i++
	}
	if i == len(ts) {
		delete(f.users, user)
		return nil
	}
	if i > 0 {
		ts = append([]time.Time(nil), ts[i:]...)
		f.users[user] = ts
	}
	return ts
}

// lockout locks password-based logins (password, TOTP, registration)
// after failures, so that guessing from one address stops early without
// giving anyone a way to lock a user out everywhere: failures of a user
// from one client address lock that pair after a few, failures of a user
// from all addresses lock the user only after many more. Passkey logins
// are never locked. There are two: memoryLockout counts in this process,
// storedLockout in a FailureStore that gateways share. Both are safe for
// concurrent use.
type lockout interface {
	// locked reports until when user is locked out at addr, or the zero
	// time.
	locked(ctx context.Context, user, addr string) (time.Time, error)
	// add records a failure of user from addr and reports until when the
	// user is now locked out there (zero when not).
	add(ctx context.Context, user, addr string) (time.Time, error)
	// clear forgets the failures of user from addr after a successful
	// login there. The user's count across addresses stays: a success of
	// the user does not excuse an attacker's guesses elsewhere.
	clear(ctx context.Context, user, addr string) error
	// forget drops every count of user, from every address (the account
	// is gone: whoever registers the name next starts clean).
	forget(ctx context.Context, user string) error
}

// memoryLockout is the lockout of one process; nil fields count nothing.
type memoryLockout struct {
	pair, user *failures
}

// pairKey is the key of a user and a client address in memoryLockout.pair.
func pairKey(user, addr string) string { return user + "\x00" + addr }

func (l memoryLockout) locked(_ context.Context, user, addr string) (time.Time, error) {
	return later(l.pair.locked(pairKey(user, addr)), l.user.locked(user)), nil
}

func (l memoryLockout) add(_ context.Context, user, addr string) (time.Time, error) {
	return later(l.pair.add(pairKey(user, addr)), l.user.add(user)), nil
}

func (l memoryLockout) clear(_ context.Context, user, addr string) error {
	l.pair.clear(pairKey(user, addr))
	return nil
}

func (l memoryLockout) forget(_ context.Context, user string) error {
	l.user.clear(user)
	if l.pair == nil {
		return nil
	}
	prefix := pairKey(user, "")
	l.pair.mu.Lock()
	for k := range l.pair.users {
		if strings.HasPrefix(k, prefix) {
			delete(l.pair.users, k)
		}
	}
	l.pair.mu.Unlock()
	return nil
}

// storedLockout is the lockout kept in a FailureStore, with the same
// counts and window as memoryLockout: gateways sharing the store lock a
// user out together. A count below zero is switched off.
type storedLockout struct {
	st            FailureStore
	pairMax, user int
	window        time.Duration
	now           func() time.Time
}

func (l storedLockout) locked(ctx context.Context, user, addr string) (time.Time, error) {
	pair, err := l.until(ctx, user, addr, l.pairMax)
	if err != nil {
		return time.Time{}, err
	}
	all, err := l.until(ctx, user, AllAddrs, l.user)
	return later(pair, all), err
}

// until is when the max-th newest failure of user at addr leaves the
// window, if it is in the window: then the user is locked out until then.
func (l storedLockout) until(ctx context.Context, user, addr string, max int) (time.Time, error) {
	if max < 0 {
		return time.Time{}, nil
	}
	// A failure counts while now is before its time plus the window; the
	// store keeps whole milliseconds.
	since := l.now().Add(-l.window).Truncate(time.Millisecond).Add(time.Millisecond)
	ts, err := l.st.LoginFailures(ctx, user, addr, since, max)
	if err != nil || len(ts) < max {
		return time.Time{}, err
	}
	return ts[max-1].Add(l.window), nil
}

func (l storedLockout) add(ctx context.Context, user, addr string) (time.Time, error) {
	if err := l.st.AddLoginFailure(ctx, user, addr, l.now()); err != nil {
		return time.Time{}, err
	}
	return l.locked(ctx, user, addr)
}

func (l storedLockout) clear(ctx context.Context, user, addr string) error {
	return l.st.ClearLoginFailures(ctx, user, addr)
}

func (l storedLockout) forget(ctx context.Context, user string) error {
	return l.st.ClearLoginFailures(ctx, user, "")
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// setRetryAfter sets the Retry-After header to d in whole seconds, at least 1.
func setRetryAfter(c echo.Context, d time.Duration) {
	secs := int64(math.Ceil(d.Seconds()))
	if secs < 1 {
		secs = 1
	}
	c.Response().Header().Set("Retry-After", strconv.FormatInt(secs, 10))
}

// noSecretKey marks the echo context of a login-like operation that
// checks no secret (a passkey login, the finish of adding a passkey), for
// throttle: see checksNoSecret.
const noSecretKey = "sparkgate.no-secret"

// checksNoSecret marks the request as an operation that checks no secret
// that could be guessed: throttle spends only the client address's attempt
// on it and never refuses it for the lockout.
func checksNoSecret(c echo.Context) { c.Set(noSecretKey, true) }

// throttle spends one attempt of the client's address and of the user
// (a bare JID) on a login-like operation and refuses it with 429 when
// either has none left, or with 403 while the user is locked out at this
// address after too many failures. Both answers carry Retry-After.
//
// A passkey login (checksNoSecret) spends only the address's attempt and
// is never locked out: it cannot be guessed, so neither the user's
// attempts nor failed passwords of others may keep the user from it.
func (s *Server) throttle(c echo.Context, user string) error {
	a := &s.authx
	ip := s.clientAddr(c)
	noSecret, _ := c.Get(noSecretKey).(bool)
	ok, d := a.perIP.take(ip)
	if ok && !noSecret {
		ok, d = a.perUser.take(user)
	}
	if !ok {
		// Debug: under attack this line would flood the log.
		s.log.Debug("login attempt rate limited", "user", user, "ip", ip)
		return tooManyAttempts(c, d)
	}
	if noSecret {
		return nil
	}
	until, err := a.fails.locked(c.Request().Context(), user, ip)
	if err != nil {
		s.log.Error("read login failures", "user", user, "err", err)
		return errorf(http.StatusServiceUnavailable, "logins cannot be checked right now; try again")
	}
	if !until.IsZero() {
		return s.lockedOut(c, until)
	}
	return nil
}

// guardLogin is the opening of every login operation on a named user
// (password, TOTP, passkey): it checks and normalizes username (400), then
// spends the attempt through throttle (429, or 403 while the user is
// locked out). It returns the user's local part and bare JID. Failures
// past this point are the handler's to record with loginFailed.
func (s *Server) guardLogin(c echo.Context, username Username) (local, jid string, err error) {
	local, err = s.username(string(username))
	if err != nil {
		return "", "", err
	}
	jid = s.bareJID(local)
	if err := s.throttle(c, jid); err != nil {
		return "", "", err
	}
	return local, jid, nil
}

// tooManyAttempts is the 429 of a spent rate limit, with Retry-After d.
func tooManyAttempts(c echo.Context, d time.Duration) error {
	setRetryAfter(c, d)
	return errorf(http.StatusTooManyRequests, "too many attempts; retry later")
}

// lockedOut is the 403 of logins locked out (the user's at this address,
// everywhere, or the user's TOTP), with Retry-After.
func (s *Server) lockedOut(c echo.Context, until time.Time) error {
	setRetryAfter(c, until.Sub(s.authx.now()))
	msg := "logins are locked after too many failed attempts; retry later"
	if s.authx.passkeys != nil {
		msg += ", or sign in with a passkey"
	}
	return errorf(http.StatusForbidden, msg)
}

// loginFailed records a failed login of user (a bare JID) from the
// client's address for the lockout and logs it; it never sees the
// credential. A failed passkey login is logged, not counted: it guesses
// no secret, and a passkey login is never locked.
func (s *Server) loginFailed(c echo.Context, user, method string) {
	ip := s.clientAddr(c)
	s.log.Info("login refused", "user", user, "method", method, "ip", c.RealIP())
	if method == auth.MethodWebAuthn {
		return
	}
	until, err := s.authx.fails.add(c.Request().Context(), user, ip)
	if err != nil {
		s.log.Error("record a login failure", "user", user, "err", err)
	} else if !until.IsZero() {
		s.log.Warn("logins locked after failures", "user", user, "until", until.UTC(), "ip", c.RealIP())
	}
}

// loginSucceeded forgets the failures of user (a bare JID) from the
// client's address.
func (s *Server) loginSucceeded(c echo.Context, user string) {
	if err := s.authx.fails.clear(c.Request().Context(), user, s.clientAddr(c)); err != nil {
		s.log.Error("clear login failures", "user", user, "err", err)
	}
}
