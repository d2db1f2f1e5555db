package store_test

import (
	"testing"
	"time"
)

func TestTakeAttempt(t *testing.T) { eachBackend(t, testTakeAttempt) }

func testTakeAttempt(t *testing.T, newStore opener) {
	s, _ := newStore(t)
	ctx := t.Context()
	take := func(bucket string, at time.Time) (bool, time.Duration) {
		t.Helper()
		ok, wait, err := s.TakeAttempt(ctx, bucket, at, 10*time.Second, 3)
		if err != nil {
			t.Fatal(err)
		}
		return ok, wait
	}
	for i := range 3 {
		if ok, _ := take("ip:a", t0); !ok {
			t.Fatalf("attempt %d of a burst of 3 refused", i+1)
		}
	}
	if ok, wait := take("ip:a", t0); ok || wait != 10*time.Second {
		t.Fatalf("4th attempt: %v, wait %v; want refused for 10s", ok, wait)
	}
	if ok, _ := take("ip:b", t0); !ok {
		t.Fatal("another bucket is affected")
	}
	if ok, wait := take("ip:a", t0.Add(4*time.Second)); ok || wait != 6*time.Second {
		t.Fatalf("after 4s: %v, wait %v; want refused for 6s", ok, wait)
	}
	if ok, _ := take("ip:a", t0.Add(10*time.Second)); !ok {
		t.Fatal("one attempt earned back after 10s was refused")
	}
	if ok, _ := take("ip:a", t0.Add(10*time.Second)); ok {
		t.Fatal("a second attempt after 10s was allowed")
	}
	// Purge drops only buckets that are full again.
	if _, err := s.Purge(ctx, t0.Add(15*time.Second)); err != nil {
		t.Fatal(err)
	}
	if ok, _ := take("ip:a", t0.Add(15*time.Second)); ok {
		t.Fatal("purge dropped a bucket that was not full")
	}
	if ok, _, err := s.TakeAttempt(ctx, "ip:z", t0, time.Second, 0); err != nil || ok {
		t.Fatalf("burst 0: %v, %v; want refused", ok, err)
	}
}
