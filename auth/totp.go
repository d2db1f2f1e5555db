package auth

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/fnv"
	"image/png"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP parameters. These are the defaults every authenticator app
// understands (many ignore other values in the otpauth URL).
const (
	totpPeriod = 30 // seconds
	totpDigits = otp.DigitsSix
	totpSkew   = 1 // steps accepted either side of the current one
	qrSize     = 256
)

// Defaults for TOTPConfig.
const (
	DefaultMaxFailures   = 5
	DefaultFailureWindow = 5 * time.Minute
)

// TOTPConfig configures NewTOTP.
type TOTPConfig struct {
	Keys  *Keys     // required: seals secrets at rest
	Store TOTPStore // required

	// Issuer names the service in authenticator apps; required.
	Issuer string

	// MaxFailures failed attempts within FailureWindow lock a user out
	// until the oldest of them leaves the window. Zero means
	// DefaultMaxFailures and DefaultFailureWindow.
	MaxFailures   int
	FailureWindow time.Duration

	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
}

// TOTP manages time-based one-time passwords (RFC 6238; SHA-1, 6 digits,
// 30-second steps) as a second factor: enrolment, validation with a one-step
// window, replay protection and a per-user lockout. It is safe for
// concurrent use; attempts for one user are serialised within the process
// so parallel guesses cannot overrun the failure limit.
type TOTP struct {
	keys        *Keys
	store       TOTPStore
	issuer      string
	maxFailures int
	window      time.Duration
	now         func() time.Time

	locks [64]sync.Mutex // striped by user
}

// Enrollment is what a user needs to add the secret to an authenticator
// app. It holds the secret: show it once, never log or store it.
type Enrollment struct {
	URL string // otpauth://totp/... URI, with the secret
	QR  string // the URL as a PNG QR code, as a data: URL
}

// LogValue hides the secret.
func (Enrollment) LogValue() slog.Value { return slog.StringValue("REDACTED") }

// String hides the secret from fmt.
func (Enrollment) String() string { return "auth.Enrollment{REDACTED}" }

// LockedError is returned by TOTP.Validate while a user is locked out. It
// matches ErrLocked.
type LockedError struct {
	Until time.Time // when the next attempt will be accepted
}

func (e *LockedError) Error() string { return ErrLocked.Error() }

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// NewTOTP validates cfg and returns a TOTP.
func NewTOTP(cfg TOTPConfig) (*TOTP, error) {
	switch {
	case cfg.Keys == nil:
		return nil, errors.New("auth: TOTPConfig.Keys is nil")
	case cfg.Store == nil:
		return nil, errors.New("auth: TOTPConfig.Store is nil")
	case cfg.Issuer == "":
		return nil, errors.New("auth: TOTPConfig.Issuer is empty")
	case cfg.MaxFailures < 0, cfg.FailureWindow < 0:
		return nil, errors.New("auth: negative TOTPConfig limit")
	}
	t := &TOTP{
		keys:        cfg.Keys,
		store:       cfg.Store,
		issuer:      cfg.Issuer,
		maxFailures: cfg.MaxFailures,
		window:      cfg.FailureWindow,
		now:         cfg.Clock,
	}
	if t.maxFailures == 0 {
		t.maxFailures = DefaultMaxFailures
	}
	if t.window == 0 {
		t.window = DefaultFailureWindow
	}
	if t.now == nil {
		t.now = time.Now
	}
	return t, nil
}

// Enroll creates a new secret for user, stores it sealed and pending, and
// returns it for the authenticator app. A pending enrolment is replaced; an
// active one makes Enroll fail with ErrAlreadyEnabled. The first successful
// Validate activates the secret.
func (t *TOTP) Enroll(ctx context.Context, user string) (Enrollment, error) {
	if user == "" {
		return Enrollment{}, errors.New("auth: totp enroll: empty user")
	}
	mu := t.lock(user)
	mu.Lock()
	defer mu.Unlock()

	switch sec, err := t.store.TOTPSecret(ctx, user); {
	case err == nil && sec.Active:
		return Enrollment{}, ErrAlreadyEnabled
	case err != nil && !errors.Is(err, ErrNotFound):
		return Enrollment{}, fmt.Errorf("auth: totp enroll: %w", err)
	}

	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      t.issuer,
		AccountName: user,
		Period:      totpPeriod,
		SecretSize:  20, // 160 bits, as RFC 4226 recommends
		Digits:      totpDigits,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return Enrollment{}, fmt.Errorf("auth: totp enroll: %w", err)
	}
	img, err := key.Image(qrSize, qrSize)
	if err != nil {
		return Enrollment{}, fmt.Errorf("auth: totp qr: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return Enrollment{}, fmt.Errorf("auth: totp qr: %w", err)
	}

	ct, nonce := t.keys.sealTOTP(user, []byte(key.Secret()))
	err = t.store.PutTOTPSecret(ctx, TOTPSecret{
		User:       user,
		Ciphertext: ct,
		Nonce:      nonce,
		CreatedAt:  t.now().UTC(),
	})
	if err != nil {
		return Enrollment{}, fmt.Errorf("auth: totp enroll: %w", err)
	}
	return Enrollment{
		URL: key.URL(),
		QR:  "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()),
	}, nil
}

// Validate checks code for user. It accepts the code of the current 30-second
// step or of the step either side, once per step; spaces in code are
// ignored. It accepts one of the user's recovery codes too, once
// (recovery.go; only when TOTP is active). A success activates a pending enrolment and clears the user's
// failures. It returns ErrNotEnrolled, ErrInvalidCode, ErrCodeUsed (replay;
// counted as a failure), a *LockedError (matching ErrLocked) once
// MaxFailures failures fall within FailureWindow, or a store error.
func (t *TOTP) Validate(ctx context.Context, user, code string) error {
	mu := t.lock(user)
	mu.Lock()
	defer mu.Unlock()

	now := t.now()
	// A failure counts while now < failure+window; stores keep milliseconds.
	fails, err := t.store.TOTPFailures(ctx, user, now.Add(-t.window+time.Millisecond))
	if err != nil {
		return fmt.Errorf("auth: totp validate: %w", err)
	}
	if len(fails) >= t.maxFailures {
		// Locked until enough failures have aged out of the window.
		return &LockedError{Until: fails[len(fails)-t.maxFailures].Add(t.window)}
	}

	sec, err := t.store.TOTPSecret(ctx, user)
	if errors.Is(err, ErrNotFound) {
		return ErrNotEnrolled
	}
	if err != nil {
		return fmt.Errorf("auth: totp validate: %w", err)
	}
	if canon, ok := RecoveryCode(code); ok {
		return t.recover(ctx, user, canon, sec.Active, now, len(fails) > 0)
	}
	secret, err := t.keys.openTOTP(user, sec.Ciphertext, sec.Nonce)
	if err != nil {
		return err
	}

	step, ok, err := matchStep(string(secret), normalizeCode(code), now)
	if err != nil {
		return fmt.Errorf("auth: totp validate: %w", err)
	}
	if !ok {
		return t.fail(ctx, user, now, ErrInvalidCode)
	}
	// The step's code stays acceptable until the step after next begins.
	first, err := t.store.UseTOTPStep(ctx, user, step, time.Unix((step+1+totpSkew)*totpPeriod, 0))
	if err != nil {
		return fmt.Errorf("auth: totp validate: %w", err)
	}
	if !first {
		return t.fail(ctx, user, now, ErrCodeUsed)
	}
	if !sec.Active {
		if err := t.store.ActivateTOTPSecret(ctx, user); err != nil {
			return fmt.Errorf("auth: totp activate: %w", err)
		}
	}
	if len(fails) > 0 {
		if err := t.store.ClearTOTPFailures(ctx, user); err != nil {
			return fmt.Errorf("auth: totp validate: %w", err)
		}
	}
	return nil
}

// recover is Validate for a recovery code (recovery.go): it spends the
// code if it is one of user's; a pending enrolment has none.
func (t *TOTP) recover(ctx context.Context, user, canon string, active bool, now time.Time, failed bool) error {
	if !active {
		return t.fail(ctx, user, now, ErrInvalidCode)
	}
	ok, err := t.useRecoveryCode(ctx, user, canon)
	if err != nil {
		return err
	}
	if !ok {
		return t.fail(ctx, user, now, ErrInvalidCode)
	}
	if failed {
		if err := t.store.ClearTOTPFailures(ctx, user); err != nil {
			return fmt.Errorf("auth: totp validate: %w", err)
		}
	}
	return nil
}

func (t *TOTP) fail(ctx context.Context, user string, now time.Time, why error) error {
	if err := t.store.AddTOTPFailure(ctx, user, now); err != nil {
		return fmt.Errorf("auth: totp validate: %w", err)
	}
	return why
}

// Enabled reports whether user has an active TOTP secret (a pending
// enrolment does not count).
func (t *TOTP) Enabled(ctx context.Context, user string) (bool, error) {
	sec, err := t.store.TOTPSecret(ctx, user)
	switch {
	case errors.Is(err, ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("auth: totp enabled: %w", err)
	}
	return sec.Active, nil
}

// Disable removes user's secret, active or pending, or returns
// ErrNotEnrolled. Callers should require a valid code first.
func (t *TOTP) Disable(ctx context.Context, user string) error {
	mu := t.lock(user)
	mu.Lock()
	defer mu.Unlock()
	err := t.store.DeleteTOTPSecret(ctx, user)
	switch {
	case errors.Is(err, ErrNotFound):
		return ErrNotEnrolled
	case err != nil:
		return fmt.Errorf("auth: totp disable: %w", err)
	}
	return nil
}

func (t *TOTP) lock(user string) *sync.Mutex {
	h := fnv.New32a()
	h.Write([]byte(user))
	return &t.locks[h.Sum32()%uint32(len(t.locks))]
}

// normalizeCode drops the spaces people type or apps show ("123 456").
func normalizeCode(code string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, code)
}

// matchStep returns the time step within ±totpSkew of now whose code equals
// code. pquerna/otp's Validate does not say which step matched, which replay
// protection needs, so the window is walked here.
func matchStep(secret, code string, now time.Time) (int64, bool, error) {
	if len(code) != totpDigits.Length() {
		return 0, false, nil
	}
	for _, r := range code {
		if r < '0' || r > '9' {
			return 0, false, nil
		}
	}
	cur := now.Unix() / totpPeriod
	found, match := int64(0), false
	for step := cur - totpSkew; step <= cur+totpSkew; step++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), totp.ValidateOpts{
			Period:    totpPeriod,
			Digits:    totpDigits,
			Algorithm: otp.AlgorithmSHA1,
		})
		if err != nil {
			return 0, false, err
		}
		// Compare every step in constant time; keep the first match.
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && !match {
			found, match = step, true
		}
	}
	return found, match, nil
}
