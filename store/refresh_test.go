package store_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/auth"
)

func TestRefreshTokens(t *testing.T) { eachBackend(t, testRefreshTokens) }

func testRefreshTokens(t *testing.T, newStore opener) {
	s, _ := newStore(t)
	ctx := t.Context()
	add := func(hash, user, family string, exp time.Time) {
		t.Helper()
		rt := auth.RefreshToken{Hash: []byte(hash), Family: family, User: user, Device: "phone",
			Method: auth.MethodTOTP, Remember: true, StartedAt: t0, IssuedAt: t0, ExpiresAt: exp}
		if err := s.AddRefreshToken(ctx, rt); err != nil {
			t.Fatal(err)
		}
	}
	add("a1", "alice@x", "fa", t0.Add(time.Hour))
	add("a2", "alice@x", "fa", t0.Add(2*time.Hour))
	add("b1", "alice@x", "fb", t0.Add(time.Hour))
	add("c1", "carol@x", "fc", t0.Add(time.Hour))
	if err := s.AddRefreshToken(ctx, auth.RefreshToken{Hash: []byte("a1"), User: "x", Family: "y", Method: "pwd"}); !errors.Is(err, auth.ErrExists) {
		t.Fatalf("duplicate hash: %v, want ErrExists", err)
	}

	tests := []struct {
		hash       string
		spent      bool
		wantErr    error
		wantUsed   bool // the row as it was was spent already
		wantFamily string
	}{
		{hash: "a1", spent: true, wantFamily: "fa"},
		{hash: "a1", spent: false, wantUsed: true, wantFamily: "fa"},
		{hash: "nope", wantErr: auth.ErrNotFound},
	}
	for i, tt := range tests {
		rt, spent, err := s.SpendRefreshToken(ctx, []byte(tt.hash), t0.Add(time.Minute))
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("%d: SpendRefreshToken(%s) = %v, want %v", i, tt.hash, err, tt.wantErr)
			}
			continue
		}
		if err != nil || spent != tt.spent || rt.Family != tt.wantFamily || !rt.UsedAt.IsZero() != tt.wantUsed ||
			rt.Method != auth.MethodTOTP || !rt.Remember || rt.Device != "phone" || !rt.ExpiresAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("%d: SpendRefreshToken(%s) = %+v, %v, %v", i, tt.hash, rt, spent, err)
		}
	}

	if err := s.DeleteRefreshFamily(ctx, "alice@x", "fa"); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"a1", "a2"} {
		if _, _, err := s.SpendRefreshToken(ctx, []byte(h), t0); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("%s after its family was deleted: %v", h, err)
		}
	}
	if err := s.DeleteUserRefreshTokens(ctx, "alice@x"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.SpendRefreshToken(ctx, []byte("b1"), t0); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("b1 after the user's tokens were deleted: %v", err)
	}
	if n, err := s.Purge(ctx, t0.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("Purge = %d, %v; want carol's expired token", n, err)
	}
}

// TestRefreshSpendOnce: of concurrent spends of one token (two gateways
// answering two refreshes of one tab), exactly one spends it.
func TestRefreshSpendOnce(t *testing.T) { eachBackend(t, testRefreshSpendOnce) }

func testRefreshSpendOnce(t *testing.T, newStore opener) {
	s, _ := newStore(t)
	ctx := t.Context()
	rt := auth.RefreshToken{Hash: []byte("once"), Family: "f", User: "alice@x", Method: auth.MethodTOTP,
		StartedAt: t0, IssuedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := s.AddRefreshToken(ctx, rt); err != nil {
		t.Fatal(err)
	}
	const n = 8
	var spent atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, ok, err := s.SpendRefreshToken(ctx, rt.Hash, t0.Add(time.Minute))
			if err != nil {
				t.Error(err)
			}
			if ok {
				spent.Add(1)
			}
		})
	}
	wg.Wait()
	if got := spent.Load(); got != 1 {
		t.Fatalf("%d of %d concurrent spends spent the token, want 1", got, n)
	}
}
