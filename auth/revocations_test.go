package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingStore counts the revocation reads that reach the store, and can
// fail them or hold one after it has read its answer.
type countingStore struct {
	*memStore
	tokenReads, userReads atomic.Int64
	fail                  atomic.Bool

	mu   sync.Mutex
	hold chan struct{} // when set, the next TokenRevoked waits on it after reading
	read chan struct{} // closed by that TokenRevoked once it has its answer
}

var errStoreDown = errors.New("store down")

func (s *countingStore) TokenRevoked(ctx context.Context, jti string) (bool, error) {
	s.tokenReads.Add(1)
	if s.fail.Load() {
		return false, errStoreDown
	}
	rev, err := s.memStore.TokenRevoked(ctx, jti)
	s.mu.Lock()
	hold, read := s.hold, s.read
	s.hold, s.read = nil, nil
	s.mu.Unlock()
	if hold != nil {
		close(read)
		<-hold
	}
	return rev, err
}

func (s *countingStore) UserRevokedBefore(ctx context.Context, user string) (time.Time, error) {
	s.userReads.Add(1)
	if s.fail.Load() {
		return time.Time{}, errStoreDown
	}
	return s.memStore.UserRevokedBefore(ctx, user)
}

func (s *countingStore) RevokeToken(ctx context.Context, jti string, exp time.Time) (bool, error) {
	return unlessDown(s, func() (bool, error) { return s.memStore.RevokeToken(ctx, jti, exp) })
}

func (s *countingStore) RevokeUserBefore(ctx context.Context, user string, cutoff time.Time) error {
	_, err := unlessDown(s, func() (bool, error) { return true, s.memStore.RevokeUserBefore(ctx, user, cutoff) })
	return err
}

// unlessDown runs write unless the store is failing.
func unlessDown(s *countingStore, write func() (bool, error)) (bool, error) {
	if s.fail.Load() {
		return false, errStoreDown
	}
	return write()
}

// newCountingTokens returns Tokens over a countingStore.
func newCountingTokens(t testing.TB, clock *fakeClock, recheck time.Duration) (*Tokens, *countingStore, *Keys) {
	t.Helper()
	st := &countingStore{memStore: newMemStore()}
	keys := newKeys(t)
	tk, err := NewTokens(TokensConfig{
		Keys: keys, Store: st, Audience: testAud, Issuer: testIss,
		Clock: clock.Now, RevocationRecheck: recheck,
		SingleUsePurposes: []string{"push-reply"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tk, st, keys
}

func TestRevocationViewLocalRevokeAtOnce(t *testing.T) {
	for _, recheck := range []time.Duration{-1, 0, time.Hour} {
		t.Run(fmt.Sprint("recheck-", recheck), func(t *testing.T) {
			ctx := t.Context()
			clock := newClock()
			tk, st, _ := newCountingTokens(t, clock, recheck)
			tok, c, _ := tk.Issue(ctx, "a@x", MethodPassword)
			old, _, _ := tk.Issue(ctx, "b@x", MethodPassword)
			for _, v := range []string{tok, old} { // both answers now in the view
				if _, err := tk.Verify(ctx, v); err != nil {
					t.Fatal(err)
				}
			}
			if err := tk.Revoke(ctx, c); err != nil {
				t.Fatal(err)
			}
			if _, err := tk.Verify(ctx, tok); !errors.Is(err, ErrRevoked) {
				t.Errorf("revoked token, no time passed: %v, want ErrRevoked", err)
			}
			clock.Advance(10 * time.Millisecond)
			if err := tk.RevokeUser(ctx, "b@x", clock.Now()); err != nil {
				t.Fatal(err)
			}
			if _, err := tk.Verify(ctx, old); !errors.Is(err, ErrRevoked) {
				t.Errorf("token before the user's new cutoff: %v, want ErrRevoked", err)
			}
			clock.Advance(10 * time.Millisecond)
			fresh, _, _ := tk.Issue(ctx, "b@x", MethodPassword)
			if _, err := tk.Verify(ctx, fresh); err != nil {
				t.Errorf("token after the cutoff: %v", err)
			}
			if ok, _ := st.memStore.TokenRevoked(ctx, c.ID); !ok {
				t.Error("the revocation is not in the store")
			}
		})
	}
}

func TestRevocationViewSurvivesRestart(t *testing.T) {
	ctx := t.Context()
	clock := newClock()
	tk, st, keys := newCountingTokens(t, clock, time.Hour)
	tok, c, _ := tk.Issue(ctx, "a@x", MethodPassword)
	old, _, _ := tk.Issue(ctx, "b@x", MethodPassword)
	if err := tk.Revoke(ctx, c); err != nil {
		t.Fatal(err)
	}
	clock.Advance(10 * time.Millisecond)
	if err := tk.RevokeUser(ctx, "b@x", clock.Now()); err != nil {
		t.Fatal(err)
	}
	// A restarted gateway: new Tokens, empty view, same store and keys.
	restarted, err := NewTokens(TokensConfig{Keys: keys, Store: st, Audience: testAud, Issuer: testIss, Clock: clock.Now, RevocationRecheck: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{"logged-out": tok, "before-cutoff": old} {
		if _, err := restarted.Verify(ctx, v); !errors.Is(err, ErrRevoked) {
			t.Errorf("%s after restart: %v, want ErrRevoked", name, err)
		}
	}
}

func TestRevocationViewStoreReads(t *testing.T) {
	ctx := t.Context()
	clock := newClock()
	const recheck = time.Second
	tk, st, _ := newCountingTokens(t, clock, recheck)
	tok, _, _ := tk.Issue(ctx, "a@x", MethodPassword)
	verify := func(n int) {
		t.Helper()
		for range n {
			if _, err := tk.Verify(ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, step := range []struct {
		name             string
		advance          time.Duration
		verifies         int
		tokens, users    int64
		revokedElsewhere bool
	}{
		{name: "first-reads-once", verifies: 50, tokens: 1, users: 1},
		{name: "within-recheck", advance: recheck - time.Millisecond, verifies: 50, tokens: 1, users: 1},
		{name: "after-recheck", advance: time.Millisecond, verifies: 50, tokens: 2, users: 2},
	} {
		clock.Advance(step.advance)
		verify(step.verifies)
		if got, got2 := st.tokenReads.Load(), st.userReads.Load(); got != step.tokens || got2 != step.users {
			t.Errorf("%s: store reads %d token, %d user; want %d, %d", step.name, got, got2, step.tokens, step.users)
		}
	}
}

func TestRevocationViewSeesOtherWriters(t *testing.T) {
	for _, tt := range []struct {
		name    string
		recheck time.Duration
		wait    time.Duration // after which the other writer's revocation must show
	}{
		{"never-cached", -1, 0},
		{"default", 0, DefaultRevocationRecheck},
		{"five-seconds", 5 * time.Second, 5 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			clock := newClock()
			tk, st, _ := newCountingTokens(t, clock, tt.recheck)
			tok, c, _ := tk.Issue(ctx, "a@x", MethodPassword)
			old, _, _ := tk.Issue(ctx, "b@x", MethodPassword)
			for _, v := range []string{tok, old} {
				if _, err := tk.Verify(ctx, v); err != nil {
					t.Fatal(err)
				}
			}
			// Another process writes both revocations to the shared store.
			st.memStore.RevokeToken(ctx, c.ID, c.ExpiresAt)
			st.memStore.RevokeUserBefore(ctx, "b@x", clock.Now().Add(time.Second))
			if tt.wait > 0 {
				clock.Advance(tt.wait - time.Millisecond)
				if _, err := tk.Verify(ctx, tok); err != nil {
					t.Errorf("within recheck: %v, want the view's answer", err)
				}
				clock.Advance(time.Millisecond)
			}
			for name, v := range map[string]string{"token": tok, "user": old} {
				if _, err := tk.Verify(ctx, v); !errors.Is(err, ErrRevoked) {
					t.Errorf("%s revoked elsewhere, after %v: %v, want ErrRevoked", name, tt.wait, err)
				}
			}
		})
	}
}

func TestRevocationViewStoreFailures(t *testing.T) {
	ctx := t.Context()
	clock := newClock()
	tk, st, _ := newCountingTokens(t, clock, time.Hour)
	tok, c, _ := tk.Issue(ctx, "a@x", MethodPassword)

	// A token the view has never seen cannot be checked without the store.
	st.fail.Store(true)
	if _, err := tk.Verify(ctx, tok); err == nil || errors.Is(err, ErrInvalidToken) {
		t.Fatalf("store down, unknown token: %v, want a store error", err)
	}
	st.fail.Store(false)
	if _, err := tk.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	// A failed logout leaves the token valid, and the view asks the store
	// again rather than trusting what it knew.
	st.fail.Store(true)
	if err := tk.Revoke(ctx, c); err == nil {
		t.Fatal("Revoke with the store down succeeded")
	}
	if _, err := tk.Verify(ctx, tok); err == nil || errors.Is(err, ErrInvalidToken) {
		t.Errorf("after a failed revoke, store down: %v, want a store error", err)
	}
	st.fail.Store(false)
	if _, err := tk.Verify(ctx, tok); err != nil {
		t.Errorf("after a failed revoke: %v, want valid", err)
	}
}

// TestRevocationViewRace: a Verify that read "not revoked" from the store
// just before a local Revoke must not leave that answer in the view.
func TestRevocationViewRace(t *testing.T) {
	ctx := t.Context()
	clock := newClock()
	tk, st, _ := newCountingTokens(t, clock, time.Hour)
	tok, c, _ := tk.Issue(ctx, "a@x", MethodPassword)

	hold, read := make(chan struct{}), make(chan struct{})
	st.mu.Lock()
	st.hold, st.read = hold, read
	st.mu.Unlock()
	done := make(chan error, 1)
	go func() {
		_, err := tk.Verify(ctx, tok)
		done <- err
	}()
	<-read // the concurrent Verify has "not revoked" in hand
	if err := tk.Revoke(ctx, c); err != nil {
		t.Fatal(err)
	}
	close(hold)
	if err := <-done; err != nil {
		t.Fatalf("the Verify concurrent with the revoke: %v", err) // either answer is fair; this one read first
	}
	if _, err := tk.Verify(ctx, tok); !errors.Is(err, ErrRevoked) {
		t.Errorf("after Revoke returned: %v, want ErrRevoked", err)
	}
}

func TestRevocationViewSingleUse(t *testing.T) {
	ctx := t.Context()
	clock := newClock()
	tk, st, _ := newCountingTokens(t, clock, time.Hour)
	tok, _, err := tk.IssuePurpose(ctx, "a@x", "push-reply", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tk.VerifyPurpose(ctx, tok, "push-reply"); err != nil {
		t.Fatal(err)
	}
	reads := st.tokenReads.Load()
	if _, err := tk.VerifyPurpose(ctx, tok, "push-reply"); !errors.Is(err, ErrRevoked) {
		t.Errorf("second use: %v, want ErrRevoked", err)
	}
	if got := st.tokenReads.Load(); got != reads {
		t.Errorf("second use read the store %d times; the view knows it is used", got-reads)
	}
}

func TestRevocationViewBounded(t *testing.T) {
	ctx := t.Context()
	st := newMemStore()
	r := newRevocations(time.Second)
	r.max = 8
	now := t0
	claims := func(i int) Claims {
		return Claims{ID: fmt.Sprint("j", i), Subject: fmt.Sprint("u", i, "@x"), IssuedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	}
	st.RevokeToken(ctx, "j3", t0.Add(time.Hour))
	for i := range 100 {
		rev, _, err := r.check(ctx, st, claims(i), now)
		if err != nil || rev != (i == 3) {
			t.Fatalf("check %d = %v, %v", i, rev, err)
		}
		if tokens, users := r.size(); tokens > r.max || users > r.max {
			t.Fatalf("after %d checks the view holds %d tokens, %d users; max %d", i+1, tokens, users, r.max)
		}
	}
	// Whatever was dropped, the store's answer comes back.
	if rev, _, err := r.check(ctx, st, claims(3), now); err != nil || !rev {
		t.Errorf("j3 after eviction = %v, %v; want revoked", rev, err)
	}
}
