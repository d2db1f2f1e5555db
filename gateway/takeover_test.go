package gateway_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
	"github.com/sparkgate/sparkgate/internal/natstest"
	"github.com/sparkgate/sparkgate/internal/pgtest"
)

// TestIntegrationTakeoverCatchUp: the archive position travels with the
// user's event log, so a session reopened elsewhere catches up on exactly
// what it missed. b's stream is on node 1; a plain XMPP client sends m1,
// which the stream gets; node 1 dies hard (cut off NATS first, so it
// neither releases the lease nor appends again); m2 is sent while nobody
// holds b's session; then b's stream resumes with its Last-Event-ID on the
// node that takes b over once the dead node's lease expired. It gets m2
// once and m1 not again, and m3, sent afterwards, comes next. The taker is
// a second node ("takeover") or the same gateway restarted on the same
// store, keys and NATS ("restart").
func TestIntegrationTakeoverCatchUp(t *testing.T) {
	const ttl = 2 * time.Second
	for _, tc := range []string{"takeover", "restart"} {
		t.Run(tc, func(t *testing.T) {
			ns := natstest.Start(t)
			o := gatewayenv.Options{Plain: true, Dir: t.TempDir(), Store: pgtest.DSN(t)}
			var nc1, nc2 *nats.Conn
			o.Config = withOwnership(t, ns.URL, ttl, &nc1)
			n1 := startEnv(t, o)
			var n2 *env
			if tc == "takeover" { // started before node 1 dies
				o.Config = withOwnership(t, ns.URL, ttl, &nc2)
				n2 = startEnv(t, o)
			}
			a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
			plain := dialXMPP(t, a)
			send := func(body string) {
				t.Helper()
				msg := `<message type='chat' to='` + b.JID + `' id='` + body + `'><body>` + body + `</body></message>`
				if err := plain.SendRaw(t.Context(), []byte(msg)); err != nil {
					t.Fatalf("send %s: %v", body, err)
				}
			}

			tb, _, last := firstMessage(t, n1, b, send, "m1")

			nc1.Close() // node 1 dies: no release, no further append
			n1.Kill()
			died := time.Now()
			send("m2") // nobody holds b's session
			if tc == "restart" {
				o.Config = withOwnership(t, ns.URL, ttl, &nc2)
				n2 = startEnv(t, o)
			}

			s2 := openWhenOwned(t, n2, tb, last, died, ttl+5*time.Second)
			t.Logf("b's session reopened %v after node 1 died", time.Since(died))
			var hello chatapi.Connect
			s2.NextNamed(t, chatapi.EventConnect, 5*time.Second, &hello)
			if !hello.Resumed {
				t.Errorf("onConnect %+v, want resumed", hello)
			}
			nextMessage(t, s2, "m2") // not m1 again
			send("m3")
			nextMessage(t, s2, "m3") // not m2 again
		})
	}
}

// firstMessage logs u in on e, opens a stream, sends body with send and
// reads it there; it returns the token, the stream and the id of the
// message's event.
func firstMessage(t *testing.T, e *env, u ejabberdtest.User, send func(string), body string) (tok string, s *gatewaytest.Stream, last string) {
	t.Helper()
	tok = e.Login(t, u.Name, u.Password)
	s, r := e.Open(t, tok, "")
	if r.Status != http.StatusOK {
		t.Fatalf("stream: %d %s", r.Status, r.Body)
	}
	s.NextNamed(t, chatapi.EventConnect, 5*time.Second, nil)
	send(body)
	return tok, s, nextMessage(t, s, body).ID
}
