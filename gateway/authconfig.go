package gateway

import (
	"context"
	"time"

	"github.com/sparkgate/sparkgate/auth"
)

// Defaults of AuthConfig.
const (
	DefaultTicketTTL       = 5 * time.Minute
	DefaultMaxFailures     = 10
	DefaultMaxUserFailures = 100
	DefaultFailureWindow   = 15 * time.Minute
)

// Default rate limits of the login operations.
var (
	DefaultIPRateLimit   = RateLimit{Every: time.Second, Burst: 60}
	DefaultUserRateLimit = RateLimit{Every: 6 * time.Second, Burst: 20}
)

// mfaPurpose is the purpose of the login tickets of the TOTP second step.
const mfaPurpose = "mfa-totp"

// AuthConfig configures the second factors and the brute-force limits of
// the login operations. The zero value has no TOTP and no passkeys (their
// operations answer 501) and the default limits.
type AuthConfig struct {
	// TOTP is the TOTP second factor; nil switches TOTP off.
	TOTP *auth.TOTP
	// Passkeys are the WebAuthn passkeys; nil switches them off.
	Passkeys *auth.Passkeys
	// TOTPOnly lets POST /totp/authenticate/{username}/{code} log a user
	// in with the code alone (an empty body), as the SparkWeb reference
	// did. Off by default: the code is a second factor.
	TOTPOnly bool
	// RefuseQueryToken refuses the access token as ?token= on the event
	// stream (the SparkWeb reference's EventSource clients send it so),
	// leaving the Authorization header and stream tickets
	// (streamticket.go): a token in a URL is written into access logs.
	// Off by default, for those clients.
	RefuseQueryToken bool
	// TicketTTL is how long the ticket of a login waiting for its second
	// factor is valid; zero means DefaultTicketTTL. It must not exceed
	// the token lifetime.
	TicketTTL time.Duration

	// PerIP and PerUser limit the attempts on the login operations (login,
	// register, TOTP, WebAuthn) per client address and per username;
	// zero fields mean DefaultIPRateLimit and DefaultUserRateLimit.
	// Passkey logins spend only PerIP: they cannot be guessed, and a
	// username's attempts are anyone's to spend.
	PerIP, PerUser RateLimit
	// MaxFailures failed logins of a user from one client address within
	// FailureWindow lock the user out at that address (403) until the
	// oldest leaves the window; MaxUserFailures failed logins of a user
	// from all addresses together lock the user out everywhere. Passkey
	// logins are never locked out, and their failures do not count. Zero
	// means DefaultMaxFailures, DefaultMaxUserFailures and
	// DefaultFailureWindow; a negative count switches its lock off.
	// Failures are counted in memory, or in Failures when set.
	MaxFailures, MaxUserFailures int
	FailureWindow                time.Duration
	// Failures, when set, keeps the failed logins of the lockout in a
	// store (store.DB) instead of this process's memory, so that gateways
	// sharing it lock a user out together (see FailureStore).
	Failures FailureStore
	// Attempts, when set, keeps the PerIP and PerUser budgets in a store
	// (store.DB) instead of this process's memory, so that gateways
	// sharing it share them (see AttemptStore).
	Attempts AttemptStore

	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
}

// FailureStore keeps failed logins for the lockout (store.DB is one).
// Failures are counted per user and client address, and per user under
// the address AllAddrs for all addresses together.
type FailureStore interface {
	// AddLoginFailure records a failure of user from addr at at, under
	// addr and under AllAddrs.
	AddLoginFailure(ctx context.Context, user, addr string, at time.Time) error
	// LoginFailures returns the newest failures of user from addr (or
	// AllAddrs) at or after since, at most limit, newest first.
	LoginFailures(ctx context.Context, user, addr string, since time.Time, limit int) ([]time.Time, error)
	// ClearLoginFailures forgets the failures of user from addr; with
	// addr "" all of the user's, AllAddrs included.
	ClearLoginFailures(ctx context.Context, user, addr string) error
}

// AttemptStore keeps token buckets of login attempts (store.DB is one).
type AttemptStore interface {
	// TakeAttempt spends one attempt of bucket, which holds burst and
	// earns one back every every; when none is left it returns false and
	// how long until one is.
	TakeAttempt(ctx context.Context, bucket string, now time.Time, every time.Duration, burst int) (bool, time.Duration, error)
}

// AllAddrs is the client address under which a FailureStore counts a
// user's failures from every address.
const AllAddrs = "*"

// authState is the Server's state for AuthConfig.
type authState struct {
	totp      *auth.TOTP
	passkeys  *auth.Passkeys
	totpOnly  bool
	ticketTTL time.Duration
	now       func() time.Time

	perIP, perUser attemptLimiter
	fails          lockout
	tickets        *usedTickets
	challenges     *challengeIndex
}

func (s *Server) initAuth() error {
	cfg := s.cfg.Auth
	a := &s.authx
	a.totp, a.passkeys, a.totpOnly = cfg.TOTP, cfg.Passkeys, cfg.TOTPOnly
	a.now = cfg.Clock
	if a.now == nil {
		a.now = time.Now
	}
	a.ticketTTL = cfg.TicketTTL
	if a.ticketTTL <= 0 {
		a.ticketTTL = DefaultTicketTTL
	}
	if lt := s.tokens.Lifetime(); a.ticketTTL > lt {
		a.ticketTTL = lt
	}
	ipLimit, userLimit := cfg.PerIP.orDefault(DefaultIPRateLimit), cfg.PerUser.orDefault(DefaultUserRateLimit)
	if cfg.Attempts != nil {
		a.perIP = storedLimiter{st: cfg.Attempts, prefix: "ip:", limit: ipLimit, now: a.now, log: s.log}
		a.perUser = storedLimiter{st: cfg.Attempts, prefix: "user:", limit: userLimit, now: a.now, log: s.log}
	} else {
		a.perIP = newKeyedLimiter(ipLimit, a.now)
		a.perUser = newKeyedLimiter(userLimit, a.now)
	}
	window := cfg.FailureWindow
	if window <= 0 {
		window = DefaultFailureWindow
	}
	pairMax, userMax := countOr(cfg.MaxFailures, DefaultMaxFailures), countOr(cfg.MaxUserFailures, DefaultMaxUserFailures)
	if cfg.Failures != nil {
		a.fails = storedLockout{st: cfg.Failures, pairMax: pairMax, user: userMax, window: window, now: a.now}
	} else {
		a.fails = memoryLockout{pair: newFailures(pairMax, window, a.now), user: newFailures(userMax, window, a.now)}
	}
	a.tickets = newUsedTickets(a.now)
	a.challenges = newChallengeIndex(a.now)
	return nil
}

// countOr is n, or d when n is zero.
func countOr(n, d int) int {
	if n == 0 {
		return d
	}
	return n
}
