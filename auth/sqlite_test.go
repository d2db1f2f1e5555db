package auth_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/store"
)

// TestWithSQLite runs tokens and TOTP over the real store, across a
// restart of both the store and the keys.
func TestWithSQLite(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	now := time.Now()
	clock := func() time.Time { return now }

	start := func() (*store.SQLite, *auth.Tokens, *auth.TOTP) {
		t.Helper()
		st, err := store.Open(ctx, filepath.Join(dir, "sparkgate.db"))
		if err != nil {
			t.Fatal(err)
		}
		keys, err := auth.LoadOrCreateKeys(filepath.Join(dir, "keys"))
		if err != nil {
			t.Fatal(err)
		}
		tk, err := auth.NewTokens(auth.TokensConfig{Keys: keys, Store: st, Audience: "a", Issuer: "i", Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		tt, err := auth.NewTOTP(auth.TOTPConfig{Keys: keys, Store: st, Issuer: "sparkgate", Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		return st, tk, tt
	}

	st, tk, tt := start()
	keep, _, _ := tk.Issue(ctx, "alice@x", auth.MethodPassword)
	gone, gc, _ := tk.Issue(ctx, "alice@x", auth.MethodPassword)
	if err := tk.Revoke(ctx, gc); err != nil {
		t.Fatal(err)
	}
	e, err := tt.Enroll(ctx, "alice@x")
	if err != nil {
		t.Fatal(err)
	}
	key, _ := otp.NewKeyFromURL(e.URL)
	code, _ := totp.GenerateCode(key.Secret(), now)
	if err := tt.Validate(ctx, "alice@x", code); err != nil {
		t.Fatal(err)
	}
	st.Close()

	// Restart: revocation, enrolment and used steps survive.
	st, tk, tt = start()
	defer st.Close()
	if _, err := tk.Verify(ctx, keep); err != nil {
		t.Errorf("kept token after restart: %v", err)
	}
	if _, err := tk.Verify(ctx, gone); !errors.Is(err, auth.ErrRevoked) {
		t.Errorf("revoked token after restart: %v", err)
	}
	if on, err := tt.Enabled(ctx, "alice@x"); err != nil || !on {
		t.Errorf("Enabled after restart = %v, %v", on, err)
	}
	if err := tt.Validate(ctx, "alice@x", code); !errors.Is(err, auth.ErrCodeUsed) {
		t.Errorf("replay after restart = %v", err)
	}
	if err := tt.Disable(ctx, "alice@x"); err != nil {
		t.Errorf("Disable = %v", err)
	}
	if err := tt.Disable(ctx, "alice@x"); !errors.Is(err, auth.ErrNotEnrolled) {
		t.Errorf("second Disable = %v", err)
	}
}
