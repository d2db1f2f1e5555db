package gateway_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
	"github.com/sparkgate/sparkgate/store"
	"github.com/sparkgate/sparkgate/xmppadmin"
	"github.com/sparkgate/sparkgate/xmppconn"
)

const (
	opAPI   = "/sparkweb/api/operator"
	opToken = "operator-token-for-tests-0123456789"
)

// newOperatorGateway starts a gateway with the operator API on: the
// operator token, admin as an operator admin, lockouts in the store;
// wrap, when set, replaces the directory.
func newOperatorGateway(t *testing.T, admin string, wrap func(xmppadmin.Directory) xmppadmin.Directory) *env {
	t.Helper()
	return startEnv(t, gatewayenv.Options{Plain: true, Setup: func(c *gateway.Config, st *store.SQLite, _ *auth.Keys) {
		c.Operator = gateway.OperatorConfig{Token: opToken, Admins: []string{admin}, Lockouts: st}
		if wrap != nil {
			c.Directory = wrap(c.Directory)
		}
	}})
}

// wantStatus checks a response's status and, for an error, its JSON code.
func wantStatus(t *testing.T, what string, r gatewaytest.Response, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: %d %.300s, want %d %s", what, r.Status, r.Body, status, code)
	}
	if status >= 400 {
		if eb := r.Error(t); eb.Code != code || eb.Status != status {
			t.Fatalf("%s: error body %s, want code %s", what, r.Body, code)
		}
	}
}

// op sends an operator request with the Authorization header auth and a
// JSON body unless body is empty.
func op(t *testing.T, e *env, method, path, auth, body string) gatewaytest.Response {
	t.Helper()
	ct := ""
	if body != "" {
		ct = "application/json"
	}
	return e.Do(t, method, opAPI+path, auth, ct, body)
}

// operatorCalls are the operator API's operations, one call each, on user.
func operatorCalls(user string) []struct{ method, path, body string } {
	return []struct{ method, path, body string }{
		{"GET", "/sessions", ""},
		{"DELETE", "/sessions/" + user, ""},
		{"POST", "/broadcast", `{"body":"hi"}`},
		{"PUT", "/lockouts/" + user, ""},
		{"DELETE", "/lockouts/" + user, ""},
	}
}

// TestIntegrationOperatorAuth: the operator token (bare or Bearer) and an
// operator admin's token get in; no token, a wrong token, another user's
// token or a token in the query string do not.
func TestIntegrationOperatorAuth(t *testing.T) {
	t.Parallel()
	admin, user := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	e := newOperatorGateway(t, admin.Name, nil)
	adminTok, userTok := e.Login(t, admin.Name, admin.Password), e.Login(t, user.Name, user.Password)
	for _, tc := range []struct {
		name, auth string
		status     int
		code       string
	}{
		{"no-token", "", 401, "unauthorized"},
		{"wrong-token", "Bearer " + strings.ToUpper(opToken), 401, "unauthorized"},
		{"token-prefix", "Bearer " + opToken[:20], 401, "unauthorized"},
		{"token-longer", "Bearer " + opToken + "x", 401, "unauthorized"},
		{"basic-scheme", "Basic " + opToken, 401, "unauthorized"},
		{"user-token", userTok, 403, "forbidden"},
		{"user-token-bearer", "Bearer " + userTok, 403, "forbidden"},
		{"operator-token", opToken, 200, ""},
		{"operator-token-bearer", "Bearer " + opToken, 200, ""},
		{"admin-token", "Bearer " + adminTok, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantStatus(t, "GET /operator/sessions", op(t, e, "GET", "/sessions", tc.auth, ""), tc.status, tc.code)
		})
	}
	t.Run("token-in-query", func(t *testing.T) {
		wantStatus(t, "GET /operator/sessions?token=", op(t, e, "GET", "/sessions?token="+opToken, "", ""), 401, "unauthorized")
	})
	t.Run("admin-token-revoked", func(t *testing.T) {
		tok := e.Login(t, admin.Name, admin.Password)
		if r := e.Do(t, "POST", api+"/logout", tok, "", ""); r.Status != 200 {
			t.Fatalf("logout: %d", r.Status)
		}
		wantStatus(t, "a logged-out admin's token", op(t, e, "GET", "/sessions", tok, ""), 401, "unauthorized")
	})
}

// TestIntegrationOperatorOff: without a token or admins the operator API
// answers 401 to everyone, the operator token of another gateway and a
// good user token included (off by default, operator.go).
func TestIntegrationOperatorOff(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	u := ejabberdtest.NewUser(t)
	tok := e.Login(t, u.Name, u.Password)
	for _, a := range []string{"", opToken, "Bearer " + opToken, tok, "Bearer " + tok} {
		for _, o := range operatorCalls(u.Name) {
			wantStatus(t, o.method+" "+o.path, op(t, e, o.method, o.path, a, o.body), 401, "unauthorized")
		}
	}
	// Nothing happened to the user.
	if r := e.Do(t, "GET", api+"/roster", tok, "", ""); r.Status != 200 {
		t.Errorf("the user's token after the refused calls: %d", r.Status)
	}
}

// TestIntegrationOperatorSessions: a user signed in through the gateway
// with a stream is listed by the gateway (with the stream) and by
// ejabberd; a plain XMPP client of another user by ejabberd.
func TestIntegrationOperatorSessions(t *testing.T) {
	t.Parallel()
	admin, a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	e := newOperatorGateway(t, admin.Name, nil)
	tok := e.Login(t, a.Name, a.Password)
	e.OpenConnected(t, tok, "")
	bc := availableClient(t, ejabberdtest.Shared(t), b)

	r := op(t, e, "GET", "/sessions", opToken, "")
	wantStatus(t, "GET /operator/sessions", r, 200, "")
	var got gateway.OperatorSessions
	r.JSON(t, &got)
	i := slices.IndexFunc(got.Gateway, func(s gateway.OperatorGatewaySession) bool { return s.User == a.JID })
	if i < 0 {
		t.Fatalf("gateway sessions %+v lack %s", got.Gateway, a.JID)
	}
	if gs := got.Gateway[i]; gs.Streams != 1 || gs.Jid == nil || !strings.HasPrefix(*gs.Jid, a.JID+"/") {
		t.Errorf("gateway session %+v, want 1 stream and a full JID", gs)
	}
	if got.Server == nil {
		t.Fatal("no server sessions: ejabberd lists them")
	}
	var sawA, sawB bool
	for _, s := range *got.Server {
		sawA = sawA || strings.HasPrefix(s.Jid, a.JID+"/")
		sawB = sawB || s.Jid == bc.JID()
	}
	if !sawA || !sawB {
		t.Errorf("server sessions %+v: gateway's session of a %v, b's client %v; want both", *got.Server, sawA, sawB)
	}
}

// wantKicked checks what a kick or a lockout does to the user: the stream
// ends with chatapi.close (ended, no resume), ejabberd ends the user's
// plain client, and the user's token is 401.
func wantKicked(t *testing.T, e *env, st *gatewaytest.Stream, ac *xmppconn.Conn, tok string) {
	t.Helper()
	var cl chatapi.Close
	st.NextNamed(t, chatapi.EventClose, 10*time.Second, &cl)
	if cl.Reason != chatapi.CloseEnded || cl.Resume {
		t.Errorf("the stream closed with %+v, want ended without resume", cl)
	}
	select {
	case <-ac.Done():
	case <-time.After(10 * time.Second):
		t.Error("ejabberd did not end the user's plain client")
	}
	if r := e.Do(t, "GET", api+"/roster", tok, "", ""); r.Status != 401 {
		t.Errorf("the user's token: %d, want 401", r.Status)
	}
}

// TestIntegrationOperatorKick: a kicked user's stream ends with
// chatapi.close (ended, no resume), the user's tokens are 401, a plain
// XMPP client of the user is disconnected by ejabberd, and the user can
// sign in again; an unknown user is 404.
func TestIntegrationOperatorKick(t *testing.T) {
	t.Parallel()
	admin, a := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	e := newOperatorGateway(t, admin.Name, nil)
	tok := e.Login(t, a.Name, a.Password)
	st := e.OpenConnected(t, tok, "")
	ac := availableClient(t, ejabberdtest.Shared(t), a)

	var k gateway.OperatorKick
	r := e.Do(t, "DELETE", opAPI+"/sessions/"+a.Name, "Bearer "+e.Login(t, admin.Name, admin.Password), "", "")
	if r.Status != 200 {
		t.Fatalf("kick: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &k)
	if k.User != a.JID || k.ServerSessions < 1 {
		t.Errorf("kick answered %+v, want %s and at least the plain client's session", k, a.JID)
	}
	wantKicked(t, e, st, ac, tok)
	fresh := e.Login(t, a.Name, a.Password)
	if r := e.Do(t, "GET", api+"/roster", fresh, "", ""); r.Status != 200 {
		t.Errorf("a login after the kick: %d %s", r.Status, r.Body)
	}
	wantStatus(t, "kick an unknown user", op(t, e, "DELETE", "/sessions/nobody-"+a.Name, opToken, ""), 404, "not_found")
	wantStatus(t, "kick a malformed name", op(t, e, "DELETE", "/sessions/a%20b", opToken, ""), 400, "bad_request")
}

// TestIntegrationOperatorBroadcast: a broadcast reaches a gateway user's
// stream as a headline chat from the domain, and a plain client; bad
// bodies are 400.
func TestIntegrationOperatorBroadcast(t *testing.T) {
	t.Parallel()
	admin, a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	e := newOperatorGateway(t, admin.Name, nil)
	st := e.OpenConnected(t, e.Login(t, a.Name, a.Password), "")
	bc := availableClient(t, ejabberdtest.Shared(t), b)

	r := e.Do(t, "POST", opAPI+"/broadcast", opToken, "application/json", `{"body":"maintenance at 22:00","subject":"Notice"}`)
	if r.Status != 200 {
		t.Fatalf("broadcast: %d %s", r.Status, r.Body)
	}
	var res gateway.OperatorBroadcastResult
	r.JSON(t, &res)
	if res.Recipients < 2 {
		t.Errorf("broadcast reached %d users, want at least a and b", res.Recipients)
	}
	domain := ejabberdtest.Shared(t).Domain()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var ch chatapi.Chat
		st.NextNamed(t, "chatapi.chat", time.Until(deadline), &ch)
		if ch.Body == "maintenance at 22:00" {
			if ch.Type != chatapi.TypeHeadline || ch.From != domain {
				t.Errorf("the broadcast arrived as %+v, want a headline from %s", ch, domain)
			}
			break
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for {
		s, err := bc.Next(ctx)
		if err != nil {
			t.Fatalf("b's plain client never got the broadcast: %v", err)
		}
		if s.Name == "message" && strings.Contains(string(s.Raw), "maintenance at 22:00") {
			break
		}
	}
	for _, body := range []string{`{}`, `{"body":""}`, `{"body":"x","type":"groupchat"}`, `{"body":"x","extra":1}`, `[]`} {
		wantStatus(t, "broadcast "+body, op(t, e, "POST", "/broadcast", opToken, body), 400, "bad_request")
	}
}

// lockingDirectory is ejabberd with the lockouts of a server that has
// them (as Openfire's): it records the calls.
type lockingDirectory struct {
	xmppadmin.Directory
	mu    sync.Mutex
	calls []string
}

func (d *lockingDirectory) LockOut(_ context.Context, user string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, "lock "+user)
	return nil
}

func (d *lockingDirectory) Unlock(_ context.Context, user string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, "unlock "+user)
	return nil
}

// TestIntegrationOperatorLockout: a locked-out user's stream ends, their
// token is 401 and their password login 403 until an operator unlocks
// them; then it is 200. Locking and unlocking twice is no error; an
// unknown user is 404. With a directory that has lockouts, the server's
// lockout is called too (server: true).
func TestIntegrationOperatorLockout(t *testing.T) {
	t.Parallel()
	admin := ejabberdtest.NewUser(t)
	t.Run("ejabberd", func(t *testing.T) {
		t.Parallel()
		a := ejabberdtest.NewUser(t)
		e := newOperatorGateway(t, admin.Name, nil)
		tok := e.Login(t, a.Name, a.Password)
		st := e.OpenConnected(t, tok, "")
		ac := availableClient(t, ejabberdtest.Shared(t), a)

		var lo gateway.OperatorLockout
		r := e.Do(t, "PUT", opAPI+"/lockouts/"+a.Name, opToken, "", "")
		if r.Status != 200 {
			t.Fatalf("lock out: %d %s", r.Status, r.Body)
		}
		r.JSON(t, &lo)
		if lo != (gateway.OperatorLockout{User: a.JID, Locked: true, Server: false}) {
			t.Errorf("lock out answered %+v", lo)
		}
		wantKicked(t, e, st, ac, tok)
		login := func() (int, string) {
			r := e.Do(t, "POST", api+"/login/"+a.Name, "", "text/plain", a.Password)
			if r.Status >= 400 {
				return r.Status, r.Error(t).Code
			}
			return r.Status, ""
		}
		if st, code := login(); st != 403 || code != "forbidden" {
			t.Fatalf("a locked-out user's login: %d %s, want 403 forbidden", st, code)
		}
		wantStatus(t, "lock out again", op(t, e, "PUT", "/lockouts/"+a.Name, opToken, ""), 200, "")
		if st, _ := login(); st != 403 {
			t.Fatalf("login after locking twice: %d, want 403", st)
		}
		r = e.Do(t, "DELETE", opAPI+"/lockouts/"+strings.ToUpper(a.Name), opToken, "", "")
		if r.Status != 200 {
			t.Fatalf("unlock: %d %s", r.Status, r.Body)
		}
		r.JSON(t, &lo)
		if lo != (gateway.OperatorLockout{User: a.JID, Locked: false, Server: false}) {
			t.Errorf("unlock answered %+v", lo)
		}
		if st, _ := login(); st != 200 {
			t.Fatalf("login after unlock: %d, want 200", st)
		}
		wantStatus(t, "unlock again", op(t, e, "DELETE", "/lockouts/"+a.Name, opToken, ""), 200, "")
		wantStatus(t, "lock out an unknown user", op(t, e, "PUT", "/lockouts/nobody-"+a.Name, opToken, ""), 404, "not_found")
		wantStatus(t, "unlock an unknown user", op(t, e, "DELETE", "/lockouts/nobody-"+a.Name, opToken, ""), 404, "not_found")
	})
	t.Run("server-lockouts", func(t *testing.T) {
		t.Parallel()
		a := ejabberdtest.NewUser(t)
		var dir *lockingDirectory
		e := newOperatorGateway(t, admin.Name, func(d xmppadmin.Directory) xmppadmin.Directory {
			dir = &lockingDirectory{Directory: d}
			return dir
		})
		var lo gateway.OperatorLockout
		r := e.Do(t, "PUT", opAPI+"/lockouts/"+a.Name, opToken, "", "")
		r.JSON(t, &lo)
		if r.Status != 200 || !lo.Server || !lo.Locked {
			t.Errorf("lock out: %d %+v, want the server's lockout too", r.Status, lo)
		}
		r = e.Do(t, "DELETE", opAPI+"/lockouts/"+a.Name, opToken, "", "")
		r.JSON(t, &lo)
		if r.Status != 200 || !lo.Server || lo.Locked {
			t.Errorf("unlock: %d %+v, want the server's unlock too", r.Status, lo)
		}
		dir.mu.Lock()
		defer dir.mu.Unlock()
		if want := []string{"lock " + a.Name, "unlock " + a.Name}; !slices.Equal(dir.calls, want) {
			t.Errorf("server lockout calls %q, want %q", dir.calls, want)
		}
	})
}

// TestIntegrationOperatorBackends: an admin backend that cannot list,
// kick or send answers what it can (no server sessions, serverSessions
// -1, broadcast 501); one that is down answers 502.
func TestIntegrationOperatorBackends(t *testing.T) {
	t.Parallel()
	admin := ejabberdtest.NewUser(t)
	t.Run("cannot", func(t *testing.T) {
		t.Parallel()
		a := ejabberdtest.NewUser(t)
		// Embedding the interface hides Ejabberd's other methods.
		e := newOperatorGateway(t, admin.Name, func(d xmppadmin.Directory) xmppadmin.Directory {
			return struct{ xmppadmin.Directory }{d}
		})
		var ss gateway.OperatorSessions
		r := e.Do(t, "GET", opAPI+"/sessions", opToken, "", "")
		r.JSON(t, &ss)
		if r.Status != 200 || ss.Server != nil || ss.Gateway == nil {
			t.Errorf("sessions: %d %s, want the gateway's alone", r.Status, r.Body)
		}
		var k gateway.OperatorKick
		r = e.Do(t, "DELETE", opAPI+"/sessions/"+a.Name, opToken, "", "")
		r.JSON(t, &k)
		if r.Status != 200 || k.ServerSessions != -1 {
			t.Errorf("kick: %d %s, want serverSessions -1", r.Status, r.Body)
		}
		wantStatus(t, "broadcast", op(t, e, "POST", "/broadcast", opToken, `{"body":"x"}`), 501, "not_implemented")
	})
	t.Run("down", func(t *testing.T) {
		t.Parallel()
		dead := httptest.NewServer(http.NotFoundHandler())
		dead.Close()
		e := newOperatorGateway(t, admin.Name, func(d xmppadmin.Directory) xmppadmin.Directory {
			return &xmppadmin.Ejabberd{BaseURL: dead.URL + "/api", Domain: ejabberdtest.Shared(t).Domain()}
		})
		for _, o := range operatorCalls(admin.Name) {
			wantStatus(t, o.method+" "+o.path, op(t, e, o.method, o.path, opToken, o.body), 502, "xmpp_unavailable")
		}
	})
}

// TestIntegrationOperatorLockoutFactors: a locked-out user's TOTP login
// (with the password's ticket) and passkey login are 403 as well, and
// work again once unlocked.
func TestIntegrationOperatorLockoutFactors(t *testing.T) {
	t.Parallel()
	e := newAuthGatewayWith(t, gatewayenv.Options{Plain: true, Config: func(c *gateway.Config) {
		c.Operator = gateway.OperatorConfig{Token: opToken} // lockouts in memory
	}}, nil)
	withTOTP, withPasskey := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	app := e.enrolTOTP(t, withTOTP)
	d := e.registerPasskey(t, withPasskey, e.Login(t, withPasskey.Name, withPasskey.Password), "key", true)
	lock := func(method string) {
		t.Helper()
		for _, u := range []ejabberdtest.User{withTOTP, withPasskey} {
			wantStatus(t, method+" lockout of "+u.Name, op(t, e.env, method, "/lockouts/"+u.Name, opToken, ""), 200, "")
		}
	}
	totpLogin := func() gatewaytest.Response {
		return e.Do(t, "POST", api+"/totp/authenticate/"+withTOTP.Name+"/"+app.next(t), "", "text/plain", e.ticket(t, withTOTP))
	}
	passkeyLogin := func() gatewaytest.Response {
		cer, resp := e.assertion(t, withPasskey.Name, d)
		return e.Do(t, "POST", api+"/webauthn/authenticate/finish/"+withPasskey.Name+"?ceremony="+cer, "", "application/json", resp)
	}
	lock("PUT")
	wantStatus(t, "a locked-out user's TOTP login", totpLogin(), 403, "forbidden")
	wantStatus(t, "a locked-out user's passkey login", passkeyLogin(), 403, "forbidden")
	lock("DELETE")
	authToken(t, totpLogin())
	authToken(t, passkeyLogin())
}
