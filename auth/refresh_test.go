package auth_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/store"
)

type refreshEnv struct {
	st      *store.SQLite
	keys    *auth.Keys
	tokens  *auth.Tokens
	refresh *auth.Refresh
	clock   *auth.FakeClock
}

// newRefresh builds Tokens (1h access tokens) and Refresh (2h session,
// 48h remember) over a new SQLite store.
func newRefresh(t testing.TB) *refreshEnv {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(t.Context(), filepath.Join(dir, "sparkgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	keys, err := auth.LoadOrCreateKeys(filepath.Join(dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	clock := auth.NewClock()
	e := &refreshEnv{st: st, keys: keys, clock: clock}
	e.restart(t)
	return e
}

// restart builds Tokens and Refresh again over the same store and keys,
// as a restarted gateway would, with an empty revocation view.
func (e *refreshEnv) restart(t testing.TB) {
	t.Helper()
	st, keys, clock := e.st, e.keys, e.clock
	tk, err := auth.NewTokens(auth.TokensConfig{Keys: keys, Store: st, Audience: "a", Issuer: "i",
		Lifetime: time.Hour, Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	rf, err := auth.NewRefresh(auth.RefreshConfig{Tokens: tk, Store: st,
		SessionLifetime: 2 * time.Hour, RememberLifetime: 48 * time.Hour, Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.tokens, e.refresh = tk, rf
}

func TestNewRefreshConfig(t *testing.T) {
	e := newRefresh(t)
	bad := []auth.RefreshConfig{
		{Store: e.st},
		{Tokens: e.tokens},
		{Tokens: e.tokens, Store: e.st, SessionLifetime: -1},
		{Tokens: e.tokens, Store: e.st, RememberLifetime: -1},
	}
	for i, cfg := range bad {
		if _, err := auth.NewRefresh(cfg); err == nil {
			t.Errorf("NewRefresh(bad[%d]) = nil error", i)
		}
	}
}

// TestRefreshRotate walks a family through its life: each refresh gives a
// working pair with the login's method, sliding the refresh expiry by the
// family's lifetime.
func TestRefreshRotate(t *testing.T) {
	tests := []struct {
		name     string
		method   string
		remember bool
		lifetime time.Duration
	}{
		{"session-password", auth.MethodPassword, false, 2 * time.Hour},
		{"session-totp", auth.MethodTOTP, false, 2 * time.Hour},
		{"remember-webauthn", auth.MethodWebAuthn, true, 48 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			e := newRefresh(t)
			g, err := e.refresh.Start(ctx, "alice@x", tt.method, tt.remember, "Firefox\x00 on Linux")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(g.Refresh, "sgr_") || g.AccessClaims.Family == "" || g.Remember != tt.remember {
				t.Fatalf("Start = %+v", g)
			}
			if want := e.clock.Now().Add(tt.lifetime); !g.RefreshExpiry.Equal(want) {
				t.Fatalf("refresh expiry %v, want %v", g.RefreshExpiry, want)
			}
			for range 3 {
				// Past the previous access token's life, within the refresh's.
				e.clock.Advance(time.Hour + time.Minute)
				if _, err := e.tokens.Verify(ctx, g.Access); !errors.Is(err, auth.ErrExpired) {
					t.Fatalf("old access token: %v, want expired", err)
				}
				next, err := e.refresh.Rotate(ctx, g.Refresh)
				if err != nil {
					t.Fatal(err)
				}
				cl, err := e.tokens.Verify(ctx, next.Access)
				if err != nil {
					t.Fatal(err)
				}
				if cl.Method != tt.method || cl.Family != g.AccessClaims.Family || cl.Subject != "alice@x" {
					t.Fatalf("refreshed claims %+v, want method %s in family %s", cl, tt.method, g.AccessClaims.Family)
				}
				if want := e.clock.Now().Add(tt.lifetime); !next.RefreshExpiry.Equal(want) || next.Refresh == g.Refresh {
					t.Fatalf("refreshed: expiry %v (want %v), same refresh token %v", next.RefreshExpiry, want, next.Refresh == g.Refresh)
				}
				g = next
			}
		})
	}
}

// TestRefreshRefused is the table of refresh tokens that get nothing.
func TestRefreshRefused(t *testing.T) {
	tests := []struct {
		name    string
		refresh func(t *testing.T, e *refreshEnv, g auth.Grant) string
		want    error
	}{
		{"garbage", func(*testing.T, *refreshEnv, auth.Grant) string { return "not-a-token" }, auth.ErrInvalidToken},
		{"access-token", func(_ *testing.T, _ *refreshEnv, g auth.Grant) string { return g.Access }, auth.ErrInvalidToken},
		{"unknown", func(*testing.T, *refreshEnv, auth.Grant) string { return "sgr_" + strings.Repeat("A", 43) }, auth.ErrInvalidToken},
		{"too-long", func(_ *testing.T, _ *refreshEnv, g auth.Grant) string { return g.Refresh + strings.Repeat("A", 300) }, auth.ErrInvalidToken},
		{"expired", func(_ *testing.T, e *refreshEnv, g auth.Grant) string {
			e.clock.Advance(2 * time.Hour)
			return g.Refresh
		}, auth.ErrExpired},
		{"family-revoked", func(t *testing.T, e *refreshEnv, g auth.Grant) string {
			if err := e.refresh.RevokeFamily(t.Context(), "alice@x", g.AccessClaims.Family); err != nil {
				t.Fatal(err)
			}
			return g.Refresh
		}, auth.ErrInvalidToken},
		{"user-revoked", func(t *testing.T, e *refreshEnv, g auth.Grant) string {
			// Another process's password change: only the cutoff is there.
			e.clock.Advance(time.Millisecond)
			if err := e.tokens.RevokeUser(t.Context(), "alice@x", e.clock.Now()); err != nil {
				t.Fatal(err)
			}
			return g.Refresh
		}, auth.ErrRevoked},
		{"user-refresh-deleted", func(t *testing.T, e *refreshEnv, g auth.Grant) string {
			if err := e.refresh.RevokeUser(t.Context(), "alice@x"); err != nil {
				t.Fatal(err)
			}
			return g.Refresh
		}, auth.ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newRefresh(t)
			g, err := e.refresh.Start(t.Context(), "alice@x", auth.MethodPassword, false, "")
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.refresh.Rotate(t.Context(), tt.refresh(t, e, g))
			if !errors.Is(err, tt.want) || !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatalf("Rotate = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestRefreshReuse: a spent refresh token presented again, after its
// successor was used, revokes the family, the refresh token and the access
// tokens issued since included; another family of the same user is
// untouched.
func TestRefreshReuse(t *testing.T) {
	ctx := t.Context()
	e := newRefresh(t)
	first, err := e.refresh.Start(ctx, "alice@x", auth.MethodTOTP, true, "")
	if err != nil {
		t.Fatal(err)
	}
	other, err := e.refresh.Start(ctx, "alice@x", auth.MethodPassword, false, "")
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.refresh.Rotate(ctx, first.Refresh)
	if err != nil {
		t.Fatal(err)
	}
	third, err := e.refresh.Rotate(ctx, second.Refresh)
	if err != nil {
		t.Fatal(err)
	}
	var reuse *auth.ReuseError
	if _, err := e.refresh.Rotate(ctx, first.Refresh); !errors.Is(err, auth.ErrRevoked) || !errors.As(err, &reuse) || reuse.Family != first.AccessClaims.Family {
		t.Fatalf("reuse: %v, want a ReuseError of the family", err)
	}
	for name, tok := range map[string]string{"first": first.Access, "second": second.Access, "third": third.Access} {
		if _, err := e.tokens.Verify(ctx, tok); !errors.Is(err, auth.ErrRevoked) {
			t.Errorf("%s access token after reuse: %v, want revoked", name, err)
		}
	}
	if _, err := e.refresh.Rotate(ctx, third.Refresh); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("the family's newest refresh token after reuse: %v, want refused", err)
	}
	if _, err := e.tokens.Verify(ctx, other.Access); err != nil {
		t.Errorf("another family's access token: %v", err)
	}
	if _, err := e.refresh.Rotate(ctx, other.Refresh); err != nil {
		t.Errorf("another family's refresh token: %v", err)
	}
}

// TestRefreshConcurrentSpend: of many refreshes with one token at once,
// the first spends it and the others are retries (see Refresh): each one
// that finds the latest successor unspent spends it, and any other is
// refused as an invalid token (reuse: the family is revoked, and with it
// possibly the grants already made). Whatever the order, the family ends
// with at most one live refresh token: every grant but the last holds a
// spent one.
func TestRefreshConcurrentSpend(t *testing.T) {
	ctx := t.Context()
	e := newRefresh(t)
	g, err := e.refresh.Start(ctx, "alice@x", auth.MethodPassword, false, "")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		grants  []auth.Grant
		refused []error
	)
	for range 8 {
		wg.Go(func() {
			next, err := e.refresh.Rotate(ctx, g.Refresh)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				grants = append(grants, next)
			} else {
				refused = append(refused, err)
			}
		})
	}
	wg.Wait()
	live := 0
	for _, g := range grants {
		h := sha256.Sum256([]byte(g.Refresh))
		_, spent, err := e.st.SpendRefreshToken(ctx, h[:], e.clock.Now())
		if err != nil && !errors.Is(err, auth.ErrNotFound) { // not found: the family was revoked
			t.Fatal(err)
		}
		if spent {
			live++
		}
	}
	if live > 1 {
		t.Fatalf("%d of %d grants hold a live refresh token, want at most 1", live, len(grants))
	}
	for _, err := range refused {
		if !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("a refused refresh: %v, want ErrInvalidToken", err)
		}
	}
	if len(grants) == 0 {
		t.Logf("no refresh succeeded: the family was revoked before the winner's check (%d refused)", len(refused))
	}
}

// TestRefreshStoredHashed: the store never holds the secret, and a
// purge removes expired rows.
func TestRefreshStoredHashed(t *testing.T) {
	ctx := context.Background()
	e := newRefresh(t)
	g, err := e.refresh.Start(ctx, "alice@x", auth.MethodPassword, false, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.st.SpendRefreshToken(ctx, []byte(g.Refresh), e.clock.Now()); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("the secret itself as a key: %v, want not found", err)
	}
	if n, err := e.st.Purge(ctx, e.clock.Now().Add(2*time.Hour)); err != nil || n < 1 {
		t.Fatalf("Purge = %d, %v; want the expired refresh token deleted", n, err)
	}
	if _, err := e.refresh.Rotate(ctx, g.Refresh); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("purged refresh token: %v", err)
	}
}

// TestRefreshRevokedFamilyStaysRevoked: a refresh token that a refresh
// racing the logout stored in the family after its rows were deleted is
// refused as long as it lives, past the access tokens' lifetime.
func TestRefreshRevokedFamilyStaysRevoked(t *testing.T) {
	ctx := t.Context()
	e := newRefresh(t)
	g, err := e.refresh.Start(ctx, "alice@x", auth.MethodPassword, true, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.refresh.RevokeFamily(ctx, "alice@x", g.AccessClaims.Family); err != nil {
		t.Fatal(err)
	}
	const late = "sgr_stored-by-a-refresh-that-raced-the-logout"
	sum := sha256.Sum256([]byte(late))
	now := e.clock.Now()
	err = e.st.AddRefreshToken(ctx, auth.RefreshToken{Hash: sum[:], Family: g.AccessClaims.Family, User: "alice@x",
		Method: auth.MethodPassword, Remember: true, StartedAt: now, IssuedAt: now, ExpiresAt: now.Add(48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(47 * time.Hour)
	if _, err := e.st.Purge(ctx, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	e.restart(t)
	if _, err := e.refresh.Rotate(ctx, late); !errors.Is(err, auth.ErrRevoked) {
		t.Fatalf("Rotate = %v, want revoked", err)
	}
}

// TestRefreshRetry: a refresh whose answer was lost, retried with the
// spent token, is answered within the window while that answer's refresh
// token is unused; the token it spent in its place issued nothing, and
// presenting it is reuse. Outside those bounds a retry is reuse.
func TestRefreshRetry(t *testing.T) {
	type step struct {
		name  string
		token func(gs []auth.Grant) string // what the client presents
		wait  time.Duration                // before it
		want  string                       // "ok", "retried", "reuse" (a ReuseError) or "refused"
	}
	nth := func(i int) func([]auth.Grant) string { return func(gs []auth.Grant) string { return gs[i].Refresh } }
	tests := []struct {
		name   string
		window time.Duration // RetryWindow
		steps  []step
	}{
		{"lost-answer", 0, []step{
			{"refresh, answer lost", nth(0), 0, "ok"},
			{"retry", nth(0), 10 * time.Second, "retried"},
			{"the retry's token", nth(2), time.Minute, "ok"},
			{"the lost answer's token (spent by the retry)", nth(1), 0, "reuse"},
		}},
		{"lost-twice", 0, []step{
			{"refresh, answer lost", nth(0), 0, "ok"},
			{"retry, answer lost", nth(0), 5 * time.Second, "retried"},
			{"retry again", nth(0), 50 * time.Second, "retried"},
			{"the last retry's token", nth(3), 0, "ok"},
		}},
		{"at-the-window's-end", 0, []step{
			{"refresh, answer lost", nth(0), 0, "ok"},
			{"retry", nth(0), auth.DefaultRetryWindow, "retried"},
		}},
		{"after-the-window", 0, []step{
			{"refresh, answer lost", nth(0), 0, "ok"},
			{"retry too late", nth(0), auth.DefaultRetryWindow + time.Millisecond, "reuse"},
			{"the lost answer's token", nth(1), 0, "refused"},
		}},
		{"successor-used", 0, []step{
			{"refresh", nth(0), 0, "ok"},
			{"refresh again", nth(1), time.Second, "ok"},
			{"a copy of the first token", nth(0), time.Second, "reuse"},
			{"the newest token", nth(2), 0, "refused"},
		}},
		{"replay-within-the-window", 0, []step{
			{"refresh", nth(0), 0, "ok"},
			{"a thief's copy of the first token", nth(0), time.Second, "retried"},
			{"the real client's next refresh", nth(1), 10 * time.Minute, "reuse"},
			{"the thief's token", nth(2), 0, "refused"},
		}},
		{"window-set", 5 * time.Second, []step{
			{"refresh, answer lost", nth(0), 0, "ok"},
			{"retry too late", nth(0), 6 * time.Second, "reuse"},
		}},
		{"retries-off", -1, []step{
			{"refresh, answer lost", nth(0), 0, "ok"},
			{"retry", nth(0), time.Millisecond, "reuse"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			e := newRefresh(t)
			rf, err := auth.NewRefresh(auth.RefreshConfig{Tokens: e.tokens, Store: e.st, RetryWindow: tt.window,
				SessionLifetime: 2 * time.Hour, Clock: e.clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			g, err := rf.Start(ctx, "alice@x", auth.MethodTOTP, false, "phone")
			if err != nil {
				t.Fatal(err)
			}
			gs := []auth.Grant{g}
			for _, st := range tt.steps {
				e.clock.Advance(st.wait)
				next, err := rf.Rotate(ctx, st.token(gs))
				var reuse *auth.ReuseError
				got := "refused"
				switch {
				case err == nil && next.Retried:
					got = "retried"
				case err == nil:
					got = "ok"
				case errors.As(err, &reuse):
					got = "reuse"
				case !errors.Is(err, auth.ErrInvalidToken):
					t.Fatalf("%s: %v", st.name, err)
				}
				if got != st.want {
					t.Fatalf("%s: %s (%v), want %s", st.name, got, err, st.want)
				}
				if err != nil {
					continue
				}
				cl, err := e.tokens.Verify(ctx, next.Access)
				if err != nil || cl.Family != g.AccessClaims.Family || cl.Method != auth.MethodTOTP {
					t.Fatalf("%s: the new access token: %+v, %v; want the family's, method totp", st.name, cl, err)
				}
				gs = append(gs, next)
			}
			// After reuse, every access token of the family is revoked.
			if tt.steps[len(tt.steps)-1].want == "reuse" || tt.steps[len(tt.steps)-1].want == "refused" {
				for i, g := range gs {
					if _, err := e.tokens.Verify(ctx, g.Access); !errors.Is(err, auth.ErrRevoked) {
						t.Errorf("access token %d after reuse: %v, want revoked", i, err)
					}
				}
			}
		})
	}
}

// FuzzRefreshRotate feeds arbitrary refresh tokens to Rotate, beside the
// tokens of a real family (live, spent, retried): it must never panic,
// every refusal matches ErrInvalidToken, and only a token it issued gets a
// grant.
func FuzzRefreshRotate(f *testing.F) {
	e := newRefresh(f)
	ctx := f.Context()
	issued := map[string]bool{}
	var mu sync.Mutex
	keep := func(g auth.Grant) {
		mu.Lock()
		defer mu.Unlock()
		issued[g.Refresh] = true
	}
	first, err := e.refresh.Start(ctx, "alice@x", auth.MethodPassword, false, "")
	if err != nil {
		f.Fatal(err)
	}
	keep(first)
	second, err := e.refresh.Rotate(ctx, first.Refresh)
	if err != nil {
		f.Fatal(err)
	}
	keep(second)
	live, err := e.refresh.Start(ctx, "bob@x", auth.MethodTOTP, true, "")
	if err != nil {
		f.Fatal(err)
	}
	keep(live)
	for _, s := range []string{
		first.Refresh, second.Refresh, live.Refresh, live.Access, "", "sgr_", "sgr_x",
		live.Refresh[:len(live.Refresh)-1], live.Refresh + "A", strings.ToUpper(live.Refresh),
		"sgr_" + strings.Repeat("A", 300), "\x00sgr_", "sgr_\u00e9\u00e9",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		g, err := e.refresh.Rotate(ctx, token)
		if err != nil {
			if !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatalf("Rotate(%q) = %v, want an ErrInvalidToken", token, err)
			}
			return
		}
		mu.Lock()
		ok := issued[token]
		mu.Unlock()
		if !ok {
			t.Fatalf("Rotate(%q) granted a token it never issued", token)
		}
		if g.Refresh == "" || g.Access == "" {
			t.Fatalf("Rotate(%q) = %+v, an empty grant", token, g)
		}
		keep(g)
	})
}
