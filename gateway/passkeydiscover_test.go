package gateway_test

import (
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// TestIntegrationPasskeyWithoutUsername: a passkey signs its owner in
// without a username. The start's options name no credential (the
// browser offers every passkey it holds for the site); the finish signs in
// the account the passkey's user handle names and says which (jid), with
// a passkey login's token. A ceremony works once, a tampered assertion
// and a removed passkey are 401, and a password login names its user too.
func TestIntegrationPasskeyWithoutUsername(t *testing.T) {
	t.Parallel()
	e := newAuthGateway(t, nil)
	u := ejabberdtest.NewUser(t)
	r := e.Do(t, "POST", api+"/login/"+u.Name, "", "text/plain", u.Password)
	var te gateway.TokenEntity
	r.JSON(t, &te)
	if r.Status != 200 || te.Jid == nil || *te.Jid != u.JID {
		t.Fatalf("password login: %d %s, want jid %s", r.Status, r.Body, u.JID)
	}
	d := e.registerPasskey(t, u, te.Token, "phone", true)

	start := func() (string, string) { return discoverableAssertion(t, e.Client, d) }
	finish := func(ceremony, resp string) gateway.TokenEntity {
		t.Helper()
		r := e.Do(t, "POST", api+"/webauthn/authenticate/finish?ceremony="+ceremony+"&remember=true", "", "application/json", resp)
		var te gateway.TokenEntity
		if r.Status == 200 {
			r.JSON(t, &te)
		}
		return te
	}

	cer, resp := start()
	got := finish(cer, resp)
	if got.Token == "" || got.Jid == nil || *got.Jid != u.JID || got.Remember == nil || !*got.Remember {
		t.Fatalf("finish answered %+v, want a token for %s that stays signed in", got, u.JID)
	}
	if m := e.method(t, got.Token); m != "webauthn" {
		t.Errorf("the token's method is %q, want webauthn", m)
	}
	if again := finish(cer, resp); again.Token != "" {
		t.Fatal("the same ceremony signed in twice")
	}
	cer, resp = start()
	wantAuthError(t, e.Do(t, "POST", api+"/webauthn/authenticate/finish?ceremony="+cer, "", "application/json",
		tamperCredential(t, resp, "signature")), 401, "unauthorized")

	var list gateway.WebAuthnCredentials
	e.Do(t, "GET", api+"/webauthn/credentials", got.Token, "", "").JSON(t, &list)
	if len(list.Credentials) != 1 {
		t.Fatalf("passkeys: %+v", list)
	}
	if r := e.Do(t, "DELETE", api+"/webauthn/credentials/"+list.Credentials[0].Id, got.Token, "", ""); r.Status != 200 {
		t.Fatalf("remove the passkey: %d %s", r.Status, r.Body)
	}
	cer, resp = start()
	wantAuthError(t, e.Do(t, "POST", api+"/webauthn/authenticate/finish?ceremony="+cer, "", "application/json", resp), 401, "unauthorized")
}

// discoverableAssertion starts a passkey login without a username through
// c and returns its ceremony id and d's signed answer to its options,
// which must name no credential.
func discoverableAssertion(t *testing.T, c *gatewaytest.Client, d *passkeyDevice) (string, string) {
	t.Helper()
	r := c.Do(t, "POST", api+"/webauthn/authenticate/start", "", "", "")
	if r.Status != 200 {
		t.Fatalf("start: %d %s", r.Status, r.Body)
	}
	var sa startAnswer
	r.JSON(t, &sa)
	aso, err := virtualwebauthn.ParseAssertionOptions(string(sa.Assertion))
	if err != nil {
		t.Fatalf("assertion options %s: %v", r.Body, err)
	}
	if len(aso.AllowCredentials) != 0 {
		t.Fatalf("the options name credentials: %s", sa.Assertion)
	}
	return sa.Ceremony, virtualwebauthn.CreateAssertionResponse(testRP, d.authn, d.cred, *aso)
}

// TestIntegrationPasskeyStartsSpendNothing: a start without a username
// keeps nothing on the gateway, so it spends none of the client address's
// login attempts (the sign-in page's autofill starts one for every
// visitor and renews it); the finish spends one, as every login does.
func TestIntegrationPasskeyStartsSpendNothing(t *testing.T) {
	t.Parallel()
	e := newAuthGateway(t, func(ac *gateway.AuthConfig, _ *auth.TOTPConfig) {
		ac.PerIP = gateway.RateLimit{Every: time.Hour, Burst: 3}
	})
	u := ejabberdtest.NewUser(t)
	d := e.registerPasskey(t, u, e.Login(t, u.Name, u.Password), "phone", true)
	// Another address, whose 3 attempts nothing has spent yet.
	c := e.From(t, "127.0.0.2")
	for range 20 {
		discoverableAssertion(t, c, d) // each answers 200
	}
	for range 3 {
		cer, resp := discoverableAssertion(t, c, d)
		authToken(t, c.Do(t, "POST", api+"/webauthn/authenticate/finish?ceremony="+cer, "", "application/json", resp))
	}
	cer, resp := discoverableAssertion(t, c, d)
	wantAuthError(t, c.Do(t, "POST", api+"/webauthn/authenticate/finish?ceremony="+cer, "", "application/json", resp), 429, "rate_limited")
}
