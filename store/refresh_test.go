package store_test

import (
	"errors"
	"slices"
	"strings"
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
	got := wins(t, n, func() (bool, error) {
		_, ok, err := s.SpendRefreshToken(ctx, rt.Hash, t0.Add(time.Minute))
		return ok, err
	})
	if got != 1 {
		t.Fatalf("%d of %d concurrent spends spent the token, want 1", got, n)
	}
}

// wins runs try n times at once and counts the runs that report true; an
// error fails the test.
func wins(t *testing.T, n int, try func() (bool, error)) int32 {
	var won atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			ok, err := try()
			if err != nil {
				t.Error(err)
			}
			if ok {
				won.Add(1)
			}
		})
	}
	wg.Wait()
	return won.Load()
}

// TestRefreshRespend: a retried refresh spends the successor of the spent
// token, once, and only the spend's own successor.
func TestRefreshRespend(t *testing.T) { eachBackend(t, testRefreshRespend) }

func testRefreshRespend(t *testing.T, newStore opener) {
	s, _ := newStore(t)
	ctx := t.Context()
	t1, t2, t3 := t0.Add(time.Minute), t0.Add(2*time.Minute), t0.Add(3*time.Minute)
	add := func(hash, family, parent string, issued, exp time.Time) {
		t.Helper()
		rt := auth.RefreshToken{Hash: []byte(hash), Family: family, User: "alice@x", Method: auth.MethodPassword,
			StartedAt: t0, IssuedAt: issued, ExpiresAt: exp}
		if parent != "" {
			rt.Parent = []byte(parent)
		}
		if err := s.AddRefreshToken(ctx, rt); err != nil {
			t.Fatal(err)
		}
	}
	spend := func(hash string, at time.Time) auth.RefreshToken {
		t.Helper()
		rt, _, err := s.SpendRefreshToken(ctx, []byte(hash), at)
		if err != nil {
			t.Fatal(err)
		}
		return rt
	}
	// Family f: r1 spent at t1 issued r2 (the answer lost); q2 is
	// another token of the family issued at the same time, not by r1.
	add("r1", "f", "", t0, t0.Add(time.Hour))
	spend("r1", t1)
	add("r2", "f", "r1", t1, t1.Add(time.Hour))
	add("q2", "f", "", t1, t1.Add(time.Hour))
	// Family g: g1 spent at t1 issued g2, which expired at once.
	add("g1", "g", "", t0, t0.Add(time.Hour))
	spend("g1", t1)
	add("g2", "g", "g1", t1, t1.Add(time.Second))
	// Family h: h1 spent at t1, its successor never stored.
	add("h1", "h", "", t0, t0.Add(time.Hour))
	spend("h1", t1)

	tests := []struct {
		name        string
		hash        string
		spentAt, at time.Time
		want        bool
		wantSpent   string // the successor the retry spent, if want
	}{
		{"wrong-spend-time", "r1", t0, t2, false, ""},
		{"unknown", "nope", t1, t2, false, ""},
		{"unspent", "r2", time.UnixMilli(0), t2, false, ""},
		{"expired-successor", "g1", t1, t2, false, ""},
		{"no-successor", "h1", t1, t2, false, ""},
		{"retry", "r1", t1, t2, true, "r2"},
		{"retry-again-with-the-old-time", "r1", t1, t3, false, ""},
		{"spent-by-a-retry-issued-nothing", "r2", t2, t3, false, ""},
	}
	for _, tt := range tests {
		ok, err := s.RespendRefreshToken(ctx, []byte(tt.hash), tt.spentAt, tt.at)
		if err != nil || ok != tt.want {
			t.Fatalf("%s: RespendRefreshToken(%s) = %v, %v; want %v", tt.name, tt.hash, ok, err, tt.want)
		}
		if tt.wantSpent == "" {
			continue
		}
		for _, h := range []string{tt.wantSpent, tt.hash} {
			if rt := spend(h, t3); !rt.UsedAt.Equal(tt.at) {
				t.Fatalf("%s: %s after the retry: %+v, want spent at %v", tt.name, h, rt, tt.at)
			}
		}
	}
	// A retry of the retry (its answer lost too) finds the retry's
	// successor: r3, issued at t2 for r1.
	add("r3", "f", "r1", t2, t2.Add(time.Hour))
	if ok, err := s.RespendRefreshToken(ctx, []byte("r1"), t2, t3); err != nil || !ok {
		t.Fatalf("second retry: %v, %v", ok, err)
	}
	// Nothing changed where a retry failed or did not look: g1, g2 and q2
	// as they were.
	if rt := spend("g1", t3); !rt.UsedAt.Equal(t1) {
		t.Fatalf("g1 after a refused retry: %+v", rt)
	}
	if rt, ok, err := s.SpendRefreshToken(ctx, []byte("g2"), t3); err != nil || !ok {
		t.Fatalf("g2 after a refused retry: %+v, %v, %v; want unspent", rt, ok, err)
	}
	if rt, ok, err := s.SpendRefreshToken(ctx, []byte("q2"), t3); err != nil || !ok {
		t.Fatalf("q2, not r1's successor, after r1's retries: %+v, %v, %v; want unspent", rt, ok, err)
	}
}

// TestRefreshRespendOnce: of concurrent retries of one refresh, exactly
// one spends the successor.
func TestRefreshRespendOnce(t *testing.T) { eachBackend(t, testRefreshRespendOnce) }

func testRefreshRespendOnce(t *testing.T, newStore opener) {
	s, _ := newStore(t)
	ctx := t.Context()
	t1 := t0.Add(time.Minute)
	for _, rt := range []auth.RefreshToken{
		{Hash: []byte("r1"), Family: "f", User: "alice@x", Method: auth.MethodPassword, StartedAt: t0, IssuedAt: t0, ExpiresAt: t0.Add(time.Hour)},
		{Hash: []byte("r2"), Family: "f", User: "alice@x", Method: auth.MethodPassword, StartedAt: t0, IssuedAt: t1, ExpiresAt: t1.Add(time.Hour), Parent: []byte("r1")},
	} {
		if err := s.AddRefreshToken(ctx, rt); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.SpendRefreshToken(ctx, []byte("r1"), t1); err != nil {
		t.Fatal(err)
	}
	const n = 8
	got := wins(t, n, func() (bool, error) { return s.RespendRefreshToken(ctx, []byte("r1"), t1, t1.Add(time.Second)) })
	if got != 1 {
		t.Fatalf("%d of %d concurrent retries spent the successor, want 1", got, n)
	}
}

// TestRefreshFamilies: a user's live families are those with an unspent
// token not yet expired, each once, with its login's fields and its live
// token's times; other users' and spent or expired tokens are left out.
func TestRefreshFamilies(t *testing.T) { eachBackend(t, testRefreshFamilies) }

func testRefreshFamilies(t *testing.T, newStore opener) {
	s, _ := newStore(t)
	ctx := t.Context()
	add := func(hash, user, family, device string, issued, exp time.Time) {
		t.Helper()
		rt := auth.RefreshToken{Hash: []byte(hash), Family: family, User: user, Device: device,
			Method: auth.MethodPassword, Remember: family == "phone", StartedAt: t0, IssuedAt: issued, ExpiresAt: exp}
		if err := s.AddRefreshToken(ctx, rt); err != nil {
			t.Fatal(err)
		}
	}
	now := t0.Add(10 * time.Minute)
	add("p1", "alice@x", "phone", "Phone", t0, t0.Add(time.Hour))
	add("p2", "alice@x", "phone", "Phone", t0.Add(5*time.Minute), t0.Add(2*time.Hour)) // the refresh of p1
	add("l1", "alice@x", "laptop", "Laptop", t0, t0.Add(time.Hour))
	add("o1", "alice@x", "old", "Old", t0.Add(-time.Hour), t0.Add(5*time.Minute)) // expired by now
	add("c1", "carol@x", "carols", "Carol's", t0, t0.Add(time.Hour))
	if _, spent, err := s.SpendRefreshToken(ctx, []byte("p1"), t0.Add(5*time.Minute)); err != nil || !spent {
		t.Fatalf("spend p1: %v, %v", spent, err)
	}

	got, err := s.ListRefreshFamilies(ctx, "alice@x", now)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b auth.Login) int { return strings.Compare(a.Family, b.Family) })
	want := []auth.Login{
		{Family: "laptop", Device: "Laptop", Method: auth.MethodPassword, StartedAt: t0, LastUsedAt: t0, ExpiresAt: t0.Add(time.Hour)},
		{Family: "phone", Device: "Phone", Method: auth.MethodPassword, Remember: true, StartedAt: t0,
			LastUsedAt: t0.Add(5 * time.Minute), ExpiresAt: t0.Add(2 * time.Hour)},
	}
	if len(got) != len(want) {
		t.Fatalf("ListRefreshFamilies = %+v, want %+v", got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Family != w.Family || g.Device != w.Device || g.Method != w.Method || g.Remember != w.Remember ||
			!g.StartedAt.Equal(w.StartedAt) || !g.LastUsedAt.Equal(w.LastUsedAt) || !g.ExpiresAt.Equal(w.ExpiresAt) {
			t.Errorf("family %d = %+v, want %+v", i, g, w)
		}
	}
	if got, err := s.ListRefreshFamilies(ctx, "nobody@x", now); err != nil || len(got) != 0 {
		t.Errorf("a user without tokens: %+v, %v", got, err)
	}
	if err := s.DeleteRefreshFamily(ctx, "alice@x", "phone"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ListRefreshFamilies(ctx, "alice@x", now); err != nil || len(got) != 1 || got[0].Family != "laptop" {
		t.Errorf("after the phone's family was deleted: %+v, %v", got, err)
	}
}
