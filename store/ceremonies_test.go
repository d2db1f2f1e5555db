package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/store"
)

// TestCeremonies: a ceremony is taken once, by whichever of two stores on
// one database asks (two gateway nodes); the bound counts only ceremonies
// not expired; Purge deletes the expired ones.
func TestCeremonies(t *testing.T) { eachBackend(t, testCeremonies) }

func testCeremonies(t *testing.T, newStore opener) {
	ctx := t.Context()
	a, b := twoNodes(t, newStore)
	exp := t0.Add(5 * time.Minute)
	if err := a.PutCeremony(ctx, "c1", "", []byte(`{"kind":1}`), exp, t0, 2, 0); err != nil {
		t.Fatal(err)
	}
	state, gotExp, ok, err := b.TakeCeremony(ctx, "c1")
	if err != nil || !ok || string(state) != `{"kind":1}` || !gotExp.Equal(exp) {
		t.Fatalf("take on the other node: %q %v %v %v", state, gotExp, ok, err)
	}
	if _, _, ok, err := a.TakeCeremony(ctx, "c1"); ok || err != nil {
		t.Fatalf("second take: %v %v, want none", ok, err)
	}

	// Two pending at the bound of 2; a third is refused until one expires.
	for _, id := range []string{"c2", "c3"} {
		if err := a.PutCeremony(ctx, id, "", []byte("s"), t0.Add(time.Minute), t0, 2, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.PutCeremony(ctx, "c4", "", []byte("s"), exp, t0, 2, 0); !errors.Is(err, auth.ErrTooManyCeremonies) {
		t.Fatalf("third at the bound: %v, want ErrTooManyCeremonies", err)
	}
	later := t0.Add(2 * time.Minute)
	if err := b.PutCeremony(ctx, "c4", "", []byte("s"), later.Add(time.Minute), later, 2, 0); err != nil {
		t.Fatalf("after the others expired: %v", err)
	}
	n, err := a.Purge(ctx, later)
	if err != nil || n != 2 {
		t.Fatalf("Purge = %d, %v; want the 2 expired ceremonies", n, err)
	}
	if _, _, ok, _ := a.TakeCeremony(ctx, "c2"); ok {
		t.Fatal("an expired ceremony survived the purge")
	}
	if _, _, ok, _ := a.TakeCeremony(ctx, "c4"); !ok {
		t.Fatal("a pending ceremony was purged")
	}
}

// TestSpendCeremony: a spent challenge is recorded once, whichever of two
// stores on one database records it first (two nodes finishing the same
// assertion); the records do not count towards the pending ceremonies'
// bound, TakeCeremony never hands one out as a ceremony, and Purge drops
// them after their expiry.
func TestSpendCeremony(t *testing.T) { eachBackend(t, testSpendCeremony) }

func testSpendCeremony(t *testing.T, newStore opener) {
	ctx := t.Context()
	a, b := twoNodes(t, newStore)
	exp := t0.Add(5 * time.Minute)
	if fresh, err := a.SpendCeremony(ctx, "spent:x1", exp); err != nil || !fresh {
		t.Fatalf("first spend: %v %v, want fresh", fresh, err)
	}
	if fresh, err := b.SpendCeremony(ctx, "spent:x1", exp); err != nil || fresh {
		t.Fatalf("second spend on the other node: %v %v, want not fresh", fresh, err)
	}
	if fresh, err := b.SpendCeremony(ctx, "spent:x2", exp); err != nil || !fresh {
		t.Fatalf("another challenge: %v %v, want fresh", fresh, err)
	}
	// Two spent records and a bound of 1: a ceremony is still let in.
	if err := a.PutCeremony(ctx, "c1", "", []byte("s"), exp, t0, 1, 0); err != nil {
		t.Fatalf("put beside spent records: %v", err)
	}
	if err := a.PutCeremony(ctx, "c2", "", []byte("s"), exp, t0, 1, 0); !errors.Is(err, auth.ErrTooManyCeremonies) {
		t.Fatalf("second put at the bound of 1: %v, want ErrTooManyCeremonies", err)
	}
	n, err := a.Purge(ctx, exp)
	if err != nil || n != 3 {
		t.Fatalf("Purge = %d, %v; want the 3 expired rows", n, err)
	}
	if fresh, err := a.SpendCeremony(ctx, "spent:x1", exp.Add(5*time.Minute)); err != nil || !fresh {
		t.Fatalf("spend after the purge: %v %v, want fresh", fresh, err)
	}
}

// TestCeremoniesPerOwner: a user's new ceremony past the per-owner bound
// replaces that user's oldest, on whichever node it begins; other users'
// stay, and so do ceremonies of no owner.
func TestCeremoniesPerOwner(t *testing.T) { eachBackend(t, testCeremoniesPerOwner) }

func testCeremoniesPerOwner(t *testing.T, newStore opener) {
	ctx := t.Context()
	a, b := twoNodes(t, newStore)
	put := func(s *store.DB, id, owner string, minutes int) {
		t.Helper()
		if err := s.PutCeremony(ctx, id, owner, []byte("s"), t0.Add(time.Duration(minutes)*time.Minute), t0, 100, 2); err != nil {
			t.Fatalf("put %s: %v", id, err)
		}
	}
	put(a, "b1", "bob@x", 1)
	put(a, "n1", "", 1)
	put(a, "n2", "", 2)
	put(a, "n3", "", 3)
	put(a, "a1", "alice@x", 1)
	put(b, "a2", "alice@x", 2)
	put(a, "a3", "alice@x", 3) // drops a1
	put(b, "a4", "alice@x", 4) // drops a2
	for id, want := range map[string]bool{"a1": false, "a2": false, "a3": true, "a4": true, "b1": true, "n1": true, "n2": true, "n3": true} {
		if _, _, ok, err := b.TakeCeremony(ctx, id); ok != want || err != nil {
			t.Errorf("take %s: %v %v, want %v", id, ok, err, want)
		}
	}
}

// twoNodes opens a store and a second one on the same database, as two
// gateway nodes hold.
func twoNodes(t *testing.T, newStore opener) (a, b *store.DB) {
	t.Helper()
	a, where := newStore(t)
	b, err := openAt(t.Context(), where)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return a, b
}
