package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
)

// fromAddr sends a request to the gateway's handler as if it came from
// the TCP peer addr ("[2001:db8::1]:4000"): the loopback has one IPv6
// address, so a test cannot dial from several.
func fromAddr(t *testing.T, e *authEnv, addr, method, path, body string) gatewaytest.Response {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, path, strings.NewReader(body))
	req.RemoteAddr = addr
	req.Header.Set("Content-Type", "text/plain")
	rec := httptest.NewRecorder()
	e.Server.Config.Handler.ServeHTTP(rec, req)
	return gatewaytest.Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

// TestIntegrationAuthLimitsIPv6: the per-address login limits count an
// IPv6 client by its /64, so moving to another address of one's own
// network neither earns fresh attempts nor escapes the lockout at an
// address; another network is another client; -ipv6-prefix 128 counts
// each address.
func TestIntegrationAuthLimitsIPv6(t *testing.T) {
	t.Parallel()
	limited := func(t *testing.T, prefix int) *authEnv {
		return newAuthGatewayWith(t, gatewayenv.Options{Plain: true, Config: func(c *gateway.Config) {
			c.Limits.IPv6Prefix = prefix
		}}, func(ac *gateway.AuthConfig, _ *auth.TOTPConfig) {
			ac.PerIP = gateway.RateLimit{Every: time.Hour, Burst: 2}
		})
	}
	t.Run("rate limit by network", func(t *testing.T) {
		e := limited(t, 0)
		u := ejabberdtest.NewUser(t)
		login := api + "/login/" + u.Name
		wantAuthError(t, fromAddr(t, e, "[2001:db8:1:2::a]:4000", "POST", login, "wrong password"), 401, "unauthorized")
		wantAuthError(t, fromAddr(t, e, "[2001:db8:1:2:ffff:ffff:ffff:fffe]:4001", "POST", login, "wrong password"), 401, "unauthorized")
		// A third address of the same /64: its attempts are spent.
		wantAuthError(t, fromAddr(t, e, "[2001:db8:1:2::b]:4002", "POST", login, u.Password), 429, "rate_limited")
		// The next /64 is another client, and an IPv4-mapped address is
		// its IPv4 address, not a network.
		authToken(t, fromAddr(t, e, "[2001:db8:1:3::a]:4000", "POST", login, u.Password))
		authToken(t, fromAddr(t, e, "192.0.2.7:4000", "POST", login, u.Password))
		wantAuthError(t, fromAddr(t, e, "[::ffff:192.0.2.7]:4001", "POST", login, "wrong password"), 401, "unauthorized")
		wantAuthError(t, fromAddr(t, e, "192.0.2.7:4002", "POST", login, u.Password), 429, "rate_limited")
	})
	t.Run("each address with prefix 128", func(t *testing.T) {
		e := limited(t, 128)
		u := ejabberdtest.NewUser(t)
		login := api + "/login/" + u.Name
		for range 2 {
			wantAuthError(t, fromAddr(t, e, "[2001:db8:1:2::a]:4000", "POST", login, "wrong password"), 401, "unauthorized")
		}
		wantAuthError(t, fromAddr(t, e, "[2001:db8:1:2::a]:4001", "POST", login, u.Password), 429, "rate_limited")
		authToken(t, fromAddr(t, e, "[2001:db8:1:2::b]:4000", "POST", login, u.Password))
	})
	t.Run("lockout by network", func(t *testing.T) {
		e := newAuthGateway(t, func(ac *gateway.AuthConfig, _ *auth.TOTPConfig) {
			ac.MaxFailures, ac.MaxUserFailures, ac.FailureWindow = 3, 50, time.Hour
		})
		u := ejabberdtest.NewUser(t)
		login := api + "/login/" + u.Name
		for _, host := range []string{"2001:db8:5:6::1", "2001:db8:5:6::2", "2001:db8:5:6::3"} {
			wantAuthError(t, fromAddr(t, e, "["+host+"]:4000", "POST", login, "wrong password"), 401, "unauthorized")
		}
		r := fromAddr(t, e, "[2001:db8:5:6::4]:4000", "POST", login, u.Password)
		if r.Status != http.StatusForbidden || !strings.Contains(string(r.Body), "locked") {
			t.Fatalf("right password from the same /64 after 3 failures: %d %s, want 403 locked", r.Status, r.Body)
		}
		authToken(t, fromAddr(t, e, "[2001:db8:5:7::4]:4000", "POST", login, u.Password))
	})
}
