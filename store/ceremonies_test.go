package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/auth"
)

// TestCeremonies: a ceremony is taken once, by whichever of two stores on
// one database asks (two gateway nodes); the bound counts only ceremonies
// not expired; Purge deletes the expired ones.
func TestCeremonies(t *testing.T) { eachBackend(t, testCeremonies) }

func testCeremonies(t *testing.T, newStore opener) {
	ctx := t.Context()
	a, where := newStore(t)
	b, err := openAt(ctx, where)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	exp := t0.Add(5 * time.Minute)
	if err := a.PutCeremony(ctx, "c1", []byte(`{"kind":1}`), exp, t0, 2); err != nil {
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
		if err := a.PutCeremony(ctx, id, []byte("s"), t0.Add(time.Minute), t0, 2); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.PutCeremony(ctx, "c4", []byte("s"), exp, t0, 2); !errors.Is(err, auth.ErrTooManyCeremonies) {
		t.Fatalf("third at the bound: %v, want ErrTooManyCeremonies", err)
	}
	later := t0.Add(2 * time.Minute)
	if err := b.PutCeremony(ctx, "c4", []byte("s"), later.Add(time.Minute), later, 2); err != nil {
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
