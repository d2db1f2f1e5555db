package gateway_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
	"github.com/sparkgate/sparkgate/internal/natstest"
	"github.com/sparkgate/sparkgate/internal/pgtest"
)

// TestIntegrationRemoteTabDelaysPush: b's session is on node 1 and b's
// only tab on node 2. Node 1 counts only its own streams, and pushed every
// message to b's phone at once as if no tab were open; the tab on node 2
// tells node 1 it is there (remotetabs.go), so a message b's tab leaves
// unread is pushed after -push-unread-after (1 s here), not at once.
func TestIntegrationRemoteTabDelaysPush(t *testing.T) {
	ns := natstest.Start(t)
	o := gatewayenv.Options{Plain: true, Dir: t.TempDir(), Store: pgtest.DSN(t), Push: true}
	later := func(c *gateway.Config) { c.Push.UnreadAfter = time.Second }
	var nc1, nc2 *nats.Conn
	o.Config = chain(withRemote(t, ns.URL, 5*time.Second, &nc1, nil), later)
	n1 := startEnv(t, o)
	o.Config = chain(withRemote(t, ns.URL, 5*time.Second, &nc2, nil), later)
	n2 := startEnv(t, o)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tb := n1.Login(t, a.Name, a.Password), n1.Login(t, b.Name, b.Password) // the sessions open on node 1
	if r := n1.Do(t, "PUT", api+"/webpush/subscribe/phone", tb, "application/json", n1.Push.Subscribe(t).JSON()); r.Status != http.StatusOK {
		t.Fatalf("subscribe: %d %s", r.Status, r.Body)
	}
	tab := n2.OpenConnected(t, tb, "")

	sent := time.Now()
	if r := n1.Do(t, "POST", api+"/chat/message/"+b.Name, ta, "text/plain", "are you there?"); r.Status != http.StatusOK {
		t.Fatalf("send: %d %s", r.Status, r.Body)
	}
	waitChatBody(t, tab, "are you there?")
	n1.Push.None(t, time.Second-time.Since(sent)-100*time.Millisecond) // not at once
	m := n1.Push.Next(t, 10*time.Second)
	if waited := time.Since(sent); waited < time.Second || len(m.Plaintext) == 0 {
		t.Fatalf("pushed %v after the message (want at least 1 s: unread with a tab open on node 2)", waited)
	}
}
