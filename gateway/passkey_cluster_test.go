package gateway_test

import (
	"testing"

	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
	"github.com/sparkgate/sparkgate/internal/pgtest"
)

// TestIntegrationPasskeyAcrossNodes: the passkey ceremonies are kept in
// the store, so two nodes on one PostgreSQL database finish each other's:
// a registration begun on node 1 finishes on node 2, a login begun on
// node 2 finishes on node 1, and a finished ceremony is spent on both.
// A finish that names only its credential (SparkWeb's) finds its
// ceremony on the other node too, and a login without a username, which
// keeps no ceremony, finishes on the other node once.
func TestIntegrationPasskeyAcrossNodes(t *testing.T) {
	o := gatewayenv.Options{Plain: true, Dir: t.TempDir(), Store: pgtest.DSN(t)}
	n1 := newAuthGatewayWith(t, o, nil)
	n2 := newAuthGatewayWith(t, o, nil)
	u := ejabberdtest.NewUser(t)
	tok := n1.Login(t, u.Name, u.Password)

	// Without the ceremony parameter, as SparkWeb finishes.
	d := registerPasskeyAcross(t, n1, n2, u, tok, "laptop", false)

	cer, assertion := n2.assertion(t, u.Name, d)
	login := api + "/webauthn/authenticate/finish/" + u.Name + "?ceremony=" + cer
	tok2 := authToken(t, n1.Do(t, "POST", login, "", "application/json", assertion))
	if r := n2.Do(t, "GET", api+"/webauthn/credentials", tok2, "", ""); r.Status != 200 {
		t.Fatalf("the passkey login's token on node 2: %d %s", r.Status, r.Body)
	}
	// Spent: node 2, where it began, no longer has it either.
	wantAuthError(t, n2.Do(t, "POST", login, "", "application/json", assertion), 401, "unauthorized")

	// Without a username nothing is kept: the nodes share the key that
	// seals the challenge, and the store records it as spent once it
	// signs in, so the same assertion is refused on either node after.
	cer, assertion = discoverableAssertion(t, n1.Client, d)
	finish := api + "/webauthn/authenticate/finish?ceremony=" + cer
	authToken(t, n2.Do(t, "POST", finish, "", "application/json", assertion))
	wantAuthError(t, n1.Do(t, "POST", finish, "", "application/json", assertion), 401, "unauthorized")
	wantAuthError(t, n2.Do(t, "POST", finish, "", "application/json", assertion), 401, "unauthorized")
}
