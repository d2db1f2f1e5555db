package gateway_test

import (
	"testing"

	"github.com/descope/virtualwebauthn"

	"github.com/sparkgate/sparkgate/gateway"
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

	start := func() (string, string) {
		t.Helper()
		r := e.Do(t, "POST", api+"/webauthn/authenticate/start", "", "", "")
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
