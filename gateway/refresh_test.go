package gateway_test

import (
	"context"
	"encoding/json"
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
)

// grant decodes a login or refresh answer that must carry both tokens.
func grant(t *testing.T, r gatewaytest.Response) gateway.TokenEntity {
	t.Helper()
	if r.Status != 200 {
		t.Fatalf("want 200 with a token pair, got %d %s", r.Status, r.Body)
	}
	var te gateway.TokenEntity
	r.JSON(t, &te)
	if te.Token == "" || te.RefreshToken == nil || *te.RefreshToken == "" || te.ExpiresAt == nil ||
		te.RefreshExpiresAt == nil || te.Remember == nil {
		t.Fatalf("not a token pair: %s", r.Body)
	}
	return te
}

// refresh posts a refresh token.
func refresh(t *testing.T, c *gatewaytest.Client, refreshToken string) gatewaytest.Response {
	t.Helper()
	return c.Do(t, "POST", api+"/token/refresh", "", "application/json", jsonBody(t, map[string]string{"refreshToken": refreshToken}))
}

// wantRefused checks that each access token is 401 and each refresh token
// refused.
func wantRefused(t *testing.T, c *gatewaytest.Client, access []string, refreshTokens []string) {
	t.Helper()
	for i, tok := range access {
		if r := c.Do(t, "GET", api+"/roster", tok, "", ""); r.Status != 401 {
			t.Errorf("access token %d: %d %s, want 401", i, r.Status, r.Body)
		}
	}
	for _, rt := range refreshTokens {
		wantAuthError(t, refresh(t, c, rt), 401, "unauthorized")
	}
}

func TestIntegrationRefreshRotation(t *testing.T) {
	t.Parallel()
	e := newAuthGateway(t, nil)
	u := ejabberdtest.NewUser(t)

	first := grant(t, e.Do(t, "POST", api+"/login/"+u.Name, "", "text/plain", u.Password))
	second := grant(t, refresh(t, e.Client, *first.RefreshToken))
	if second.Token == first.Token || *second.RefreshToken == *first.RefreshToken {
		t.Fatal("a refresh answered the same tokens")
	}
	if c1, c2 := e.claims(t, first.Token), e.claims(t, second.Token); c1.Family == "" || c1.Family != c2.Family || c2.Method != auth.MethodPassword {
		t.Fatalf("claims %+v then %+v: want one family, method pwd", c1, c2)
	}
	// Both access tokens work: the old one until it expires.
	for _, tok := range []string{first.Token, second.Token} {
		if r := e.Do(t, "GET", api+"/roster", tok, "", ""); r.Status != 200 {
			t.Fatalf("roster: %d %s", r.Status, r.Body)
		}
	}
	other := grant(t, e.Do(t, "POST", api+"/login/"+u.Name, "", "text/plain", u.Password))
	third := grant(t, refresh(t, e.Client, *second.RefreshToken))

	// The spent refresh token again, after its answer was used: 401, and
	// the whole family is revoked.
	wantAuthError(t, refresh(t, e.Client, *first.RefreshToken), 401, "unauthorized")
	wantRefused(t, e.Client, []string{first.Token, second.Token, third.Token}, []string{*third.RefreshToken})
	// Another login of the same user is another family.
	if r := e.Do(t, "GET", api+"/roster", other.Token, "", ""); r.Status != 200 {
		t.Fatalf("another family's token after the reuse: %d %s", r.Status, r.Body)
	}
	grant(t, refresh(t, e.Client, *other.RefreshToken))

	t.Run("bad-requests", func(t *testing.T) {
		for _, tc := range []struct {
			name, ct, body string
			status         int
		}{
			{"garbage", "application/json", `{"refreshToken":"nope"}`, 401},
			{"access-token", "application/json", jsonBody(t, map[string]string{"refreshToken": other.Token}), 400}, // too long
			{"access-token-like", "application/json", `{"refreshToken":"eyJhbGciOiJFZERTQSJ9.e30.c2ln"}`, 401},
			{"empty", "application/json", `{"refreshToken":""}`, 400},
			{"no-field", "application/json", `{}`, 400},
			{"extra-field", "application/json", `{"refreshToken":"x","user":"y"}`, 400},
			{"text", "text/plain", `sgr_x`, 400},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.Do(t, "POST", api+"/token/refresh", "", tc.ct, tc.body)
				if r.Status != tc.status || r.Error(t).Status != tc.status {
					t.Fatalf("%d %s, want %d", r.Status, r.Body, tc.status)
				}
			})
		}
	})
}

// TestIntegrationRefreshRetry: a refresh whose answer never arrived,
// retried with the same refresh token, gets a new pair and the session
// goes on; the lost pair's refresh token is spent by the retry, and
// presenting it later (someone holds a copy) revokes the family.
func TestIntegrationRefreshRetry(t *testing.T) {
	t.Parallel()
	e := newAuthGateway(t, nil)
	u := ejabberdtest.NewUser(t)
	first := grant(t, e.Do(t, "POST", api+"/login/"+u.Name, "", "text/plain", u.Password))
	s := e.OpenConnected(t, first.Token, "")

	lost := grant(t, refresh(t, e.Client, *first.RefreshToken)) // the client never sees it
	retried := grant(t, refresh(t, e.Client, *first.RefreshToken))
	if retried.Token == lost.Token || *retried.RefreshToken == *lost.RefreshToken {
		t.Fatal("the retry answered the lost pair again")
	}
	if c1, c2 := e.claims(t, first.Token), e.claims(t, retried.Token); c1.Family != c2.Family || c2.Method != auth.MethodPassword {
		t.Fatalf("claims %+v then %+v: want one family, method pwd", c1, c2)
	}
	next := grant(t, refresh(t, e.Client, *retried.RefreshToken))
	for _, tok := range []string{first.Token, retried.Token, next.Token} {
		if r := e.Do(t, "GET", api+"/roster", tok, "", ""); r.Status != 200 {
			t.Fatalf("roster after the retry: %d %s", r.Status, r.Body)
		}
	}

	// The lost pair's refresh token shows up: it is reuse.
	wantAuthError(t, refresh(t, e.Client, *lost.RefreshToken), 401, "unauthorized")
	wantRefused(t, e.Client, []string{first.Token, lost.Token, retried.Token, next.Token}, []string{*next.RefreshToken})
	var cl chatapi.Close
	s.NextNamed(t, chatapi.EventClose, 5*time.Second, &cl)
	if cl.Reason != chatapi.CloseLogout {
		t.Fatalf("stream closed with %q after the reuse, want logout", cl.Reason)
	}
}

func TestIntegrationRefreshLogout(t *testing.T) {
	t.Parallel()
	e := newAuthGateway(t, nil)
	u := ejabberdtest.NewUser(t)
	first := grant(t, e.Do(t, "POST", api+"/login/"+u.Name, "", "text/plain", u.Password))
	second := grant(t, refresh(t, e.Client, *first.RefreshToken))
	other := grant(t, e.Do(t, "POST", api+"/login/"+u.Name, "", "text/plain", u.Password))
	// A stream opened with the family's older token ends with the logout.
	s := e.OpenConnected(t, first.Token, "")

	if r := e.Do(t, "POST", api+"/logout", second.Token, "", ""); r.Status != 200 {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	var cl chatapi.Close
	s.NextNamed(t, chatapi.EventClose, 5*time.Second, &cl)
	if cl.Reason != chatapi.CloseLogout {
		t.Fatalf("stream closed with %q, want logout", cl.Reason)
	}
	wantRefused(t, e.Client, []string{first.Token, second.Token}, []string{*second.RefreshToken})
	if r := e.Do(t, "GET", api+"/roster", other.Token, "", ""); r.Status != 200 {
		t.Fatalf("another login after the logout: %d %s", r.Status, r.Body)
	}
}

func TestIntegrationRefreshPasswordChange(t *testing.T) {
	t.Parallel()
	e := newAuthGateway(t, nil)
	u := ejabberdtest.NewUser(t)
	a := grant(t, e.Do(t, "POST", api+"/login/"+u.Name, "", "text/plain", u.Password))
	b := grant(t, e.Do(t, "POST", api+"/login/"+u.Name+"?remember=true", "", "text/plain", u.Password))
	b2 := grant(t, refresh(t, e.Client, *b.RefreshToken))
	body := jsonBody(t, map[string]string{"password": "a brand new password", "currentPassword": u.Password})
	r := e.Do(t, "PUT", api+"/user", b2.Token, "application/json", body)
	if r.Status != 200 {
		t.Fatalf("password change: %d %s", r.Status, r.Body)
	}
	wantRefused(t, e.Client, []string{a.Token, b.Token, b2.Token}, []string{*a.RefreshToken, *b2.RefreshToken})
	// The caller goes on in a new family with its login's method and choice.
	var fresh gateway.UserUpdateEntity
	r.JSON(t, &fresh)
	if fresh.Token == nil || fresh.RefreshToken == nil {
		t.Fatalf("password change answered %s, want a token pair", r.Body)
	}
	next := grant(t, refresh(t, e.Client, *fresh.RefreshToken))
	cl := e.claims(t, next.Token)
	if cl.Family == "" || cl.Family != e.claims(t, *fresh.Token).Family || cl.Method != auth.MethodPassword || !*next.Remember {
		t.Fatalf("after the password change: claims %+v, remember %v", cl, *next.Remember)
	}
}

// TestIntegrationRefreshLifetimes: without remember a family lives the
// session lifetime from its last refresh, with it the remember lifetime;
// past it the refresh token is 401.
func TestIntegrationRefreshLifetimes(t *testing.T) {
	t.Parallel()
	e := newAuthGateway(t, nil)
	u := ejabberdtest.NewUser(t)
	for _, tc := range []struct {
		query    string
		remember bool
		lifetime time.Duration
	}{
		{"", false, auth.DefaultSessionLifetime},
		{"?remember=false", false, auth.DefaultSessionLifetime},
		{"?remember=true", true, auth.DefaultRememberLifetime},
	} {
		t.Run("login"+tc.query, func(t *testing.T) {
			before := e.refreshClock.now()
			g := grant(t, e.Do(t, "POST", api+"/login/"+u.Name+tc.query, "", "text/plain", u.Password))
			if *g.Remember != tc.remember {
				t.Fatalf("remember %v, want %v", *g.Remember, tc.remember)
			}
			if got := g.RefreshExpiresAt.Sub(before); got < tc.lifetime || got > tc.lifetime+time.Minute {
				t.Fatalf("refresh token lives %v, want %v", got, tc.lifetime)
			}
			// A refresh slides the expiry and keeps the choice.
			e.refreshClock.advance(tc.lifetime - time.Hour)
			g = grant(t, refresh(t, e.Client, *g.RefreshToken))
			if *g.Remember != tc.remember || g.RefreshExpiresAt.Sub(e.refreshClock.now()) < tc.lifetime-time.Minute {
				t.Fatalf("after a refresh: remember %v, expires %v", *g.Remember, g.RefreshExpiresAt)
			}
			// Idle past the lifetime: log in again.
			e.refreshClock.advance(tc.lifetime + time.Minute)
			wantAuthError(t, refresh(t, e.Client, *g.RefreshToken), 401, "unauthorized")
		})
	}
}

// TestIntegrationRefreshKeepsMethod: every login operation answers a pair,
// and refreshes of a TOTP or passkey login stay TOTP or passkey tokens.
func TestIntegrationRefreshKeepsMethod(t *testing.T) {
	t.Parallel()
	e := newAuthGateway(t, nil)
	u := ejabberdtest.NewUser(t)
	app := e.enrolTOTP(t, u)
	totpLogin := grant(t, e.Do(t, "POST", api+"/totp/authenticate/"+u.Name+"/"+app.next(t), "", "text/plain", e.ticket(t, u)))
	g := totpLogin
	for range 2 {
		g = grant(t, refresh(t, e.Client, *g.RefreshToken))
		if m := e.method(t, g.Token); m != auth.MethodTOTP {
			t.Fatalf("refreshed TOTP login: method %q", m)
		}
	}
	dev := e.registerPasskey(t, u, g.Token, "key", true)
	ceremony, assertion := e.assertion(t, u.Name, dev)
	pk := grant(t, e.Do(t, "POST", api+"/webauthn/authenticate/finish/"+u.Name+"?remember=true&ceremony="+ceremony, "", "application/json", assertion))
	pk = grant(t, refresh(t, e.Client, *pk.RefreshToken))
	if m := e.method(t, pk.Token); m != auth.MethodWebAuthn || !*pk.Remember {
		t.Fatalf("refreshed passkey login: method %q, remember %v", m, *pk.Remember)
	}
	name := "refreshreg" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "")
	t.Cleanup(func() { ejabberdtest.Admin(t).Unregister(context.Background(), name) })
	reg := grant(t, e.Do(t, "POST", api+"/register/"+name+"?remember=true", "", "text/plain", "long enough password"))
	if m := e.method(t, reg.Token); m != auth.MethodPassword || !*reg.Remember {
		t.Fatalf("registration: method %q, remember %v", m, *reg.Remember)
	}
}

// TestIntegrationRefreshStream: a stream opened with a token ends when that
// token expires, though the family was refreshed meanwhile; reopened with
// the new token and Last-Event-ID it loses nothing and repeats nothing.
func TestIntegrationRefreshStream(t *testing.T) {
	t.Parallel()
	const lifetime = 3 * time.Second
	e := startEnv(t, gatewayenv.Options{Plain: true, Setup: func(c *gateway.Config, st *store.SQLite, keys *auth.Keys) {
		var err error
		c.Tokens, err = auth.NewTokens(auth.TokensConfig{Keys: keys, Store: st, Audience: c.Domain, Issuer: testIssuer, Lifetime: lifetime})
		if err != nil {
			t.Fatal(err)
		}
		if c.Refresh, err = auth.NewRefresh(auth.RefreshConfig{Tokens: c.Tokens, Store: st}); err != nil {
			t.Fatal(err)
		}
	}})
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	tb := grant(t, e.Do(t, "POST", api+"/login/"+b.Name, "", "text/plain", b.Password))
	s := e.OpenConnected(t, tb.Token, "")

	send := func(body string) {
		t.Helper()
		// The sender refreshes too: its tokens live 3 s as well.
		ta := grant(t, e.Do(t, "POST", api+"/login/"+a.Name, "", "text/plain", a.Password))
		if r := e.Do(t, "POST", api+"/chat/message/"+b.Name, ta.Token, "text/plain", body); r.Status != 200 {
			t.Fatalf("send %s: %d %s", body, r.Status, r.Body)
		}
	}
	got := map[string]int{}
	lastID := ""
	read := func(s *gatewaytest.Stream, until string) {
		t.Helper()
		for {
			ev := s.Next(t, 10*time.Second)
			switch ev.Name {
			case chatapi.EventChat:
				var m chatapi.Chat
				if err := json.Unmarshal([]byte(ev.Data), &m); err != nil {
					t.Fatal(err)
				}
				if m.Body == "" {
					continue
				}
				got[m.Body]++
				lastID = ev.ID
			case chatapi.EventClose:
				var cl chatapi.Close
				if err := json.Unmarshal([]byte(ev.Data), &cl); err != nil {
					t.Fatal(err)
				}
				if until != chatapi.EventClose || cl.Reason != chatapi.CloseExpired {
					t.Fatalf("stream closed with %q", cl.Reason)
				}
				return
			}
			if until == "m-3" && got["m-3"] > 0 {
				return
			}
		}
	}

	send("m-1")
	next := grant(t, refresh(t, e.Client, *tb.RefreshToken))
	send("m-2")
	// The old token's stream ends at its expiry, after m-2.
	read(s, chatapi.EventClose)
	s.Close()
	send("m-3") // while no stream is open
	// The client refreshes again (its token lives 3 s), then resumes.
	next = grant(t, refresh(t, e.Client, *next.RefreshToken))
	s2 := e.OpenConnected(t, next.Token, lastID)
	read(s2, "m-3")
	for _, m := range []string{"m-1", "m-2", "m-3"} {
		if got[m] != 1 {
			t.Errorf("%s seen %d times, want once: %v", m, got[m], got)
		}
	}
}

// TestIntegrationRefreshAccountDeleted: DELETE /user revokes every family;
// whoever registers the name next inherits no refresh token.
func TestIntegrationRefreshAccountDeleted(t *testing.T) {
	t.Parallel()
	e := newAuthGateway(t, nil)
	u := ejabberdtest.NewUser(t)
	a := grant(t, e.Do(t, "POST", api+"/login/"+u.Name+"?remember=true", "", "text/plain", u.Password))
	b := grant(t, e.Do(t, "POST", api+"/login/"+u.Name, "", "text/plain", u.Password))
	if r := e.Do(t, "DELETE", api+"/user", b.Token, "", ""); r.Status != 200 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	grant(t, e.Do(t, "POST", api+"/register/"+u.Name, "", "text/plain", "another long password"))
	wantRefused(t, e.Client, []string{a.Token, b.Token}, []string{*a.RefreshToken, *b.RefreshToken})
}
