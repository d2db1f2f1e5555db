package auth

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestVerifiedMemo: once a token is remembered as verified, every later
// Verify still gives the answer a full verification gives (a new Tokens
// on the same keys, store and clock, which remembers nothing).
func TestVerifiedMemo(t *testing.T) {
	type setup struct {
		tk    *Tokens
		clock *fakeClock
		tok   string
		c     Claims
	}
	for _, tt := range []struct {
		name   string
		leeway time.Duration
		change func(t *testing.T, s setup) string // returns the token to verify again
		want   error                              // nil: valid
	}{
		{name: "unchanged", change: func(_ *testing.T, s setup) string { return s.tok }},
		{name: "expired", change: func(_ *testing.T, s setup) string {
			s.clock.Advance(DefaultLifetime)
			return s.tok
		}, want: ErrExpired},
		{name: "within-leeway", leeway: 10 * time.Second, change: func(_ *testing.T, s setup) string {
			s.clock.Advance(DefaultLifetime + 9*time.Second)
			return s.tok
		}},
		{name: "past-leeway", leeway: 10 * time.Second, change: func(_ *testing.T, s setup) string {
			s.clock.Advance(DefaultLifetime + 10*time.Second)
			return s.tok
		}, want: ErrExpired},
		{name: "clock-set-back-before-issue", change: func(_ *testing.T, s setup) string {
			s.clock.Advance(-time.Minute)
			return s.tok
		}, want: ErrInvalidToken},
		{name: "key-retired", change: func(t *testing.T, s setup) string {
			// The token is unexpired, but its key stops verifying.
			if err := s.tk.keys.Rotate(s.clock.Now(), time.Second); err != nil {
				t.Fatal(err)
			}
			s.clock.Advance(time.Second)
			return s.tok
		}, want: ErrInvalidToken},
		{name: "signature-tampered", change: func(_ *testing.T, s setup) string {
			b := []byte(s.tok)
			if b[len(b)-2] == 'A' {
				b[len(b)-2] = 'B'
			} else {
				b[len(b)-2] = 'A'
			}
			return string(b)
		}, want: ErrInvalidToken},
		{name: "revoked", change: func(t *testing.T, s setup) string {
			if err := s.tk.Revoke(t.Context(), s.c); err != nil {
				t.Fatal(err)
			}
			return s.tok
		}, want: ErrRevoked},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			clock := newClock()
			tk, st := newTokens(t, clock, func(c *TokensConfig) { c.Leeway = tt.leeway })
			tok, c, _ := tk.Issue(ctx, "a@x", MethodPassword)
			if _, err := tk.Verify(ctx, tok); err != nil {
				t.Fatal(err)
			}
			if tk.memo.size() != 1 {
				t.Fatalf("memo holds %d tokens after one Verify, want 1", tk.memo.size())
			}
			again := tt.change(t, setup{tk, clock, tok, c})
			got, err := tk.Verify(ctx, again)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Verify after %s: %v, want %v", tt.name, err, tt.want)
			}
			full, nerr := NewTokens(TokensConfig{Keys: tk.keys, Store: st, Audience: testAud, Issuer: testIss, Clock: clock.Now, Leeway: tt.leeway})
			if nerr != nil {
				t.Fatal(nerr)
			}
			want, ferr := full.Verify(ctx, again)
			if (ferr == nil) != (err == nil) || errors.Is(ferr, ErrExpired) != errors.Is(err, ErrExpired) || errors.Is(ferr, ErrRevoked) != errors.Is(err, ErrRevoked) {
				t.Errorf("memo says %v, a full verification %v", err, ferr)
			}
			if err == nil && fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("memo claims %+v, full verification %+v", got, want)
			}
		})
	}
}

// TestVerifiedMemoPurpose: a remembered purpose token is still refused
// where its purpose does not fit, and single use still holds.
func TestVerifiedMemoPurpose(t *testing.T) {
	ctx := t.Context()
	tk, _ := newTokens(t, newClock())
	tok, _, _ := tk.IssuePurpose(ctx, "a@x", "sse", time.Minute)
	if _, err := tk.VerifyPurpose(ctx, tok, "sse"); err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Verify(ctx, tok); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("purpose token as access token: %v", err)
	}
	if _, err := tk.VerifyPurpose(ctx, tok, "push-reply"); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("wrong purpose: %v", err)
	}
	once, _, _ := tk.IssuePurpose(ctx, "a@x", "push-reply", time.Minute)
	if _, err := tk.VerifyPurpose(ctx, once, "push-reply"); err != nil {
		t.Fatal(err)
	}
	if _, err := tk.VerifyPurpose(ctx, once, "push-reply"); !errors.Is(err, ErrRevoked) {
		t.Errorf("single-use token used twice: %v", err)
	}
}

// TestVerifiedMemoNotForged: a token signed by a key the gateway does not
// have is never remembered, however often it is sent.
func TestVerifiedMemoNotForged(t *testing.T) {
	ctx := t.Context()
	clock := newClock()
	tk, _ := newTokens(t, clock)
	_, other, _ := ed25519.GenerateKey(nil)
	good, c, _ := tk.Issue(ctx, "a@x", MethodPassword)
	if _, err := tk.Verify(ctx, good); err != nil {
		t.Fatal(err)
	}
	forged := forge(t, jwt.SigningMethodEdDSA, other, c.KeyID, goodClaims(clock.Now()))
	for range 3 {
		if _, err := tk.Verify(ctx, forged); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("forged with the right kid: %v", err)
		}
	}
	if n := tk.memo.size(); n != 1 {
		t.Errorf("memo holds %d tokens, want only the good one", n)
	}
}

func TestVerifiedMemoBounded(t *testing.T) {
	ctx := t.Context()
	clock := newClock()
	tk, _ := newTokens(t, clock)
	tk.memo.max = 4
	var toks []string
	for i := range 10 {
		tok, _, _ := tk.Issue(ctx, fmt.Sprint("u", i, "@x"), MethodPassword)
		toks = append(toks, tok)
		if _, err := tk.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if n := tk.memo.size(); n > 4 {
			t.Fatalf("memo holds %d tokens, max 4", n)
		}
	}
	for i, tok := range toks { // forgotten ones verify in full again
		if _, err := tk.Verify(ctx, tok); err != nil {
			t.Errorf("token %d after eviction: %v", i, err)
		}
	}
}
