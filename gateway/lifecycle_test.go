package gateway_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
	"github.com/sparkgate/sparkgate/store"
	"github.com/sparkgate/sparkgate/webpush"
)

// lifecycleNode is a gateway on the store and keys in dir with what an
// account owns in the gateway switched on (TOTP, passkeys, properties,
// bookmarks) and the store's purge of a removed account wired as the
// sparkgate binary wires it.
func lifecycleNode(t *testing.T, dir string) *node {
	t.Helper()
	return &node{startEnv(t, gatewayenv.Options{Plain: true, Dir: dir, Setup: func(c *gateway.Config, st *store.SQLite, keys *auth.Keys) {
		var err error
		if c.Auth.TOTP, err = auth.NewTOTP(auth.TOTPConfig{Keys: keys, Store: st, Issuer: "sparkgate-test"}); err != nil {
			t.Fatal(err)
		}
		c.Auth.Passkeys, err = auth.NewPasskeys(auth.PasskeysConfig{
			RPID: testRP.ID, RPDisplayName: testRP.Name, RPOrigins: []string{testRPOrigin}, Store: st, Keys: keys,
		})
		if err != nil {
			t.Fatal(err)
		}
		c.Registration = true
		c.Collab.Bookmarks = st
		c.Users.Properties = st
		c.Users.OnDelete = append(c.Users.OnDelete, st.PurgeUser)
	}})}
}

// owned is what a test gives an account in the gateway before the
// account disappears.
type owned struct {
	tokens   []string // the login token and the passkey registration's
	passkey  *passkeyDevice
	bookmark int64
}

// giveState logs u in on n and gives the account a passkey, a property, a
// bookmark, a push subscription and a (pending) TOTP enrolment.
func giveState(t *testing.T, n *node, u ejabberdtest.User) owned {
	t.Helper()
	var o owned
	tok := n.Login(t, u.Name, u.Password)
	o.tokens = append(o.tokens, tok)
	// A pending TOTP enrolment first: once the account has a passkey, a
	// password login no longer covers its factors.
	if r := n.Do(t, "POST", api+"/totp/register/"+u.Name, tok, "text/plain", u.Password); r.Status != 200 {
		t.Fatalf("TOTP enrolment: %d %s", r.Status, r.Body)
	}
	ae := &authEnv{env: n.env}
	o.passkey = ae.registerPasskey(t, u, tok, "laptop", true)
	usersCase{method: "POST", path: api + "/config/properties", token: tok, ct: "application/json",
		body: `[{"name":"color","value":"red"}]`, status: 200}.run(t, n.env)
	r := n.Do(t, "POST", api+"/bookmark", tok, "application/json",
		bookmarkJSON(t, map[string]any{"type": "url", "name": "Mine", "value": "https://example.org/"}))
	var b gateway.Bookmark
	r.JSON(t, &b)
	if r.Status != 200 || b.BookmarkID == nil {
		t.Fatalf("bookmark: %d %s", r.Status, r.Body)
	}
	o.bookmark = *b.BookmarkID
	err := n.Store.PutPushSubscription(t.Context(), webpush.Subscription{User: u.JID, Resource: "phone",
		Endpoint: "https://push.example.org/" + u.Name, P256dh: "BPk", Auth: "aaaa"})
	if err != nil {
		t.Fatal(err)
	}
	if left := leftOf(t, n, u, o); len(left) != 5 {
		t.Fatalf("the account owns %v, want 5 things", left)
	}
	return o
}

// leftOf lists what the gateway still keeps for u of o.
func leftOf(t *testing.T, n *node, u ejabberdtest.User, o owned) []string {
	t.Helper()
	ctx := t.Context()
	var left []string
	if pks, err := n.Store.PasskeyCredentials(ctx, u.JID); err != nil || len(pks) > 0 {
		left = append(left, "passkeys")
	}
	if props, err := n.Store.UserProperties(ctx, u.JID); err != nil || len(props) > 0 {
		left = append(left, "properties")
	}
	if _, err := n.Store.Bookmark(ctx, o.bookmark); !errors.Is(err, store.ErrNotFound) {
		left = append(left, "bookmark")
	}
	if subs, err := n.Store.PushSubscriptions(ctx, u.JID); err != nil || len(subs) > 0 {
		left = append(left, "push subscription")
	}
	if _, err := n.Store.TOTPSecret(ctx, u.JID); !errors.Is(err, store.ErrNotFound) {
		left = append(left, "TOTP secret")
	}
	return left
}

// waitForgotten waits until the gateway keeps nothing of o for u.
func waitForgotten(t *testing.T, n *node, u ejabberdtest.User, o owned) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		left := leftOf(t, n, u, o)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the gateway still keeps the %s of the removed account", strings.Join(left, ", "))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// wantNoAccess checks that none of the tokens works and that the passkey
// no longer logs the name in.
func wantNoAccess(t *testing.T, n *node, u ejabberdtest.User, o owned) {
	t.Helper()
	for i, tok := range o.tokens {
		if r := n.Do(t, "GET", api+"/user", tok, "", ""); r.Status != 401 {
			t.Errorf("old token %d: GET /user = %d %s, want 401", i, r.Status, r.Body)
		}
	}
	if r := n.Do(t, "POST", api+"/webauthn/authenticate/start/"+u.Name, "", "", ""); r.Status == 200 {
		t.Errorf("passkey login of the name still starts: %s", r.Body)
	}
}

// registerAgain registers u's name through the gateway with a new password
// (someone else taking the free name) and returns the new token.
func registerAgain(t *testing.T, n *node, u ejabberdtest.User) string {
	t.Helper()
	r := n.Do(t, "POST", api+"/register/"+u.Name, "", "text/plain", "the newcomer's password")
	checkAgainstSpec(t, "POST", api+"/register/"+u.Name, r)
	return authToken(t, r)
}

func unregister(t *testing.T, u ejabberdtest.User) {
	t.Helper()
	if err := ejabberdtest.Admin(t).Unregister(t.Context(), u.Name); err != nil {
		t.Fatal(err)
	}
}

// TestIntegrationSecurityAccountInBand: POST /xmpp refuses XEP-0077
// in-band registration stanzas (issue 24, items 3 and 5): the account
// is neither removed nor given a new password behind the gateway's back.
func TestIntegrationSecurityAccountInBand(t *testing.T) {
	n := lifecycleNode(t, t.TempDir())
	u := ejabberdtest.NewUser(t)
	tok := n.Login(t, u.Name, u.Password)
	const newPassword = "a password set in band"
	cases := []struct{ name, stanza string }{
		{"remove", `<iq type='set'><query xmlns='jabber:iq:register'><remove/></query></iq>`},
		{"remove-to-domain", `<iq type='set' to='` + strings.ToUpper(u.Domain) + `' id='r1'><query xmlns='jabber:iq:register'><remove/></query></iq>`},
		{"remove-to-own-jid", `<iq type='set' to='` + u.JID + `'><query xmlns='jabber:iq:register'><remove/></query></iq>`},
		{"remove-prefixed", `<iq type='set'><r:query xmlns:r='jabber:iq:register'><r:remove/></r:query></iq>`},
		{"remove-client-namespace", `<iq xmlns='jabber:client' type='set'><query xmlns='jabber:iq:register'><remove/></query></iq>`},
		{"password-change", `<iq type='set'><query xmlns='jabber:iq:register'><username>` + u.Name +
			`</username><password>` + newPassword + `</password></query></iq>`},
		{"form", `<iq type='get'><query xmlns='jabber:iq:register'/></iq>`},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			r := n.Do(t, "POST", api+"/xmpp", tok, "text/plain", tt.stanza)
			if r.Status != 403 {
				t.Fatalf("POST /xmpp %s = %d %s, want 403", tt.stanza, r.Status, r.Body)
			}
			if e := r.Error(t); e.Code != "forbidden" || !strings.Contains(e.Message, "jabber:iq:register") {
				t.Fatalf("error %+v", e)
			}
			checkAgainstSpec(t, "POST", api+"/xmpp", r)
		})
	}
	// Other IQs still pass.
	if r := n.Do(t, "POST", api+"/xmpp", tok, "text/plain", `<iq type='get'><query xmlns='jabber:iq:roster'/></iq>`); r.Status != 200 {
		t.Fatalf("roster IQ: %d %s", r.Status, r.Body)
	}
	if ok, err := ejabberdtest.Admin(t).Exists(t.Context(), u.Name); err != nil || !ok {
		t.Fatalf("the account was removed: %v %v", ok, err)
	}
	if r := n.Do(t, "GET", api+"/user", tok, "", ""); r.Status != 200 {
		t.Fatalf("the token stopped working: %d %s", r.Status, r.Body)
	}
	if r := n.Do(t, "POST", api+"/login/"+u.Name, "", "text/plain", newPassword); r.Status != 401 {
		t.Fatalf("the password set in band logs in: %d", r.Status)
	}
	n.Login(t, u.Name, u.Password)
}

// TestIntegrationSecurityAccountRemovedByOperator: an operator removes a
// logged-in account with the admin API (ejabberdctl unregister). The
// gateway notices the end of the session, forgets the user, and whoever
// registers the name next inherits nothing (issue 24, item 3).
func TestIntegrationSecurityAccountRemovedByOperator(t *testing.T) {
	n := lifecycleNode(t, t.TempDir())
	u := ejabberdtest.NewUser(t)
	o := giveState(t, n, u)
	stream := n.OpenConnected(t, o.tokens[0], "")

	unregister(t, u)
	var end chatapi.Close
	stream.NextNamed(t, chatapi.EventClose, 15*time.Second, &end)
	if end.Resume {
		t.Fatalf("close event %+v invites the tab to resume", end)
	}
	waitForgotten(t, n, u, o)
	wantNoAccess(t, n, u, o)

	tok := registerAgain(t, n, u)
	wantNoAccess(t, n, u, o)
	if props := getUser(t, n.env, tok).Properties; props != nil && len(*props) > 0 {
		t.Fatalf("the newcomer inherited properties %+v", *props)
	}
}

// TestIntegrationSecurityAccountRemovedWhileAway: accounts removed while
// the gateway was down. One is noticed when its old token is used (the
// XMPP server has no such user for the session's login); the other's name
// is registered anew before anyone uses it, and the registration starts
// clean: its old token does not reach the new account (issue 24, item 3).
func TestIntegrationSecurityAccountRemovedWhileAway(t *testing.T) {
	dir := t.TempDir()
	first := lifecycleNode(t, dir)
	used, taken := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ou, ot := giveState(t, first, used), giveState(t, first, taken)
	first.Kill()
	unregister(t, used)
	unregister(t, taken)
	n := lifecycleNode(t, dir)

	t.Run("old-token-used", func(t *testing.T) {
		r := n.Do(t, "GET", api+"/user", ou.tokens[0], "", "")
		if r.Status != 401 {
			t.Fatalf("GET /user with the removed account's token = %d %s, want 401", r.Status, r.Body)
		}
		checkAgainstSpec(t, "GET", api+"/user", r)
		waitForgotten(t, n, used, ou)
		wantNoAccess(t, n, used, ou)
	})
	t.Run("name-registered-anew", func(t *testing.T) {
		tok := registerAgain(t, n, taken)
		waitForgotten(t, n, taken, ot)
		wantNoAccess(t, n, taken, ot)
		if r := n.Do(t, "GET", api+"/user", tok, "", ""); r.Status != 200 {
			t.Fatalf("the newcomer's token: %d %s", r.Status, r.Body)
		}
	})
}

// TestIntegrationSecurityPasswordChange: PUT /user changes the password
// only with the current one (OWASP ASVS V2.1.5) and then revokes every
// earlier token, a later login's included; the caller gets a new token.
func TestIntegrationSecurityPasswordChange(t *testing.T) {
	n := lifecycleNode(t, t.TempDir())
	u := ejabberdtest.NewUser(t)
	caller := n.Login(t, u.Name, u.Password)
	time.Sleep(5 * time.Millisecond) // tokens are stamped to the millisecond
	later := n.Login(t, u.Name, u.Password)
	stream := n.OpenConnected(t, later, "")
	const newPassword = "a brand new password"
	put := func(body string, status int) gatewaytest.Response {
		t.Helper()
		return usersCase{method: "PUT", path: api + "/user", token: caller, ct: "application/json", body: body, status: status}.run(t, n.env)
	}

	t.Run("without-current-password", func(t *testing.T) {
		put(jsonBody(t, map[string]string{"password": newPassword}), 400)
		put(jsonBody(t, map[string]string{"password": newPassword, "currentPassword": ""}), 400)
	})
	t.Run("wrong-current-password", func(t *testing.T) {
		r := put(jsonBody(t, map[string]string{"password": newPassword, "currentPassword": "not the password"}), 403)
		if e := r.Error(t); e.Code != "forbidden" {
			t.Fatalf("error %+v", e)
		}
	})
	// Nothing changed: the old password and both tokens still work.
	n.Login(t, u.Name, u.Password)
	for _, tok := range []string{caller, later} {
		usersCase{method: "GET", path: api + "/user", token: tok, status: 200}.run(t, n.env)
	}

	var fresh gateway.UserUpdateEntity
	put(jsonBody(t, map[string]string{"password": newPassword, "currentPassword": u.Password}), 200).JSON(t, &fresh)
	if fresh.Token == nil || *fresh.Token == "" {
		t.Fatal("no new token after the password change")
	}
	for name, tok := range map[string]string{"caller's": caller, "later login's": later} {
		if r := n.Do(t, "GET", api+"/user", tok, "", ""); r.Status != 401 {
			t.Errorf("the %s token after the password change: %d, want 401", name, r.Status)
		}
	}
	var end chatapi.Close
	stream.NextNamed(t, chatapi.EventClose, 10*time.Second, &end)
	usersCase{method: "GET", path: api + "/user", token: *fresh.Token, status: 200}.run(t, n.env)
	if r := n.Do(t, "POST", api+"/login/"+u.Name, "", "text/plain", u.Password); r.Status != 401 {
		t.Fatalf("login with the old password: %d", r.Status)
	}
	n.Login(t, u.Name, newPassword)
	// A profile change alone answers {} and keeps the token.
	var none gateway.UserUpdateEntity
	usersCase{method: "PUT", path: api + "/user", token: *fresh.Token, ct: "application/json",
		body: `{"name":"Ada"}`, status: 200}.run(t, n.env).JSON(t, &none)
	if none.Token != nil {
		t.Fatalf("a profile change issued a token")
	}
}
