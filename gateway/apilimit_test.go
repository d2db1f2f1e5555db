package gateway_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// TestIntegrationLimitUserRequests: a user's requests spend from their
// own bucket (apilimit.go): past it 429 rate_limited with Retry-After,
// logged once and counted; another user is not affected; the event
// stream and logging out are never refused; an operation that makes the
// gateway read every shared roster group costs heavyCost (10).
func TestIntegrationLimitUserRequests(t *testing.T) {
	t.Parallel()
	const burst = 12
	e, logs := limitGateway(t, func(c *gateway.Config) {
		c.Limits.UserRequests = gateway.RateLimit{Every: time.Hour, Burst: burst}
	})
	a, b, c := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tb, tc := e.Login(t, a.Name, a.Password), e.Login(t, b.Name, b.Password), e.Login(t, c.Name, c.Password)
	for i := range burst {
		if r := e.Do(t, http.MethodGet, api+"/chat/unread", ta, "", ""); r.Status != http.StatusOK {
			t.Fatalf("request %d of %d: %d %s", i+1, burst, r.Status, r.Body)
		}
	}
	const tries = 5
	for range tries {
		r := e.Do(t, http.MethodGet, api+"/chat/unread", ta, "", "")
		wantError(t, r, http.StatusTooManyRequests, "rate_limited", "too many requests from this user", true)
		// One back an hour: the wait says so.
		if secs, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || secs < 3000 {
			t.Fatalf("Retry-After %q, want about an hour", r.Header.Get("Retry-After"))
		}
	}
	// A refused message is not sent: its 429 comes before the handler.
	r := e.Do(t, http.MethodPost, api+"/chat/message/"+b.JID, ta, "text/plain", "over the limit")
	wantError(t, r, http.StatusTooManyRequests, "rate_limited", "", true)
	if r := e.Do(t, http.MethodGet, api+"/chat/unread", tb, "", ""); r.Status != http.StatusOK {
		t.Fatalf("another user: %d %s", r.Status, r.Body)
	}
	s, r := e.Open(t, ta, "")
	if s == nil {
		t.Fatalf("the event stream of a user over the limit: %d %s", r.Status, r.Body)
	}
	s.Close()
	if r := e.Do(t, http.MethodPost, api+"/logout", ta, "", ""); r.Status != http.StatusOK {
		t.Fatalf("logout of a user over the limit: %d %s", r.Status, r.Body)
	}

	// The user's groups cost 10 of c's 12: two cheap ones more, then no more.
	if r := e.Do(t, http.MethodGet, api+"/user/groups", tc, "", ""); r.Status != http.StatusOK {
		t.Fatalf("the user's groups: %d %s", r.Status, r.Body)
	}
	for i := range 2 {
		if r := e.Do(t, http.MethodGet, api+"/chat/unread", tc, "", ""); r.Status != http.StatusOK {
			t.Fatalf("cheap request %d after the groups: %d %s", i+1, r.Status, r.Body)
		}
	}
	wantError(t, e.Do(t, http.MethodGet, api+"/chat/unread", tc, "", ""), http.StatusTooManyRequests, "rate_limited", "", true)

	if n := logs.Count("limit=api-user"); n != 1 {
		t.Errorf("api-user logged %d times for %d refusals, want once", n, tries+2)
	}
	if logs.Count("request failed") != 0 {
		t.Error("a refusal was also logged as a failure")
	}
	wantHits(t, e, "api-user", tries+2)
}

// TestIntegrationLimitUserRequestsOff: a negative burst switches the
// limit off.
func TestIntegrationLimitUserRequestsOff(t *testing.T) {
	t.Parallel()
	e, _ := limitGateway(t, func(c *gateway.Config) {
		c.Limits.UserRequests = gateway.RateLimit{Burst: -1}
	})
	a := ejabberdtest.NewUser(t)
	ta := e.Login(t, a.Name, a.Password)
	for i := range gateway.DefaultUserRequestLimit.Burst + 20 {
		if r := e.Do(t, http.MethodGet, api+"/chat/unread", ta, "", ""); r.Status != http.StatusOK {
			t.Fatalf("request %d with the limit off: %d %s", i+1, r.Status, r.Body)
		}
	}
	wantHits(t, e, "api-user", 0)
}
