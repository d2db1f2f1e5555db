package gateway_test

import (
	"context"
	"encoding/hex"
	"net/http"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
	"github.com/sparkgate/sparkgate/internal/natstest"
)

// TestIntegrationLeaseLoss: a node that loses a user's lease stops acting
// for the user at once: its streams end resumably within the lease's
// renewal period, its session is gone (a request there no longer finds
// it), and it appends nothing more. The loss comes three ways: another
// node took the key ("taken"), NATS could not be reached until the
// lease's deadline ("unreachable"), or another node appended to the
// user's log ("fenced", seen at the node's next append). After a fence
// the node owns the user again on the next stream, and the message whose
// append was refused is not lost: the new session catches up on it.
func TestIntegrationLeaseLoss(t *testing.T) {
	const ttl = 2 * time.Second
	cases := []struct {
		name string
		lose func(t *testing.T, ns *natstest.Server, user string, send func(string))
		// after is the status of a request on the node after the loss.
		after int
	}{
		{"taken", func(t *testing.T, ns *natstest.Server, user string, _ func(string)) {
			kv := ownerBucket(t, ns.URL)
			if _, err := kv.Put(t.Context(), hex.EncodeToString([]byte(user)), []byte(`{"node":"intruder","token":"x"}`)); err != nil {
				t.Fatal(err)
			}
		}, http.StatusServiceUnavailable},
		{"unreachable", func(t *testing.T, ns *natstest.Server, _ string, _ func(string)) {
			ns.Stop()
		}, http.StatusServiceUnavailable},
		{"fenced", func(t *testing.T, ns *natstest.Server, user string, send func(string)) {
			// The intruder claims the log between two of the node's own
			// appends; one of those may land between its look at the log
			// and its append (a busy machine): it tries again, a few times.
			var err error
			for range 5 {
				_, other := connectLog(t, ns.URL)
				if _, err = other.Append(t.Context(), user, "intruder", []byte(`{}`), ""); err == nil {
					break
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			send("refused")
		}, http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ns := natstest.Start(t)
			var nc *nats.Conn
			n := startEnv(t, gatewayenv.Options{Plain: true, Config: withOwnership(t, ns.URL, ttl, &nc)})
			sender := newGateway(t, nil)
			a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
			ta := sender.Login(t, a.Name, a.Password)
			send := func(body string) {
				t.Helper()
				if r := sender.Do(t, "POST", api+"/chat/message/"+b.Name, ta, "text/plain", body); r.Status != 200 {
					t.Fatalf("send %s: %d %s", body, r.Status, r.Body)
				}
			}
			tb, s, last := firstMessage(t, n, b, send, "before")

			start := time.Now()
			tc.lose(t, ns, b.JID, send)
			var c chatapi.Close
			s.NextNamed(t, chatapi.EventClose, ttl+time.Second, &c)
			if c.Reason != chatapi.CloseShutdown || !c.Resume {
				t.Errorf("stream closed with %+v, want a resumable shutdown", c)
			}
			t.Logf("stream closed %v after the loss (TTL %v)", time.Since(start), ttl)
			if r := n.Do(t, "GET", api+"/roster", tb, "", ""); r.Status != tc.after {
				t.Fatalf("request on the node after the loss: %d %s, want %d", r.Status, r.Body, tc.after)
			}
			if tc.name != "fenced" {
				return
			}
			s2, r := n.Open(t, tb, last)
			if r.Status != http.StatusOK {
				t.Fatalf("resume after the fence: %d %s", r.Status, r.Body)
			}
			nextMessage(t, s2, "refused")
			send("after")
			nextMessage(t, s2, "after")
		})
	}
}

// ownerBucket opens the leases' bucket behind the nodes' backs.
func ownerBucket(t *testing.T, url string) jetstream.KeyValue {
	t.Helper()
	nc, _ := connectLog(t, url)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	kv, err := js.KeyValue(ctx, "sg_owner")
	if err != nil {
		t.Fatal(err)
	}
	return kv
}
