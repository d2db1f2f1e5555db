package gateway_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/internal/prosodytest"
	"github.com/sparkgate/sparkgate/xmppadmin"
)

// TestIntegrationProsodyPush: with Prosody as the XMPP server
// (mod_cloud_notify), Web Push reaches a user the gateway holds no session
// for, through Prosody and the gateway's push component, once per message,
// with sender and body; while the gateway holds the session (no tab) its
// own push is the only one. The renewal after a component gap logs in as
// the signed-out user with a token (mod_sparkgate_token) and enables push
// again, after which messages still push once; a gateway whose Prosody
// issues no tokens renews nothing and says so.
func TestIntegrationProsodyPush(t *testing.T) {
	t.Parallel() // a server of its own
	srv := prosodytest.Start(t)
	logs := &gateway.LogLines{T: t}
	p := newPushGatewayWith(t, func(c *gateway.Config) {
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
		onProsody(c, srv)
		c.Push.Service = srv.PushService()
	})
	runPushComponent(t, p, srv.ComponentAddr(), srv.PushService(), srv.ComponentSecret())
	a, b := prosodytest.NewUser(t, srv), prosodytest.NewUser(t, srv)
	ta, tb := p.Login(t, a.Name, a.Password), p.Login(t, b.Name, b.Password)
	p.subscribe(t, ta, "phone")
	send := p.sender(t, tb, a.Name)

	// A session and no tab: the gateway pushes, Prosody does not (the
	// session is online).
	send("with a session")
	if _, n, data := p.next(t); n.Body != "with a session" || data["from"] != b.JID {
		t.Fatalf("notification %+v data %v", n, data)
	}
	p.svc.None(t, 3*time.Second)

	// Signed out: Prosody keeps the message offline and pushes it to the
	// component, which the gateway turns into a Web Push.
	p.pushedSignedOut(t, ta, b.JID, send)
	send("and again")
	if _, n, _ := p.next(t); n.Body != "and again" {
		t.Fatalf("second notification %+v", n)
	}

	if got := p.gw.RenewPushRegistrations(t.Context()); got != 1 {
		t.Errorf("RenewPushRegistrations renewed %d, want a's registration", got)
	}
	send("after the renewal")
	if _, n, _ := p.next(t); n.Body != "after the renewal" {
		t.Fatalf("notification after the renewal %+v", n)
	}
	p.svc.None(t, 3*time.Second)

	// Without the token secret the gateway cannot log in as a signed-out
	// user: nothing is renewed, and the log says why.
	plain := newPushGatewayWith(t, func(c *gateway.Config) {
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
		onProsody(c, srv)
		c.Directory = &xmppadmin.Prosodyctl{Config: srv.ConfigFile(), DataDir: srv.DataDir(), Domain: srv.Domain()}
		c.Push.Service = srv.PushService()
	})
	if got := plain.gw.RenewPushRegistrations(t.Context()); got != 0 {
		t.Errorf("RenewPushRegistrations renewed %d without login tokens", got)
	}
	if logs.Count("push registrations not renewed", "issues no login tokens") != 1 {
		t.Error("the skipped renewal was not logged")
	}
}
