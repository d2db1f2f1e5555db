package gateway_test

import (
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
	"github.com/sparkgate/sparkgate/internal/prosodytest"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// TestIntegrationProsodyTokenLogins: on Prosody with the project's
// mod_sparkgate_token, the gateway signs users in with tokens it mints
// (SASL X-OAUTH2), as on ejabberd: TOTP can be set up, and a passkey
// sign-in with no XMPP session left opens one that carries messages (both
// answered 501 before). The server
// takes a token for the user it was made for, before it expires, and
// nothing else; passwords keep working beside it.
func TestIntegrationProsodyTokenLogins(t *testing.T) {
	t.Parallel() // a server of its own
	srv := prosodytest.Start(t)
	e := newAuthGatewayWith(t, gatewayenv.Options{Plain: true, Config: func(c *gateway.Config) { onProsody(c, srv) }}, nil)
	pa, pb := prosodytest.NewUser(t, srv), prosodytest.NewUser(t, srv)
	a := ejabberdtest.User{Name: pa.Name, Password: pa.Password, JID: pa.JID, Domain: srv.Domain()}
	b := ejabberdtest.User{Name: pb.Name, Password: pb.Password, JID: pb.JID, Domain: srv.Domain()}

	// TOTP can be set up (its last step is a TOTP sign-in).
	app := e.enrolTOTP(t, a)
	tokA := authToken(t, e.Do(t, "POST", api+"/totp/authenticate/"+a.Name+"/"+app.next(t), "", "text/plain", a.Password))

	// A passkey sign-in knows no password: signed out everywhere first,
	// so that no XMPP session is left, it opens one with a token.
	tokB := e.Login(t, b.Name, b.Password)
	d := e.registerPasskey(t, b, tokB, "phone", true)
	if r := e.Do(t, "POST", api+"/logout/all", tokB, "", ""); r.Status != 200 {
		t.Fatalf("logout everywhere: %d %s", r.Status, r.Body)
	}
	cer, assertion := discoverableAssertion(t, e.Client, d)
	tok := authToken(t, e.Do(t, "POST", api+"/webauthn/authenticate/finish?ceremony="+cer, "", "application/json", assertion))
	sa := e.OpenConnected(t, tokA, "")
	if r := e.Do(t, "POST", api+"/chat/message/"+a.Name, tok, "text/plain", "signed in with a passkey"); r.Status != 200 {
		t.Fatalf("send from the passkey's session: %d %s", r.Status, r.Body)
	}
	waitChatBody(t, sa, "signed in with a passkey")

	dial := func(user, token string) error {
		c, err := xmppconn.Dial(t.Context(), xmppconn.Config{Addr: srv.C2SAddr(), Domain: srv.Domain(), User: user, Token: token, TLS: xmppconn.TLSOff})
		if err == nil {
			c.Close(t.Context())
		}
		return err
	}
	admin := srv.Admin()
	tokA, err := admin.IssueToken(t.Context(), pa.Name, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := dial(pa.Name, tokA); err != nil {
		t.Fatalf("a's own token: %v", err)
	}
	if err := dial(pb.Name, tokA); err == nil {
		t.Error("a's token signed b in")
	}
	for _, bad := range []string{"v1.9999999999." + "00000000000000000000000000000000000000000000000000000000000000ff", "not a token", tokA + "0"} {
		if err := dial(pa.Name, bad); err == nil {
			t.Errorf("token %q accepted", bad)
		}
	}
	if _, err := admin.IssueToken(t.Context(), "nosuchuser", time.Minute); err == nil {
		t.Error("a token was minted for an account that does not exist")
	}
	time.Sleep(3 * time.Second)
	if err := dial(pa.Name, tokA); err == nil {
		t.Error("an expired token signed in")
	}
}

// waitChatBody skips s's events until a chatapi.chat whose body is body
// arrives (10 s at most).
func waitChatBody(t *testing.T, s *gatewaytest.Stream, body string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		var c chatapi.Chat
		s.NextNamed(t, chatapi.EventChat, time.Until(deadline), &c)
		if c.Body == body {
			return
		}
	}
}
