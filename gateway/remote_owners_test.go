package gateway_test

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
	"github.com/sparkgate/sparkgate/internal/natstest"
	"github.com/sparkgate/sparkgate/internal/pgtest"
	"github.com/sparkgate/sparkgate/lease"
)

// peerCalls records the nodes a node's Peers called.
type peerCalls struct {
	mu    sync.Mutex
	nodes []string
}

func (p *peerCalls) wrap(inner gateway.Peers) gateway.Peers { return recordingPeers{inner, p} }

// take returns the nodes called since the last take.
func (p *peerCalls) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.nodes
	p.nodes = nil
	return n
}

type recordingPeers struct {
	gateway.Peers
	log *peerCalls
}

func (r recordingPeers) Call(ctx context.Context, node string, req []byte) ([]byte, error) {
	r.log.mu.Lock()
	r.log.nodes = append(r.log.nodes, node)
	r.log.mu.Unlock()
	return r.Peers.Call(ctx, node, req)
}

// countingOwner counts the leases lookups (Own) of a node.
type countingOwner struct {
	lease.Owner
	owns *atomic.Int32
}

func (o countingOwner) Own(ctx context.Context, user string, lost func()) (func(), error) {
	o.owns.Add(1)
	return o.Owner.Own(ctx, user, lost)
}

// TestIntegrationRemoteOwnerRemembered: three nodes on one NATS. A user
// owned by node 1 is served on node 2, which looks the owner up once and
// then sends the user's requests straight to node 1, without asking the
// leases. The owner then changes (the session on node 1 ends, node 3
// takes the user): node 2's next request still reaches the user's
// session, on node 3 — node 1 refuses it, node 2 looks the lease up
// afresh — and the one after goes straight to node 3.
func TestIntegrationRemoteOwnerRemembered(t *testing.T) {
	ns := natstest.Start(t)
	o := gatewayenv.Options{Plain: true, Dir: t.TempDir(), Store: pgtest.DSN(t)}
	var (
		ids   [3]string
		ncs   [3]*nats.Conn
		calls peerCalls
		owns  atomic.Int32
		nodes [3]*env
	)
	for i := range nodes {
		var wrap func(gateway.Peers) gateway.Peers
		mod := func(c *gateway.Config) { ids[i] = c.Ownership.(lease.Owner).Leases.Node() }
		if i == 1 {
			wrap = calls.wrap
			mod = chain(mod, func(c *gateway.Config) {
				c.Ownership = countingOwner{c.Ownership.(lease.Owner), &owns}
			})
		}
		o.Config = chain(withRemote(t, ns.URL, 5*time.Second, &ncs[i], wrap), mod)
		nodes[i] = startEnv(t, o)
	}
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	leases, err := lease.Open(ctx, ncs[0], lease.Config{TTL: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	bc := availableClient(t, ejabberdtest.Shared(t), b)

	send := func(tok, body string) {
		t.Helper()
		if r := n2.Do(t, "POST", api+"/chat/message/"+b.Name, tok, "text/plain", body); r.Status != 200 {
			t.Fatalf("send %q on node 2: %d %s", body, r.Status, r.Body)
		}
		plainUntil(t, bc, body, "from='"+a.JID+"/")
	}
	expect := func(step string, wantCalls []string, wantOwns int32) {
		t.Helper()
		if got := calls.take(); !slices.Equal(got, wantCalls) {
			t.Errorf("%s: node 2 called %q, want %q", step, got, wantCalls)
		}
		if got := owns.Swap(0); got != wantOwns {
			t.Errorf("%s: node 2 looked the lease up %d times, want %d", step, got, wantOwns)
		}
	}
	holderIs := func(want string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			h, err := leases.Holder(ctx, a.JID)
			if err == nil && h == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the lease's holder is %q (%v), want %q", h, err, want)
			}
		}
	}

	ta := n1.Login(t, a.Name, a.Password)
	holderIs(ids[0])
	send(ta, "first, looked up")
	expect("first request", []string{ids[0]}, 1)
	send(ta, "second, remembered")
	expect("second request", []string{ids[0]}, 0)

	// The owner changes while node 2 remembers node 1.
	if r := n1.Do(t, "POST", api+"/logout", ta, "", ""); r.Status != 200 {
		t.Fatalf("logout on node 1: %d %s", r.Status, r.Body)
	}
	holderIs("")
	tc := n3.Login(t, a.Name, a.Password)
	holderIs(ids[2])
	if n1.gw.SessionRooms(a.JID) != nil {
		t.Fatal("node 1 still has the session")
	}

	send(tc, "third, owner moved")
	expect("after the move", []string{ids[0], ids[2]}, 1)
	send(tc, "fourth, remembered again")
	expect("after the move, again", []string{ids[2]}, 0)
}
