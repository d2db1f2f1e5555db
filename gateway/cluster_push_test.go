package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/internal/ejabberd"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
	"github.com/sparkgate/sparkgate/internal/pgtest"
	"github.com/sparkgate/sparkgate/store"
	"github.com/sparkgate/sparkgate/webpush"
	"github.com/sparkgate/sparkgate/webpush/webpushtest"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// TestIntegrationClusterPushComponent: every node of a cluster (one
// PostgreSQL store, one set of keys) connects the push component, and
// ejabberd takes all of them for the one component name. A user who signed
// out on one node gets exactly one push per message, whichever connection
// ejabberd picks; with one node's component gone (the node died), the
// pushes go on through the other.
//
// Not parallel: ejabberd shares the component name's notifications among
// every connection, so no other test may hold one meanwhile.
func TestIntegrationClusterPushComponent(t *testing.T) {
	pc := newPushCluster(t)
	srv, svc := pc.srv, pc.svc

	type node struct {
		*env
		handled atomic.Int32 // notifications ejabberd gave this node's component
		stop    func()
	}
	start := func(name string) *node {
		n := &node{}
		n.env = pc.start(t, nil)
		ctx, cancel := context.WithCancel(context.Background())
		online, done := make(chan struct{}, 1), make(chan error, 1)
		go func() {
			done <- xmppconn.RunPushComponent(ctx, xmppconn.ComponentConfig{
				Addr: srv.ComponentAddr(), Domain: srv.PushService(), Secret: srv.ComponentSecret(),
				Push: func(ctx context.Context, p xmppconn.PushNotification) error {
					n.handled.Add(1)
					return n.gw.HandlePushNotification(ctx, p)
				},
				Logger: slog.New(slog.DiscardHandler),
				Connected: func() {
					select {
					case online <- struct{}{}:
					default:
					}
				},
			})
		}()
		var once atomic.Bool
		n.stop = func() {
			if once.CompareAndSwap(false, true) {
				cancel()
				<-done
			}
		}
		t.Cleanup(n.stop)
		select {
		case <-online:
		case <-time.After(15 * time.Second):
			t.Fatalf("the push component of %s did not come online", name)
		}
		return n
	}
	n1, n2 := start("node 1"), start("node 2")

	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta := n1.Login(t, a.Name, a.Password)
	sub := svc.Subscribe(t)
	if r := n1.Do(t, "PUT", api+"/webpush/subscribe/phone", ta, "application/json", sub.JSON()); r.Status != http.StatusOK {
		t.Fatalf("subscribe: %d %s", r.Status, r.Body)
	}
	if r := n1.Do(t, "POST", api+"/logout", ta, "", ""); r.Status != http.StatusOK {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	tb := n2.Login(t, b.Name, b.Password)
	pushOnce := func(body string) {
		t.Helper()
		if r := n2.Do(t, "POST", api+"/chat/message/"+a.Name, tb, "text/plain", body); r.Status != http.StatusOK {
			t.Fatalf("send: %d %s", r.Status, r.Body)
		}
		m := svc.Next(t, 15*time.Second)
		var got struct{ Body string }
		if err := json.Unmarshal(m.Plaintext, &got); err != nil || got.Body != body {
			t.Fatalf("push %q (%v), want the body %q", m.Plaintext, err, body)
		}
	}

	for _, body := range []string{"one", "two", "three"} {
		pushOnce(body)
	}
	svc.None(t, 2*time.Second)
	if h1, h2 := n1.handled.Load(), n2.handled.Load(); h1+h2 != 3 {
		t.Errorf("the components handled %d + %d notifications, want 3 in all", h1, h2)
	} else {
		t.Logf("ejabberd's notifications: node 1 %d, node 2 %d", h1, h2)
	}

	// Node 1's component goes away; ejabberd uses the one left.
	n1.stop()
	before := n2.handled.Load()
	for _, body := range []string{"four", "five"} {
		pushOnce(body)
	}
	svc.None(t, 2*time.Second)
	if got := n2.handled.Load() - before; got != 2 {
		t.Errorf("node 2's component handled %d notifications after node 1's left, want 2", got)
	}
}

// pushCluster is gateways sharing one PostgreSQL store, one set of keys
// and one VAPID key, each with Web Push and the push app server on the
// shared ejabberd, and the push service their pushes reach.
type pushCluster struct {
	srv      *ejabberd.Server
	svc      *webpushtest.Service
	vapid    webpush.VAPID
	dsn, dir string
}

func newPushCluster(t *testing.T) *pushCluster {
	t.Helper()
	vapid, err := webpush.GenerateVAPID()
	if err != nil {
		t.Fatal(err)
	}
	return &pushCluster{srv: ejabberdtest.Shared(t), svc: webpushtest.NewService(t, vapid.Public), vapid: vapid,
		dsn: pgtest.DSN(t), dir: t.TempDir()}
}

// start starts a node; mod, when set, changes its push settings.
func (pc *pushCluster) start(t *testing.T, mod func(*gateway.PushConfig, *store.SQLite)) *env {
	t.Helper()
	return startEnv(t, gatewayenv.Options{Plain: true, Dir: pc.dir, Store: pc.dsn, Setup: func(c *gateway.Config, st *store.SQLite, _ *auth.Keys) {
		sender, err := webpush.NewSender(webpush.SenderConfig{
			Keys: pc.vapid, Subject: "admin@example.org", Store: st, AllowPrivate: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sender.Close() })
		c.Push = gateway.PushConfig{Sender: sender, Store: st, InsecureHosts: []string{"127.0.0.1"}, Nodes: st, Rooms: st, Service: pc.srv.PushService()}
		if mod != nil {
			mod(&c.Push, st)
		}
	}})
}

// TestIntegrationClusterPushLimitShared: gateways sharing one PostgreSQL
// store share each user's push budgets (PushConfig.Attempts). ejabberd
// hands a signed-out user's notifications to any node's component, so a
// limit each node kept for itself would let a burst through once per node.
// A burst of twice the limit, alternating between two nodes, becomes the
// limit in pushes.
func TestIntegrationClusterPushLimitShared(t *testing.T) {
	t.Parallel()
	pc := newPushCluster(t)
	srv, svc := pc.srv, pc.svc
	const limit = 5
	var pg *store.SQLite
	start := func() *env {
		return pc.start(t, func(p *gateway.PushConfig, st *store.SQLite) {
			p.AwayLimit, p.Attempts, pg = limit, st, st
		})
	}
	nodes := []*env{start(), start()}

	a := ejabberdtest.NewUser(t)
	ta := nodes[0].Login(t, a.Name, a.Password)
	sub := svc.Subscribe(t)
	if r := nodes[0].Do(t, "PUT", api+"/webpush/subscribe/phone", ta, "application/json", sub.JSON()); r.Status != http.StatusOK {
		t.Fatalf("subscribe: %d %s", r.Status, r.Body)
	}
	node, err := pg.PushNode(t.Context(), a.JID)
	if err != nil {
		t.Fatal(err)
	}
	if r := nodes[0].Do(t, "POST", api+"/logout", ta, "", ""); r.Status != http.StatusOK {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	for i := range 2 * limit {
		// Each from another sender: no collapse merges them.
		n := xmppconn.PushNotification{From: srv.Domain(), Node: node.Node, Secret: node.Secret,
			Sender: fmt.Sprintf("s%d@%s/r", i, srv.Domain()), Body: fmt.Sprintf("burst %d", i)}
		if err := nodes[i%2].gw.HandlePushNotification(t.Context(), n); err != nil {
			t.Fatal(err)
		}
	}
	for range limit {
		svc.Next(t, 15*time.Second)
	}
	svc.None(t, 2*time.Second)
}
