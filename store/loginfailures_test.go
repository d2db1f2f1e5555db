package store_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sparkgate/sparkgate/store"
)

func TestLoginFailures(t *testing.T) { eachBackend(t, testLoginFailures) }

func testLoginFailures(t *testing.T, newStore opener) {
	s, _ := newStore(t)
	ctx := t.Context()
	for i, addr := range []string{"10.0.0.1", "10.0.0.1", "10.0.0.2"} {
		must(t, s.AddLoginFailure(ctx, "alice@x", addr, t0.Add(time.Duration(i)*time.Minute)))
	}
	must(t, s.AddLoginFailure(ctx, "bob@x", "10.0.0.1", t0))
	got := func(user, addr string, since time.Time, limit int) []time.Time {
		t.Helper()
		ts, err := s.LoginFailures(ctx, user, addr, since, limit)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	m := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }
	if d := cmp.Diff([]time.Time{m(1), m(0)}, got("alice@x", "10.0.0.1", t0, 10)); d != "" {
		t.Errorf("pair (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]time.Time{m(2), m(1)}, got("alice@x", store.AllAddrs, t0, 2)); d != "" {
		t.Errorf("all addresses, newest 2 (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]time.Time{m(2)}, got("alice@x", store.AllAddrs, m(2), 10)); d != "" {
		t.Errorf("since (-want +got):\n%s", d)
	}
	must(t, s.ClearLoginFailures(ctx, "alice@x", "10.0.0.1"))
	if n := len(got("alice@x", "10.0.0.1", t0, 10)); n != 0 {
		t.Errorf("after clearing the pair: %d left", n)
	}
	if n := len(got("alice@x", store.AllAddrs, t0, 10)); n != 3 {
		t.Errorf("clearing the pair cleared the user's count: %d left, want 3", n)
	}
	must(t, s.ClearLoginFailures(ctx, "alice@x", ""))
	if n := len(got("alice@x", store.AllAddrs, t0, 10)); n != 0 {
		t.Errorf("after forgetting the user: %d left", n)
	}
	if n := len(got("bob@x", "10.0.0.1", t0, 10)); n != 1 {
		t.Errorf("another user's failures: %d, want 1", n)
	}
	if _, err := s.Purge(ctx, t0.Add(25*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := len(got("bob@x", "10.0.0.1", t0, 10)); n != 0 {
		t.Errorf("a day-old failure survived Purge")
	}
}
