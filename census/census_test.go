package census_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sparkgate/sparkgate/census"
	"github.com/sparkgate/sparkgate/internal/natstest"
)

func TestMain(m *testing.M) { natstest.Main(m) }

func open(t *testing.T, url, node string, every time.Duration) *census.Census {
	t.Helper()
	c, _ := openConn(t, url, node, every)
	return c
}

// openConn is open that also returns the node's connection.
func openConn(t *testing.T, url, node string, every time.Duration) (*census.Census, *nats.Conn) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := census.Open(ctx, nc, census.Config{Bucket: "census_test", Every: every, Node: node})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, nc
}

// waitOthers waits until c sees the others hold want sessions and streams.
func waitOthers(t *testing.T, c *census.Census, sessions, streams int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		s, st := c.Others()
		if s == sessions && st == streams {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Others() = %d, %d; want %d, %d", s, st, sessions, streams)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestIntegrationCensus: each node sees the sum of the others' counts, not
// its own; a count that changes is seen within a publishing period; a
// node that closes is no longer counted at once, and one that stops
// publishing (dead) after 3 periods; Live tells the same.
func TestIntegrationCensus(t *testing.T) {
	s := natstest.Shared(t)
	const every = 200 * time.Millisecond
	a, b, c := open(t, s.URL, "a", every), open(t, s.URL, "b", every), open(t, s.URL, "c", every)
	d, dconn := openConn(t, s.URL, "d", every)
	nB := 2
	a.Track(func() (int, int) { return 1, 10 })
	b.Track(func() (int, int) { return nB, 20 })
	waitOthers(t, c, 3, 30, 10*every)
	waitOthers(t, a, 2, 20, 2*every)
	a.Close()
	waitOthers(t, c, 2, 20, every) // deleted: no need to wait for the TTL
	// c never tracks: it publishes nothing, and others count it as 0.
	waitOthers(t, b, 0, 0, 2*every)

	// d dies: cut off NATS, its last count stays in the bucket until the
	// TTL, but the others stop counting it after 3 periods.
	d.Track(func() (int, int) { return 5, 50 })
	waitOthers(t, b, 5, 50, 10*every)
	if !b.Live("d") || !b.Live("b") || b.Live("a") || b.Live("nobody") {
		t.Errorf("b: Live d %v, b (itself) %v, a (closed) %v, nobody %v; want true, true, false, false",
			b.Live("d"), b.Live("b"), b.Live("a"), b.Live("nobody"))
	}
	dconn.Close()
	died := time.Now()
	waitOthers(t, b, 0, 0, 4*every+every/2)
	if since := time.Since(died); since < 2*every {
		t.Errorf("a dead node's count dropped after %v, before its last publication could be stale", since)
	}
	if b.Live("d") {
		t.Error("b: the dead node d is still live")
	}
}
