package gateway_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
	"github.com/sparkgate/sparkgate/internal/natstest"
	"github.com/sparkgate/sparkgate/internal/pgtest"
	"github.com/sparkgate/sparkgate/internal/prosodytest"
	"github.com/sparkgate/sparkgate/xmppconn"
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
// store, keys and NATS ("restart"). On ejabberd and on Prosody: the taker
// holds no password and logs b in with a token (on Prosody, one the
// gateway minted and mod_sparkgate_token took).
func TestIntegrationTakeoverCatchUp(t *testing.T) {
	const ttl = 2 * time.Second
	for _, server := range []string{"ejabberd", "prosody"} {
		t.Run(server, func(t *testing.T) {
			on := takeoverOn(t, server)
			for _, tc := range []string{"takeover", "restart"} {
				t.Run(tc, func(t *testing.T) {
					ns := natstest.Start(t)
					o := gatewayenv.Options{Plain: true, Dir: t.TempDir(), Store: pgtest.DSN(t)}
					var nc1, nc2 *nats.Conn
					o.Config = chain(withOwnership(t, ns.URL, ttl, &nc1), on.config)
					n1 := startEnv(t, o)
					var n2 *env
					if tc == "takeover" { // started before node 1 dies
						o.Config = chain(withOwnership(t, ns.URL, ttl, &nc2), on.config)
						n2 = startEnv(t, o)
					}
					a, b := on.user(t), on.user(t)
					plain := on.dial(t, a)
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
						o.Config = chain(withOwnership(t, ns.URL, ttl, &nc2), on.config)
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
		})
	}
}

// takeoverServer is the XMPP server a takeover runs on: the gateway's
// configuration for it, a new user, and a plain client of a user's.
type takeoverServer struct {
	config func(*gateway.Config)
	user   func(t *testing.T) ejabberdtest.User
	dial   func(t *testing.T, u ejabberdtest.User) *xmppconn.Conn
}

// takeoverOn is the shared ejabberd, or a Prosody of the test's own (with
// the gateway's login tokens).
func takeoverOn(t *testing.T, server string) takeoverServer {
	if server == "ejabberd" {
		return takeoverServer{
			user: func(t *testing.T) ejabberdtest.User { return ejabberdtest.NewUser(t) },
			dial: func(t *testing.T, u ejabberdtest.User) *xmppconn.Conn { return dialXMPP(t, u) },
		}
	}
	srv := prosodytest.Start(t)
	return takeoverServer{
		config: func(c *gateway.Config) { onProsody(c, srv) },
		user: func(t *testing.T) ejabberdtest.User {
			u := prosodytest.NewUser(t, srv)
			return ejabberdtest.User{Name: u.Name, Password: u.Password, JID: u.JID, Domain: srv.Domain()}
		},
		dial: func(t *testing.T, u ejabberdtest.User) *xmppconn.Conn {
			c, err := xmppconn.Dial(t.Context(), xmppconn.Config{Addr: srv.C2SAddr(), Domain: srv.Domain(), User: u.Name, Password: u.Password, TLS: xmppconn.TLSOff})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close(context.Background()) })
			return c
		},
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
