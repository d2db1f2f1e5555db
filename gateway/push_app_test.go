package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/prosody"
	"github.com/sparkgate/sparkgate/store"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// newPushAppGateway is newPushGateway with the gateway as its own push
// app server: the component runs against the shared ejabberd until the
// test ends. mod, if any, changes the Config further.
func newPushAppGateway(t *testing.T, mod ...func(*gateway.Config)) *pushEnv {
	t.Helper()
	srv := ejabberdtest.Shared(t)
	p := newPushGatewayWith(t, func(c *gateway.Config) {
		c.Push.Service = srv.PushService()
		for _, m := range mod {
			m(c)
		}
	})
	runPushComponent(t, p, srv.ComponentAddr(), srv.PushService(), srv.ComponentSecret())
	return p
}

// newProsodyPushApp is newPushAppGateway on a Prosody of the test's own
// (mod_cloud_notify): the gateway's push component connects to it.
func newProsodyPushApp(t *testing.T, srv *prosody.Server, mod ...func(*gateway.Config)) *pushEnv {
	t.Helper()
	p := newPushGatewayWith(t, func(c *gateway.Config) {
		onProsody(c, srv)
		c.Push.Service = srv.PushService()
		for _, m := range mod {
			m(c)
		}
	})
	runPushComponent(t, p, srv.ComponentAddr(), srv.PushService(), srv.ComponentSecret())
	return p
}

// runPushComponent connects p's gateway as the push app server component
// domain to the XMPP server's component listener at addr until the test
// ends, and waits until it is online.
func runPushComponent(t *testing.T, p *pushEnv, addr, domain, secret string) {
	t.Helper()
	online := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- xmppconn.RunPushComponent(ctx, xmppconn.ComponentConfig{
			Addr: addr, Domain: domain, Secret: secret,
			Push:   p.gw.HandlePushNotification,
			Logger: slog.New(slog.DiscardHandler),
			Connected: func() {
				select {
				case online <- struct{}{}:
				default:
				}
			},
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case <-online:
	case <-time.After(15 * time.Second):
		t.Fatal("the push component did not come online")
	}
}

// sender answers a func that posts a chat message with body to the user
// to (a username) with the token tok, failing the test unless it is 200.
func (p *pushEnv) sender(t *testing.T, tok, to string) func(body string) {
	return func(body string) {
		t.Helper()
		if r := p.Do(t, "POST", api+"/chat/message/"+to, tok, "text/plain", body); r.Status != 200 {
			t.Fatalf("send: %d %s", r.Status, r.Body)
		}
	}
}

// pushedSignedOut signs the login of token out, has send write "while you
// were out" (from the user from), and answers the one push that comes of
// it through the XMPP server and the push component, which must name the
// sender and carry the text.
func (p *pushEnv) pushedSignedOut(t *testing.T, token, from string, send func(string)) pushed {
	t.Helper()
	if r := p.Do(t, "POST", api+"/logout", token, "", ""); r.Status != 200 {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	start := time.Now()
	send("while you were out")
	_, n, data := p.next(t)
	t.Logf("message → push through the server, decrypted: %v", time.Since(start))
	if n.Body != "while you were out" || n.Subject != from || data["type"] != "chat" || data["from"] != from {
		t.Fatalf("notification %+v data %v", n, data)
	}
	p.svc.None(t, 3*time.Second)
	return n
}

// TestIntegrationPushWithoutSession: Web Push reaches a user the gateway
// holds no session for (logged out), through the user's server and the
// gateway's push component, once per message; a user with a session and
// no tab gets exactly one push too (the gateway's own, the server's is
// suppressed); forged notifications are dropped; removing the last
// subscription stops it all.
func TestIntegrationPushWithoutSession(t *testing.T) {
	p := newPushAppGateway(t)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tb := p.Login(t, a.Name, a.Password), p.Login(t, b.Name, b.Password)
	p.subscribe(t, ta, "phone")
	send := p.sender(t, tb, a.Name)

	t.Run("session-no-tab-one-push", func(t *testing.T) {
		send("with a session")
		_, n, data := p.next(t)
		if n.Body != "with a session" || data["from"] != b.JID {
			t.Fatalf("notification %+v data %v", n, data)
		}
		p.svc.None(t, 3*time.Second)
	})

	var fromServer pushed
	t.Run("logged-out", func(t *testing.T) {
		fromServer = p.pushedSignedOut(t, ta, b.JID, send)
	})

	t.Run("reply-signed-out", func(t *testing.T) {
		// The reply opens a session for itself alone, sends, and closes it:
		// b gets the message, and a has no session on the server after.
		streamB := p.OpenConnected(t, tb, "")
		action, _ := json.Marshal(map[string]string{"action": "reply", "type": "text", "data": fromServer.Data, "value": "replied from the lock screen"})
		if r := p.Do(t, "POST", api+"/webpush/action", fromServer.Token, "application/json", string(action)); r.Status != 200 {
			t.Fatalf("action: %d %s", r.Status, r.Body)
		}
		for {
			var c chatapi.Chat
			streamB.NextNamed(t, chatapi.EventChat, 10*time.Second, &c)
			if c.Body == "replied from the lock screen" && strings.HasPrefix(c.From, a.JID) {
				break
			}
		}
		deadline := time.Now().Add(10 * time.Second)
		for n := resources(t, a); n != 0; n = resources(t, a) {
			if time.Now().After(deadline) {
				t.Fatalf("a still has %d sessions on the server after the reply", n)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	t.Run("forged-notifications-dropped", func(t *testing.T) {
		ctx := t.Context()
		node, err := p.store.PushNode(ctx, a.JID)
		if err != nil {
			t.Fatalf("a's push node: %v", err)
		}
		for _, n := range []xmppconn.PushNotification{
			{From: a.JID, Node: node.Node, Secret: node.Secret, Body: "from a user, not the server"},
			{From: p.domain(t), Node: node.Node, Secret: node.Secret + "x", Body: "wrong secret"},
			{From: p.domain(t), Node: "no-such-node", Secret: node.Secret, Body: "unknown node"},
		} {
			if err := p.gw.HandlePushNotification(ctx, n); err != nil {
				t.Fatalf("HandlePushNotification(%+v) = %v", n, err)
			}
		}
		p.svc.None(t, 2*time.Second)
	})

	t.Run("unsubscribed-none", func(t *testing.T) {
		ta := p.Login(t, a.Name, a.Password)
		if r := p.Do(t, "DELETE", api+"/webpush/subscribe/phone", ta, "", ""); r.Status != 200 {
			t.Fatalf("unsubscribe: %d %s", r.Status, r.Body)
		}
		if r := p.Do(t, "POST", api+"/logout", ta, "", ""); r.Status != 200 {
			t.Fatalf("logout: %d %s", r.Status, r.Body)
		}
		send("nobody listens")
		p.svc.None(t, 3*time.Second)
		if _, err := p.store.PushNode(t.Context(), a.JID); err == nil {
			t.Error("the push node outlived the last subscription")
		}
	})
}

// resources asks the server's admin API how many sessions u has.
func resources(t *testing.T, u ejabberdtest.User) int {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"user": u.Name, "host": u.Domain})
	resp, err := http.Post(ejabberdtest.Shared(t).AdminURL()+"/num_resources", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	// ejabberd 23.01 answers {"resources": n}.
	var n struct{ Resources *int }
	if err := json.NewDecoder(resp.Body).Decode(&n); err != nil || resp.StatusCode != 200 || n.Resources == nil {
		t.Fatalf("num_resources: %s, %v", resp.Status, err)
	}
	return *n.Resources
}

// domain is the XMPP domain of the shared server.
func (p *pushEnv) domain(t *testing.T) string { return ejabberdtest.Shared(t).Domain() }

// TestIntegrationPushRoomWhileAway: a user who joined a room and signed
// out hears of it as the room's policy says: mentions of the user's nick
// by default, every message under "all", nothing under "none"; never the
// user's own messages. The server carries them (MucSub and XEP-0357) to
// the gateway's push component.
func TestIntegrationPushRoomWhileAway(t *testing.T) {
	p := newPushAppGateway(t)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	room := "away" + strings.ToLower(a.Name[1:9])
	join := func(tok, nick string) {
		t.Helper()
		if r := p.Do(t, "PUT", api+"/groupchat/room/"+room+"?nick="+nick, tok, "", ""); r.Status != 200 {
			t.Fatalf("join as %s: %d %s", nick, r.Status, r.Body)
		}
	}
	ta, tb := p.Login(t, a.Name, a.Password), p.Login(t, b.Name, b.Password)
	p.subscribe(t, ta, "phone")
	join(ta, "alice")
	join(tb, "bob")
	post := func(body string) {
		t.Helper()
		if r := p.Do(t, "POST", api+"/groupchat/room/"+room, tb, "text/plain", body); r.Status != 200 {
			t.Fatalf("post: %d %s", r.Status, r.Body)
		}
	}
	signOut := func(tok string) {
		t.Helper()
		if r := p.Do(t, "POST", api+"/logout", tok, "", ""); r.Status != 200 {
			t.Fatalf("logout: %d %s", r.Status, r.Body)
		}
	}
	policy := func(value string, status int) {
		t.Helper()
		tok := p.Login(t, a.Name, a.Password)
		if r := p.Do(t, "PUT", api+"/groupchat/room/"+room+"/notifications?policy="+value, tok, "", ""); r.Status != status {
			t.Fatalf("policy %s: %d %s, want %d", value, r.Status, r.Body, status)
		}
		signOut(tok)
	}
	signOut(ta)

	post("nothing for anyone in particular")
	p.svc.None(t, 2*time.Second)
	post("alice, are you there?")
	_, n, data := p.next(t)
	if n.Subject != "bob in "+room || n.Body != "alice, are you there?" || data["type"] != "groupchat" {
		t.Fatalf("mention: notification %+v data %v", n, data)
	}

	policy("all", 200)
	post("a message for everyone")
	if _, n, _ := p.next(t); n.Body != "a message for everyone" {
		t.Fatalf("policy all: notification %+v", n)
	}
	policy("none", 200)
	post("alice: even a mention")
	p.svc.None(t, 3*time.Second)

	policy("loud", 400)
	other := "never" + strings.ToLower(b.Name[1:9])
	tok := p.Login(t, a.Name, a.Password)
	if r := p.Do(t, "PUT", api+"/groupchat/room/"+other+"/notifications?policy=all", tok, "", ""); r.Status != 404 {
		t.Fatalf("a room never joined: %d %s, want 404", r.Status, r.Body)
	}
	// Leaving ends it, though this new session is not in the room.
	if r := p.Do(t, "PUT", api+"/groupchat/room/"+room+"/notifications?policy=all", tok, "", ""); r.Status != 200 {
		t.Fatalf("policy all again: %d %s", r.Status, r.Body)
	}
	if r := p.Do(t, "DELETE", api+"/groupchat/room/"+room, tok, "", ""); r.Status != 200 {
		t.Fatalf("leave: %d %s", r.Status, r.Body)
	}
	if r := p.Do(t, "DELETE", api+"/groupchat/room/"+room, tok, "", ""); r.Status != 404 {
		t.Fatalf("leave twice: %d %s, want 404", r.Status, r.Body)
	}
	signOut(tok)
	post("alice, after you left")
	p.svc.None(t, 3*time.Second)
}

// TestIntegrationPushTokensExpired: a user who never logged out, whose
// tokens all expired, has no session any more (it ends with its last
// token) and is still notified, through the server.
func TestIntegrationPushTokensExpired(t *testing.T) {
	p := newPushAppGateway(t, func(c *gateway.Config) {
		dir := t.TempDir()
		keys, err := auth.LoadOrCreateKeys(filepath.Join(dir, "keys"))
		if err != nil {
			t.Fatal(err)
		}
		st, err := store.Open(t.Context(), filepath.Join(dir, "tokens.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		short, err := auth.NewTokens(auth.TokensConfig{Keys: keys, Store: st, Audience: c.Domain, Issuer: testIssuer, Lifetime: 3 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		c.Tokens = short
		c.Sessions.IdleTimeout = 4 * time.Second // the janitor looks every second
	})
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta := p.Login(t, a.Name, a.Password)
	p.subscribe(t, ta, "phone")
	deadline := time.Now().Add(20 * time.Second)
	for resources(t, a) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("a's session outlived its tokens")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r := p.Do(t, "GET", api+"/roster", ta, "", ""); r.Status != 401 {
		t.Fatalf("an expired token: %d %s", r.Status, r.Body)
	}
	bc, err := xmppconn.Dial(t.Context(), xmppconn.Config{Addr: ejabberdtest.Shared(t).C2SAddr(), Domain: b.Domain, User: b.Name, Password: b.Password, TLS: xmppconn.TLSOff})
	if err != nil {
		t.Fatal(err)
	}
	defer bc.Close(t.Context())
	if err := bc.SendRaw(t.Context(), []byte(`<message type='chat' to='`+a.JID+`' id='x1'><body>your tokens expired</body></message>`)); err != nil {
		t.Fatal(err)
	}
	if _, n, _ := p.next(t); n.Body != "your tokens expired" || n.Subject != b.JID {
		t.Fatalf("notification %+v", n)
	}
}

// TestIntegrationPushRenewedAfterComponentAway: ejabberd drops a user's
// registration when a notification fails, as every notification does
// while the push component is away (a gateway restart). Once the
// component is back, RenewPushRegistrations enables it again for users
// without a session, and the next message is pushed.
func TestIntegrationPushRenewedAfterComponentAway(t *testing.T) {
	srv := ejabberdtest.Shared(t)
	p := newPushGatewayWith(t, func(c *gateway.Config) { c.Push.Service = srv.PushService() })
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta := p.Login(t, a.Name, a.Password)
	p.subscribe(t, ta, "phone")
	if r := p.Do(t, "POST", api+"/logout", ta, "", ""); r.Status != 200 {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	bc, err := xmppconn.Dial(t.Context(), xmppconn.Config{Addr: srv.C2SAddr(), Domain: b.Domain, User: b.Name, Password: b.Password, TLS: xmppconn.TLSOff})
	if err != nil {
		t.Fatal(err)
	}
	defer bc.Close(t.Context())
	send := func(body string) {
		t.Helper()
		if err := bc.SendRaw(t.Context(), []byte(`<message type='chat' to='`+a.JID+`'><body>`+body+`</body></message>`)); err != nil {
			t.Fatal(err)
		}
	}
	send("while no component listens") // the server drops a's registration
	time.Sleep(time.Second)

	renewed := make(chan int, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- xmppconn.RunPushComponent(ctx, xmppconn.ComponentConfig{
			Addr: srv.ComponentAddr(), Domain: srv.PushService(), Secret: srv.ComponentSecret(),
			Push: p.gw.HandlePushNotification, Logger: slog.New(slog.DiscardHandler),
			// Renewed on the component's goroutine; only the first count is
			// read, so a reconnect never blocks it.
			Connected: func() {
				n := p.gw.RenewPushRegistrations(ctx)
				select {
				case renewed <- n:
				default:
				}
			},
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case n := <-renewed:
		if n < 1 {
			t.Fatalf("renewed %d registrations, want a's", n)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the component did not connect and renew")
	}
	send("after the component came back")
	if _, n, _ := p.next(t); n.Body != "after the component came back" {
		t.Fatalf("notification %+v", n)
	}
}

// TestIntegrationPushAwayRateLimit: a burst of notifications for a user
// without a session becomes at most awayPushesPerMinute Web Pushes.
func TestIntegrationPushAwayRateLimit(t *testing.T) {
	p := newPushGatewayWith(t, func(c *gateway.Config) { c.Push.Service = ejabberdtest.Shared(t).PushService() })
	a := ejabberdtest.NewUser(t)
	ta := p.Login(t, a.Name, a.Password)
	p.subscribe(t, ta, "phone")
	node, err := p.store.PushNode(t.Context(), a.JID)
	if err != nil {
		t.Fatal(err)
	}
	if r := p.Do(t, "POST", api+"/logout", ta, "", ""); r.Status != 200 {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	// The limit is a bucket of 30 that earns one back every 2 s
	// (perMinute): a burst of 40 gets 30 wherever it falls on the clock.
	const burst, limit = 40, 30
	start := time.Now()
	for i := range burst {
		// Each from another sender: no collapse merges them.
		n := xmppconn.PushNotification{From: p.domain(t), Node: node.Node, Secret: node.Secret,
			Sender: fmt.Sprintf("s%d@%s/r", i, p.domain(t)), Body: fmt.Sprintf("burst %d", i)}
		if err := p.gw.HandlePushNotification(t.Context(), n); err != nil {
			t.Fatal(err)
		}
	}
	// A burst slower than 2 s (a loaded machine: each notification reads
	// the store) has earned one back per 2 s it took.
	earned := int(time.Since(start) / (time.Minute / limit))
	got := 0
	for done := false; !done; {
		select {
		case <-p.svc.Messages():
			got++
		case <-time.After(2 * time.Second):
			done = true
		}
	}
	if got < limit || got > limit+earned {
		t.Fatalf("%d pushes for a burst of %d, want the limit %d (and %d earned back while it lasted)", got, burst, limit, earned)
	}
}

// TestIntegrationPushAwayMuted: signed out, the user's muted conversation
// pushes nothing through the server's notifications and spends none of
// the user's budget (30): after a burst of 40 from a muted sender, one
// from another sender still arrives, and it is the only push.
func TestIntegrationPushAwayMuted(t *testing.T) {
	p := newPushGatewayWith(t, func(c *gateway.Config) { c.Push.Service = ejabberdtest.Shared(t).PushService() })
	a := ejabberdtest.NewUser(t)
	ta := p.Login(t, a.Name, a.Password)
	p.subscribe(t, ta, "phone")
	node, err := p.store.PushNode(t.Context(), a.JID)
	if err != nil {
		t.Fatal(err)
	}
	muted := "noisy@" + p.domain(t)
	if r := p.Do(t, "PUT", api+"/chat/muted/"+muted, ta, "", ""); r.Status != 200 {
		t.Fatalf("mute: %d %s", r.Status, r.Body)
	}
	if r := p.Do(t, "POST", api+"/logout", ta, "", ""); r.Status != 200 {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	notify := func(sender, body string) {
		t.Helper()
		n := xmppconn.PushNotification{From: p.domain(t), Node: node.Node, Secret: node.Secret, Sender: sender, Body: body}
		if err := p.gw.HandlePushNotification(t.Context(), n); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 40 {
		notify(fmt.Sprintf("Noisy@%s/r%d", p.domain(t), i), fmt.Sprintf("muted %d", i))
	}
	notify("quiet@"+p.domain(t)+"/r", "not muted")
	if _, n, _ := p.next(t); n.Body != "not muted" {
		t.Fatalf("the push after a muted burst: %+v", n)
	}
	p.svc.None(t, 2*time.Second)
}
