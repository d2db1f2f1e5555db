package store_test

import (
	"testing"
	"time"
)

// TestOperatorLockouts locks, relocks, unlocks and keeps lockouts across a
// reopen, one user apart from another.
func TestOperatorLockouts(t *testing.T) { eachBackend(t, testOperatorLockouts) }

func testOperatorLockouts(t *testing.T, newStore opener) {
	ctx := t.Context()
	s, path := newStore(t)
	const alice, bob = "alice@example.org", "bob@example.org"
	t0 := time.UnixMilli(1_700_000_000_000)
	for i, u := range []string{alice, alice, bob} { // alice twice: no error
		if err := s.LockUser(ctx, u, t0.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatalf("lock %d: %v", i, err)
		}
	}
	if err := s.UnlockUser(ctx, bob); err != nil {
		t.Fatal(err)
	}
	if err := s.UnlockUser(ctx, "nobody@example.org"); err != nil {
		t.Fatalf("unlocking who is not locked: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := openAt(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, tc := range []struct {
		user string
		want bool
	}{{alice, true}, {bob, false}, {"ALICE@example.org", false}} {
		got, err := s.UserLocked(ctx, tc.user)
		if err != nil || got != tc.want {
			t.Errorf("UserLocked(%s) = %v, %v; want %v", tc.user, got, err, tc.want)
		}
	}
}

// TestOperatorLockoutPurged: a removed account's lockout goes with it, so
// that whoever registers the name next is not locked out.
func TestOperatorLockoutPurged(t *testing.T) { eachBackend(t, testOperatorLockoutPurged) }

func testOperatorLockoutPurged(t *testing.T, newStore opener) {
	ctx := t.Context()
	s, _ := newStore(t)
	if err := s.LockUser(ctx, "carol@example.org", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.PurgeUser(ctx, "carol@example.org"); err != nil {
		t.Fatal(err)
	}
	if locked, err := s.UserLocked(ctx, "carol@example.org"); err != nil || locked {
		t.Errorf("UserLocked after PurgeUser = %v, %v; want false", locked, err)
	}
}
