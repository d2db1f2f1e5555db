package main

import (
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// TestIntegrationClusterOwnerKilled: the node holding a user's session
// dies (SIGKILL) while another node's request for the user waits on it.
// That request does not wait for its deadline (15 s, then 504): it
// answers within a few seconds of the death, 503 with Retry-After (the
// verb may or may not have run there, so it is not run again), and the
// user's next requests on the live node succeed once it has taken the
// user over, within about the lease's time.
//
// To hold a request on the owner at the moment it dies, the owner is
// first stopped (SIGSTOP): NATS still routes to it, nothing answers.
func TestIntegrationClusterOwnerKilled(t *testing.T) {
	c := startCluster(t, 2)
	a := ejabberdtest.NewUser(t)
	ta := c.login(a)
	owner := c.owner(a.JID)
	if owner < 0 {
		t.Fatal("no node holds a's session after the login")
	}
	other := 1 - owner
	cl := c.nodes[other].client()
	// The live node learns the owner and calls it.
	if r := cl.Do(t, "GET", "/sparkweb/api/rest/roster", ta, "", ""); r.Status != http.StatusOK {
		t.Fatalf("roster on node %d: %d %s", other+1, r.Status, r.Body)
	}

	c.nodes[owner].cmd.Process.Signal(syscall.SIGSTOP)
	answered := make(chan gatewaytest.Response, 1)
	go func() {
		r, _ := cl.DoContext(t.Context(), "GET", "/sparkweb/api/rest/roster", ta, "", "")
		answered <- r
	}()
	time.Sleep(500 * time.Millisecond) // the request waits on the stopped owner
	killed := time.Now()
	c.nodes[owner].kill()
	var r gatewaytest.Response
	select {
	case r = <-answered:
	case <-time.After(20 * time.Second):
		t.Fatal("the request held by the killed owner did not answer within 20 s")
	}
	after := time.Since(killed)
	t.Logf("the request held by the owner answered %d %v after its death", r.Status, after.Round(time.Millisecond))
	if after > 4*time.Second {
		t.Errorf("the request held by the killed owner answered after %v, want within a few seconds", after)
	}
	if r.Status != http.StatusOK && (r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "") {
		t.Errorf("the request held by the killed owner: %d %s (Retry-After %q), want 503 with Retry-After", r.Status, r.Body, r.Header.Get("Retry-After"))
	}

	// The next requests: 503 with Retry-After at once until the lease
	// expires, then the live node takes the user over.
	for {
		start := time.Now()
		r := cl.Do(t, "GET", "/sparkweb/api/rest/roster", ta, "", "")
		if d := time.Since(start); d > 4*time.Second {
			t.Errorf("a request after the owner's death took %v (%d)", d, r.Status)
		}
		if r.Status == http.StatusOK {
			break
		}
		if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
			t.Fatalf("a request after the owner's death: %d %s, want 503 with Retry-After or 200", r.Status, r.Body)
		}
		if time.Since(killed) > 4*clusterLeaseTTL {
			t.Fatalf("node %d never took the user over: %d %s", other+1, r.Status, r.Body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("node %d took the user over %v after the owner's death (lease %v)", other+1, time.Since(killed).Round(time.Millisecond), clusterLeaseTTL)
	if o := c.owner(a.JID); o != other {
		t.Errorf("the lease is on node %d after the takeover, want node %d", o+1, other+1)
	}
}
