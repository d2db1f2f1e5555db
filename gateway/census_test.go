package gateway_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sparkgate/sparkgate/census"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
	"github.com/sparkgate/sparkgate/internal/natstest"
	"github.com/sparkgate/sparkgate/internal/pgtest"
)

// censusEvery is how often the test nodes publish their counts.
const censusEvery = 100 * time.Millisecond

// withCensus is withOwnership with the cluster-wide limits of
// cmd/sparkgate: at most maxSessions sessions and maxStreams streams on
// all nodes together; *c is the node's census.
func withCensus(t *testing.T, url string, maxSessions, maxStreams int, c **census.Census) func(*gateway.Config) {
	var nc *nats.Conn
	own := withOwnership(t, url, 10*time.Second, &nc)
	return func(cfg *gateway.Config) {
		own(cfg)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		cen, err := census.Open(ctx, nc, census.Config{Node: t.Name() + time.Now().String(), Every: censusEvery})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cen.Close() })
		cfg.Census, *c = cen, cen
		cfg.Sessions.MaxSessions, cfg.Limits.MaxStreams = maxSessions, maxStreams
	}
}

// waitCensus waits until c sees the other nodes hold sessions and streams.
func waitCensus(t *testing.T, c *census.Census, sessions, streams int) {
	t.Helper()
	waitCount(t, func() int {
		s, st := c.Others()
		if s == sessions && st == streams {
			return 1
		}
		return 0
	}, 1)
}

// TestIntegrationClusterLimits: with a census, -max-sessions and
// -max-streams bound two nodes together. Two sessions and two streams in
// all (one of each per node) fill the cluster: a third login or stream is
// refused on either node with 503 over_capacity, and taken once the other
// node's user logs out.
func TestIntegrationClusterLimits(t *testing.T) {
	ns := natstest.Start(t)
	o := gatewayenv.Options{Plain: true, Dir: t.TempDir(), Store: pgtest.DSN(t)}
	var c1, c2 *census.Census
	o.Config = withCensus(t, ns.URL, 2, 2, &c1)
	n1 := startEnv(t, o)
	o.Config = withCensus(t, ns.URL, 2, 2, &c2)
	n2 := startEnv(t, o)
	u1, u2, u3 := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)

	t1 := n1.Login(t, u1.Name, u1.Password)
	if _, r := n1.Open(t, t1, ""); r.Status != http.StatusOK {
		t.Fatalf("stream 1: %d %s", r.Status, r.Body)
	}
	t2 := n2.Login(t, u2.Name, u2.Password)
	s2, r := n2.Open(t, t2, "")
	if r.Status != http.StatusOK {
		t.Fatalf("stream 2: %d %s", r.Status, r.Body)
	}
	waitCensus(t, c1, 1, 1)
	waitCensus(t, c2, 1, 1)

	for _, n := range []*env{n1, n2} { // a third session, on either node
		wantAuthError(t, n.Do(t, "POST", api+"/login/"+u3.Name, "", "text/plain", u3.Password), 503, "over_capacity")
	}
	_, r = n1.Open(t, t1, "") // a third stream
	wantAuthError(t, r, 503, "over_capacity")

	// u2 leaves node 2: its stream and session end, and node 1 takes
	// u3's session and a second stream of u1's.
	s2.Close()
	if r := n2.Do(t, "POST", api+"/logout", t2, "", ""); r.Status != 200 {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	waitCensus(t, c1, 0, 0)
	n1.Login(t, u3.Name, u3.Password)
	if _, r := n1.Open(t, t1, ""); r.Status != http.StatusOK {
		t.Fatalf("stream after the other node's left: %d %s", r.Status, r.Body)
	}
}
