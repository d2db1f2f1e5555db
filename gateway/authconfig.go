package gateway

import (
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
	// Failures are counted in memory.
	MaxFailures, MaxUserFailures int
	FailureWindow                time.Duration

	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
}

// authState is the Server's state for AuthConfig.
type authState struct {
	totp      *auth.TOTP
	passkeys  *auth.Passkeys
	totpOnly  bool
	ticketTTL time.Duration
	now       func() time.Time

	perIP, perUser *keyedLimiter
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
	a.perIP = newKeyedLimiter(cfg.PerIP.orDefault(DefaultIPRateLimit), a.now)
	a.perUser = newKeyedLimiter(cfg.PerUser.orDefault(DefaultUserRateLimit), a.now)
	window := cfg.FailureWindow
	if window <= 0 {
		window = DefaultFailureWindow
	}
	a.fails = lockout{
		pair: newFailures(countOr(cfg.MaxFailures, DefaultMaxFailures), window, a.now),
		user: newFailures(countOr(cfg.MaxUserFailures, DefaultMaxUserFailures), window, a.now),
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
