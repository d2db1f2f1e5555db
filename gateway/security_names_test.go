package gateway_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/jid/jidtest"
)

// spelledUser registers a user whose name has many spellings the XMPP
// server takes for it (jidtest), and returns it with those spellings.
func spelledUser(t *testing.T) (ejabberdtest.User, []jidtest.Spelling) {
	t.Helper()
	suffix := strings.TrimPrefix(ejabberdtest.NewUser(t).Name, "u")
	return ejabberdtest.NewUserNamed(t, ejabberdtest.Shared(t), jidtest.Name(suffix)), jidtest.Spellings(suffix)
}

// subject returns the user a token of the gateway is for.
func (e *authEnv) subject(t *testing.T, tok string) string {
	t.Helper()
	return e.claims(t, tok).Subject
}

// TestIntegrationSecurityUsernameSpellings is the regression test of the
// account takeover of issue 24: ejabberd authenticates a name after
// Nodeprep (NFKC and case folding), so every spelling of alice reaches
// alice's account, and the gateway must key each per-user mechanism on
// that same form. Each subtest sends every spelling of one account and
// checks that the mechanism saw one user.
func TestIntegrationSecurityUsernameSpellings(t *testing.T) {
	t.Parallel()
	path := func(p, name string) string { return api + p + url.PathEscape(name) }

	t.Run("token subject and register", func(t *testing.T) {
		e := newAuthGateway(t, nil)
		u, spellings := spelledUser(t)
		for _, sp := range spellings {
			tok := authToken(t, e.Do(t, "POST", path("/login/", sp.Text), "", "text/plain", u.Password))
			if sub := e.subject(t, tok); sub != u.JID {
				t.Errorf("%s: the token is for %q, want %s", sp.Kind, sub, u.JID)
			}
			// The name is taken, whichever way it is spelled.
			wantAuthError(t, e.Do(t, "POST", path("/register/", sp.Text), "", "text/plain", "another password 1"), 409, "conflict")
		}
	})

	t.Run("totp", func(t *testing.T) {
		e := newAuthGateway(t, nil)
		u, spellings := spelledUser(t)
		app := e.enrolTOTP(t, u)
		for _, sp := range spellings {
			// The password alone is never enough: every spelling meets
			// the second factor (before the fix, these gave a token).
			r := e.Do(t, "POST", path("/login/", sp.Text), "", "text/plain", u.Password)
			var b mfaBody
			r.JSON(t, &b)
			if r.Status != 401 || b.Code != "mfa_required" || b.Ticket == "" {
				t.Fatalf("%s: login with the password: %d %s, want 401 mfa_required", sp.Kind, r.Status, r.Body)
			}
		}
		// A code sent under another spelling logs the one user in.
		tok := authToken(t, e.Do(t, "POST", path("/totp/authenticate/", spellings[1].Text)+"/"+app.next(t), "", "text/plain", u.Password))
		if sub := e.subject(t, tok); sub != u.JID {
			t.Errorf("the TOTP token is for %q, want %s", sub, u.JID)
		}
		// Enrolling again under another spelling finds TOTP active.
		wantAuthError(t, e.Do(t, "POST", path("/totp/register/", spellings[0].Text), tok, "text/plain", u.Password), 409, "conflict")
	})

	t.Run("passkeys", func(t *testing.T) {
		e := newAuthGateway(t, nil)
		u, spellings := spelledUser(t)
		d := e.registerPasskey(t, u, e.Login(t, u.Name, u.Password), "laptop", true)
		for _, sp := range spellings {
			cer, resp := e.assertion(t, sp.Text, d)
			tok := authToken(t, e.Do(t, "POST", path("/webauthn/authenticate/finish/", sp.Text)+"?ceremony="+url.QueryEscape(cer), "", "application/json", resp))
			if sub := e.subject(t, tok); sub != u.JID {
				t.Errorf("%s: the passkey token is for %q, want %s", sp.Kind, sub, u.JID)
			}
		}
	})

	t.Run("lockout", func(t *testing.T) {
		u, spellings := spelledUser(t)
		e := newAuthGateway(t, func(ac *gateway.AuthConfig, _ *auth.TOTPConfig) {
			ac.MaxFailures = len(spellings)
			ac.FailureWindow = time.Hour
		})
		for _, sp := range spellings {
			wantAuthError(t, e.Do(t, "POST", path("/login/", sp.Text), "", "text/plain", "wrong password"), 401, "unauthorized")
		}
		// The failures under every spelling add up to one account's lock.
		wantAuthError(t, e.Do(t, "POST", path("/login/", u.Name), "", "text/plain", u.Password), 403, "forbidden")
		wantAuthError(t, e.Do(t, "POST", path("/login/", spellings[0].Text), "", "text/plain", u.Password), 403, "forbidden")
	})

	t.Run("per-user rate limit", func(t *testing.T) {
		u, spellings := spelledUser(t)
		e := newAuthGateway(t, func(ac *gateway.AuthConfig, _ *auth.TOTPConfig) {
			ac.PerUser = gateway.RateLimit{Every: time.Hour, Burst: len(spellings)}
		})
		for _, sp := range spellings {
			authToken(t, e.Do(t, "POST", path("/login/", sp.Text), "", "text/plain", u.Password))
		}
		wantAuthError(t, e.Do(t, "POST", path("/login/", u.Name), "", "text/plain", u.Password), 429, "rate_limited")
	})

	t.Run("tokens issued to a spelling", func(t *testing.T) {
		// Before the fix the gateway issued tokens whose subject was the
		// spelling that logged in; such a token must not work any more.
		e := newAuthGateway(t, nil)
		u, spellings := spelledUser(t)
		for _, sp := range spellings {
			old := strings.ToLower(sp.Text) // what the gateway keyed on
			if old == u.Name {
				continue
			}
			tok, _, err := e.tokens.Issue(t.Context(), old+"@"+u.Domain, auth.MethodPassword)
			if err != nil {
				t.Fatal(err)
			}
			wantAuthError(t, e.Do(t, "GET", api+"/user", tok, "", ""), 401, "unauthorized")
		}
		good, _, err := e.tokens.Issue(t.Context(), u.JID, auth.MethodPassword)
		if err != nil {
			t.Fatal(err)
		}
		if r := e.Do(t, "GET", api+"/user", good, "", ""); r.Status != 200 {
			t.Fatalf("a token for %s: %d %s", u.JID, r.Status, r.Body)
		}
	})

	t.Run("refused spellings", func(t *testing.T) {
		e := newAuthGateway(t, nil)
		u, _ := spelledUser(t)
		// Characters the server's rules refuse are a 400 on every
		// operation that takes a username, never a login.
		for _, bad := range []string{u.Name + "\u200e", u.Name + "\u202e", "\u00ad", u.Name + "\U0001f600", u.Name + "\ue000", "\u03f9" + u.Name} {
			for _, p := range loginPaths(url.PathEscape(bad)) {
				wantAuthError(t, e.Do(t, "POST", api+p, "", "text/plain", u.Password), 400, "bad_request")
			}
		}
	})
}
