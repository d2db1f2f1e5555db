package gateway_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
	"github.com/sparkgate/sparkgate/internal/pgtest"
)

// newCluster starts two gateways on one PostgreSQL database and one set of
// keys, in front of the shared ejabberd: two nodes of one cluster (issue
// 18), with a lockout after three failures from one address, and what
// mod changes.
func newCluster(t *testing.T, mod func(*gateway.AuthConfig)) (n1, n2 *authEnv) {
	t.Helper()
	o := gatewayenv.Options{Plain: true, Dir: t.TempDir(), Store: pgtest.DSN(t)}
	set := func(ac *gateway.AuthConfig, _ *auth.TOTPConfig) {
		ac.MaxFailures = 3
		if mod != nil {
			mod(ac)
		}
	}
	n1 = newAuthGatewayWith(t, o, set)
	n2 = newAuthGatewayWith(t, o, set)
	return n1, n2
}

// TestIntegrationClusterSharedState: what protects logins holds on every
// node of a cluster sharing PostgreSQL: a lockout earned on node 1 holds
// on node 2, a token logged out on node 1 is refused on node 2, a TOTP
// code spent on node 1 is refused on node 2, and so is a login ticket.
func TestIntegrationClusterSharedState(t *testing.T) {
	t.Parallel()
	n1, n2 := newCluster(t, nil)

	t.Run("lockout", func(t *testing.T) {
		u := ejabberdtest.NewUser(t)
		for range 3 {
			wantAuthError(t, n1.Do(t, "POST", api+"/login/"+u.Name, "", "text/plain", "wrong password"), 401, "unauthorized")
		}
		// The right password, on the other node, from the same address.
		r := n2.Do(t, "POST", api+"/login/"+u.Name, "", "text/plain", u.Password)
		wantAuthError(t, r, 403, "forbidden")
	})

	t.Run("logout", func(t *testing.T) {
		u := ejabberdtest.NewUser(t)
		tok := n1.Login(t, u.Name, u.Password)
		// Node 2 accepts it first (and remembers that it is not revoked).
		if r := n2.Do(t, "GET", api+"/webauthn/credentials", tok, "", ""); r.Status != http.StatusOK {
			t.Fatalf("node 2 before logout: %d %s", r.Status, r.Body)
		}
		if r := n1.Do(t, "POST", api+"/logout", tok, "", ""); r.Status != http.StatusOK {
			t.Fatalf("logout on node 1: %d %s", r.Status, r.Body)
		}
		// Node 2 reads the store again once its answer is older than
		// auth.DefaultRevocationRecheck.
		deadline := time.Now().Add(auth.DefaultRevocationRecheck + 2*time.Second)
		for {
			r := n2.Do(t, "GET", api+"/webauthn/credentials", tok, "", "")
			if r.Status == http.StatusUnauthorized {
				break
			}
			if r.Status != http.StatusOK || time.Now().After(deadline) {
				t.Fatalf("node 2 after logout on node 1: %d %s, want 401 within %v", r.Status, r.Body, auth.DefaultRevocationRecheck)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})

	t.Run("totp", func(t *testing.T) {
		u := ejabberdtest.NewUser(t)
		app := n1.enrolTOTP(t, u) // stored: node 2 asks for the code too
		ticket2 := n2.ticket(t, u)
		code := app.next(t)
		authToken(t, n1.Do(t, "POST", api+"/totp/authenticate/"+u.Name+"/"+code, "", "text/plain", n1.ticket(t, u)))
		r := n2.Do(t, "POST", api+"/totp/authenticate/"+u.Name+"/"+code, "", "text/plain", ticket2)
		if r.Status != http.StatusUnauthorized {
			t.Fatalf("code spent on node 1, again on node 2: %d %s, want 401", r.Status, r.Body)
		}
		// A ticket is single-use across nodes too. Fresh steps, for the
		// two codes: both nodes' TOTP clocks (and the app's) move on.
		n1.clock.advance(2 * time.Minute)
		n2.clock.advance(2 * time.Minute)
		ticket := n1.ticket(t, u)
		authToken(t, n1.Do(t, "POST", api+"/totp/authenticate/"+u.Name+"/"+app.next(t), "", "text/plain", ticket))
		r = n2.Do(t, "POST", api+"/totp/authenticate/"+u.Name+"/"+app.next(t), "", "text/plain", ticket)
		if r.Status != http.StatusUnauthorized {
			t.Fatalf("ticket used on node 1, again on node 2: %d %s, want 401", r.Status, r.Body)
		}
	})
}

// TestIntegrationClusterLoginLimit: a username's login attempts are one
// budget across the nodes: spent on node 1, node 2 answers 429.
func TestIntegrationClusterLoginLimit(t *testing.T) {
	t.Parallel()
	n1, n2 := newCluster(t, func(ac *gateway.AuthConfig) {
		ac.PerUser = gateway.RateLimit{Every: time.Hour, Burst: 2}
	})
	u := ejabberdtest.NewUser(t)
	for range 2 {
		wantAuthError(t, n1.Do(t, "POST", api+"/login/"+u.Name, "", "text/plain", "wrong password"), 401, "unauthorized")
	}
	wantAuthError(t, n2.Do(t, "POST", api+"/login/"+u.Name, "", "text/plain", u.Password), 429, "rate_limited")
	// Another user's budget is untouched.
	other := ejabberdtest.NewUser(t)
	n2.Login(t, other.Name, other.Password)
}
