package xmppconn

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// startPushComponent runs the push component against the shared server
// until the test ends and returns the notifications it gets.
func startPushComponent(t *testing.T) <-chan PushNotification {
	t.Helper()
	s := ejabberdtest.Shared(t)
	got := make(chan PushNotification, 16)
	online := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- RunPushComponent(ctx, ComponentConfig{
			Addr: s.ComponentAddr(), Domain: s.PushService(), Secret: s.ComponentSecret(),
			Push: func(_ context.Context, n PushNotification) error {
				got <- n
				return nil
			},
			Connected: func() {
				select {
				case online <- struct{}{}:
				default:
				}
			},
			Logger: slog.New(slog.DiscardHandler),
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("RunPushComponent: %v", err)
		}
	})
	select {
	case <-online:
	case <-time.After(15 * time.Second):
		t.Fatal("the push component did not come online")
	}
	return got
}

// TestIntegrationPushComponent: the gateway's push app server against the
// real ejabberd. The component logs in with the listener's secret and
// answers disco#info as a push service; a session enables push on every
// connection; while the session is online the server pushes nothing, and
// once it is gone a message to the user reaches the component with the
// node, the secret, the sender and the body.
func TestIntegrationPushComponent(t *testing.T) {
	srv := ejabberdtest.Shared(t)
	got := startPushComponent(t)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	reg := PushRegistration{Service: srv.PushService(), Node: "node-" + a.Name, Secret: "secret-" + b.Name}
	var off atomic.Bool // the user's last subscription is gone
	m := newTestManager(t, newEvents(), func(c *ManagerConfig) {
		c.PushApp = func(_ context.Context, user string) (PushRegistration, bool, error) {
			if user != a.JID {
				return PushRegistration{}, false, nil
			}
			return reg, !off.Load(), nil
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	sa, err := m.Open(ctx, a.Name, Credentials{Password: a.Password})
	if err != nil {
		t.Fatal(err)
	}

	info, err := sa.DiscoInfo(ctx, srv.PushService(), "")
	if err != nil {
		t.Fatalf("disco#info of the push service: %v", err)
	}
	if !info.Has("urn:xmpp:push:0") || !hasIdentity(info, "pubsub", "push") {
		t.Fatalf("disco#info %+v, want identity pubsub/push and urn:xmpp:push:0", info)
	}

	bc := dialUser(t, srv, b, nil)
	online(t, bc)
	send := func(body string) {
		t.Helper()
		if err := bc.Send(ctx, chatTo(a.JID, body)); err != nil {
			t.Fatal(err)
		}
	}
	send("while online")
	select {
	case n := <-got:
		t.Fatalf("a notification while the session is online: %+v", n)
	case <-time.After(2 * time.Second):
	}

	m.End(ctx, a.JID, chatapi.CloseLogout)
	send("while away")
	select {
	case n := <-got:
		if n.Node != reg.Node || n.Secret != reg.Secret || n.Body != "while away" ||
			!strings.HasPrefix(n.Sender, b.JID) || n.From != srv.Domain() {
			t.Fatalf("notification %+v, want node %s, the secret, body and sender %s from %s", n, reg.Node, b.JID, srv.Domain())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no notification for a message while the user has no session")
	}

	// Push off: the next connection disables the registration, and the
	// server sends nothing more once the session is gone.
	off.Store(true)
	if _, err := m.Open(ctx, a.Name, Credentials{Password: a.Password}); err != nil {
		t.Fatal(err)
	}
	m.End(ctx, a.JID, chatapi.CloseLogout)
	send("after disable")
	select {
	case n := <-got:
		t.Fatalf("a notification after push was disabled: %+v", n)
	case <-time.After(3 * time.Second):
	}
}

func hasIdentity(info *DiscoInfo, category, typ string) bool {
	for _, id := range info.Identities {
		if id.Category == category && id.Type == typ {
			return true
		}
	}
	return false
}

// TestIntegrationPushComponentWrongSecret: a wrong secret is refused as
// not authorized (and RunPushComponent would retry with backoff).
func TestIntegrationPushComponentWrongSecret(t *testing.T) {
	s := ejabberdtest.Shared(t)
	err := serveComponent(t.Context(), ComponentConfig{
		Addr: s.ComponentAddr(), Domain: s.PushService(), Secret: "wrong" + s.ComponentSecret(),
		MaxStanzaSize: DefaultMaxStanzaSize, Logger: slog.New(slog.DiscardHandler),
	}, make(chan PushNotification))
	if !errors.Is(err, ErrNotAuthorized) {
		t.Fatalf("serveComponent with a wrong secret: %v, want ErrNotAuthorized", err)
	}
}
