package auth

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

const totpUser = "alice@example.org"

func newTOTP(t testing.TB, clock *fakeClock) (*TOTP, *memStore) {
	t.Helper()
	st := newMemStore()
	tt, err := NewTOTP(TOTPConfig{Keys: newKeys(t), Store: st, Issuer: "sparkgate", Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return tt, st
}

// enroll enrolls user and returns the base32 secret read back from the
// otpauth URL, as an authenticator app would.
func enroll(t testing.TB, tt *TOTP, user string) (string, Enrollment) {
	t.Helper()
	e, err := tt.Enroll(t.Context(), user)
	if err != nil {
		t.Fatal(err)
	}
	key, err := otp.NewKeyFromURL(e.URL)
	if err != nil {
		t.Fatal(err)
	}
	return key.Secret(), e
}

// codeAt is what an authenticator shows at time at.
func codeAt(t testing.TB, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Digits: otp.DigitsSix})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTOTPEnroll(t *testing.T) {
	ctx := t.Context()
	clock := newClock()
	tt, st := newTOTP(t, clock)
	secret, e := enroll(t, tt, totpUser)

	u, err := url.Parse(e.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme != "otpauth" || u.Host != "totp" || q.Get("issuer") != "sparkgate" ||
		q.Get("algorithm") != "SHA1" || q.Get("digits") != "6" || q.Get("period") != "30" ||
		!strings.Contains(u.Path, totpUser) || len(secret) != 32 {
		t.Errorf("URL = %s", e.URL)
	}

	data, ok := strings.CutPrefix(e.QR, "data:image/png;base64,")
	if !ok {
		t.Fatalf("QR is not a PNG data URL: %.40s", e.QR)
	}
	raw, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != qrSize || b.Dy() != qrSize {
		t.Errorf("QR size = %v", b)
	}

	sec := st.secrets[totpUser]
	if sec.Active || bytes.Contains(sec.Ciphertext, []byte(secret)) || len(sec.Nonce) == 0 {
		t.Errorf("stored secret not sealed or not pending: %+v", sec)
	}
	if on, err := tt.Enabled(ctx, totpUser); err != nil || on {
		t.Errorf("Enabled while pending = %v, %v", on, err)
	}

	// Enrolling again while pending replaces the secret.
	secret2, _ := enroll(t, tt, totpUser)
	if secret2 == secret {
		t.Error("re-enrolment kept the secret")
	}
	if err := tt.Validate(ctx, totpUser, codeAt(t, secret2, clock.Now())); err != nil {
		t.Fatalf("Validate = %v", err)
	}
	if on, err := tt.Enabled(ctx, totpUser); err != nil || !on {
		t.Errorf("Enabled after first code = %v, %v", on, err)
	}
	if _, err := tt.Enroll(ctx, totpUser); !errors.Is(err, ErrAlreadyEnabled) {
		t.Errorf("Enroll while active = %v, want ErrAlreadyEnabled", err)
	}

	var buf bytes.Buffer
	logTo(&buf).Info("x", "enrollment", e, "secret", sec)
	if s := buf.String() + fmt.Sprint(e); strings.Contains(s, secret) || strings.Contains(s, "otpauth") {
		t.Errorf("secret leaked: %s", s)
	}
}

func TestTOTPWindow(t *testing.T) {
	clock := newClock()
	tt, _ := newTOTP(t, clock)
	secret, _ := enroll(t, tt, totpUser)
	tests := []struct {
		name   string
		offset time.Duration // of the authenticator's clock
		want   error
	}{
		{"now", 0, nil},
		{"one-step-behind", -30 * time.Second, nil},
		{"one-step-ahead", 30 * time.Second, nil},
		{"two-steps-behind", -60 * time.Second, ErrInvalidCode},
		{"two-steps-ahead", 60 * time.Second, ErrInvalidCode},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A fresh step per row so rows do not replay each other; the
			// base sits mid-step.
			clock.Advance(time.Duration(i+1)*10*time.Minute + 15*time.Second - time.Duration(clock.Now().Unix()%30)*time.Second)
			err := tt.Validate(t.Context(), totpUser, codeAt(t, secret, clock.Now().Add(tc.offset)))
			if !errors.Is(err, tc.want) {
				t.Errorf("Validate = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestTOTPReplay(t *testing.T) {
	ctx := t.Context()
	clock := newClock()
	tt, _ := newTOTP(t, clock)
	secret, _ := enroll(t, tt, totpUser)
	code := codeAt(t, secret, clock.Now())
	if err := tt.Validate(ctx, totpUser, code); err != nil {
		t.Fatal(err)
	}
	if err := tt.Validate(ctx, totpUser, code); !errors.Is(err, ErrCodeUsed) {
		t.Errorf("replay = %v, want ErrCodeUsed", err)
	}
	// Still refused a step later, while the code is inside the window.
	clock.Advance(30 * time.Second)
	if err := tt.Validate(ctx, totpUser, code); !errors.Is(err, ErrCodeUsed) {
		t.Errorf("replay one step later = %v, want ErrCodeUsed", err)
	}
	// The next step's code is fine, with spaces too.
	next := codeAt(t, secret, clock.Now())
	if err := tt.Validate(ctx, totpUser, next[:3]+" "+next[3:]); err != nil {
		t.Errorf("next code = %v", err)
	}
	// Replay protection is per user.
	bob, _ := enroll(t, tt, "bob@example.org")
	if err := tt.Validate(ctx, "bob@example.org", codeAt(t, bob, clock.Now())); err != nil {
		t.Errorf("bob's code = %v", err)
	}
}

func TestTOTPMalformed(t *testing.T) {
	clock := newClock()
	tt, _ := newTOTP(t, clock)
	enroll(t, tt, totpUser)
	for _, code := range []string{"", "12345", "1234567", "abcdef", "12345\x00", "١٢٣٤٥٦"} {
		if err := tt.Validate(t.Context(), totpUser, code); !errors.Is(err, ErrInvalidCode) {
			t.Errorf("Validate(%q) = %v, want ErrInvalidCode", code, err)
		}
		clock.Advance(2 * time.Minute) // stay below the lockout
	}
}

func TestTOTPLockout(t *testing.T) {
	ctx := t.Context()
	clock := newClock()
	tt, _ := newTOTP(t, clock)
	secret, _ := enroll(t, tt, totpUser)
	wrong := func() string { // a code that is not valid in the window
		for i := 0; ; i++ {
			c := fmt.Sprintf("%06d", i)
			ok := false
			for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
				ok = ok || c == codeAt(t, secret, clock.Now().Add(d))
			}
			if !ok {
				return c
			}
		}
	}
	first := clock.Now()
	for i := range DefaultMaxFailures {
		if err := tt.Validate(ctx, totpUser, wrong()); !errors.Is(err, ErrInvalidCode) {
			t.Fatalf("attempt %d = %v", i, err)
		}
		clock.Advance(10 * time.Second)
	}
	err := tt.Validate(ctx, totpUser, codeAt(t, secret, clock.Now()))
	var le *LockedError
	if !errors.Is(err, ErrLocked) || !errors.As(err, &le) {
		t.Fatalf("right code while locked = %v, want ErrLocked", err)
	}
	if want := first.Add(DefaultFailureWindow); !le.Until.Equal(want) {
		t.Errorf("Until = %v, want %v", le.Until, want)
	}
	// Other users are not affected.
	bob, _ := enroll(t, tt, "bob@example.org")
	if err := tt.Validate(ctx, "bob@example.org", codeAt(t, bob, clock.Now())); err != nil {
		t.Errorf("bob = %v", err)
	}

	clock.Advance(le.Until.Sub(clock.Now()))
	if err := tt.Validate(ctx, totpUser, codeAt(t, secret, clock.Now())); err != nil {
		t.Fatalf("after the window = %v", err)
	}
	// Success cleared the failures: a full budget again.
	for i := range DefaultMaxFailures {
		if err := tt.Validate(ctx, totpUser, wrong()); !errors.Is(err, ErrInvalidCode) {
			t.Fatalf("attempt %d after success = %v", i, err)
		}
	}
	if err := tt.Validate(ctx, totpUser, wrong()); !errors.Is(err, ErrLocked) {
		t.Errorf("after %d new failures = %v, want ErrLocked", DefaultMaxFailures, err)
	}
}

// TestTOTPParallelGuesses checks that concurrent guesses cannot exceed the
// failure budget.
func TestTOTPParallelGuesses(t *testing.T) {
	clock := newClock()
	tt, _ := newTOTP(t, clock)
	enroll(t, tt, totpUser)
	const n = 40
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[error]int{}
	for i := range n {
		wg.Go(func() {
			err := tt.Validate(t.Context(), totpUser, fmt.Sprintf("%06d", 999000+i))
			switch {
			case errors.Is(err, ErrLocked):
				err = ErrLocked
			case errors.Is(err, ErrInvalidCode):
				err = ErrInvalidCode
			}
			mu.Lock()
			counts[err]++
			mu.Unlock()
		})
	}
	wg.Wait()
	// One of the 40 guesses may be right by chance (p ~ 1e-4): tolerate it.
	if counts[ErrInvalidCode] > DefaultMaxFailures || counts[ErrInvalidCode]+counts[ErrLocked] < n-1 {
		t.Errorf("outcomes = %v; want at most %d ErrInvalidCode, the rest ErrLocked", counts, DefaultMaxFailures)
	}
}

func TestTOTPDisable(t *testing.T) {
	ctx := t.Context()
	clock := newClock()
	tt, _ := newTOTP(t, clock)
	if err := tt.Validate(ctx, totpUser, "123456"); !errors.Is(err, ErrNotEnrolled) {
		t.Errorf("Validate before enrolment = %v", err)
	}
	if err := tt.Disable(ctx, totpUser); !errors.Is(err, ErrNotEnrolled) {
		t.Errorf("Disable before enrolment = %v", err)
	}
	secret, _ := enroll(t, tt, totpUser)
	if err := tt.Validate(ctx, totpUser, codeAt(t, secret, clock.Now())); err != nil {
		t.Fatal(err)
	}
	if err := tt.Disable(ctx, totpUser); err != nil {
		t.Fatal(err)
	}
	if on, _ := tt.Enabled(ctx, totpUser); on {
		t.Error("still enabled after Disable")
	}
	clock.Advance(time.Minute)
	if err := tt.Validate(ctx, totpUser, codeAt(t, secret, clock.Now())); !errors.Is(err, ErrNotEnrolled) {
		t.Errorf("old secret after Disable = %v", err)
	}
	if _, err := tt.Enroll(ctx, totpUser); err != nil {
		t.Errorf("Enroll after Disable = %v", err)
	}
}

// TestTOTPSecretBoundToUser moves a sealed secret to another user's row:
// it must not open there.
func TestTOTPSecretBoundToUser(t *testing.T) {
	clock := newClock()
	tt, st := newTOTP(t, clock)
	secret, _ := enroll(t, tt, totpUser)
	moved := st.secrets[totpUser]
	moved.User = "mallory@example.org"
	st.secrets[moved.User] = moved
	if err := tt.Validate(t.Context(), moved.User, codeAt(t, secret, clock.Now())); err == nil {
		t.Error("moved secret validated for another user")
	}
}

func TestNewTOTPConfig(t *testing.T) {
	k, st := newKeys(t), newMemStore()
	for name, cfg := range map[string]TOTPConfig{
		"no-keys":   {Store: st, Issuer: "x"},
		"no-store":  {Keys: k, Issuer: "x"},
		"no-issuer": {Keys: k, Store: st},
		"negative":  {Keys: k, Store: st, Issuer: "x", MaxFailures: -1},
	} {
		if _, err := NewTOTP(cfg); err == nil {
			t.Errorf("%s: NewTOTP succeeded", name)
		}
	}
}
