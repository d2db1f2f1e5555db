package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/internal/browsertest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
)

// TestBrowserRateLimitRetry: a burst of the client's calls past the
// gateway's limit of requests per user (apilimit.go) all end well: each
// call the limit refused waits as its Retry-After says and is sent again
// (api.js call), as the contacts' pictures at the sign-in of a person
// with many contacts are. The gateway counts the refusals, so the retries
// did happen.
func TestBrowserRateLimitRetry(t *testing.T) {
	e := gatewayenv.Start(t, func(c *gateway.Config) {
		c.Metrics = true
		// Room for the sign-in's own calls, then 40 a second.
		c.Limits.UserRequests = gateway.RateLimit{Every: 25 * time.Millisecond, Burst: 60}
	})
	b := browsertest.Launch(t)
	u := ejabberdtest.NewUser(t)
	p := newPage(t, b, "limited")
	p.Allow(func(m chromedp.ConsoleMessage) bool { return strings.Contains(m.String(), "status of 429") })
	signIn(t, e, p, u.Name, u.Password)

	const calls = 120
	got := browsertest.MustEval[string](t, p, fmt.Sprintf(`import('/api.js').then(async (m) => {
		const rs = await Promise.allSettled(Array.from({length: %d}, () => m.call('GET', '/chat/unread')));
		return rs.map((r) => r.status === 'fulfilled' ? 'ok' : String(r.reason && r.reason.status)).join(',');
	})`, calls))
	if want := strings.TrimSuffix(strings.Repeat("ok,", calls), ","); got != want {
		t.Fatalf("%d calls past the limit ended %s; want all ok", calls, got)
	}
	r := e.Do(t, http.MethodGet, gateway.MetricsPath, "", "", "")
	var refused int
	for _, line := range strings.Split(string(r.Body), "\n") {
		if _, err := fmt.Sscanf(line, `sparkgate_limit_hits_total{limit="api-user"} %d`, &refused); err == nil {
			break
		}
	}
	if refused == 0 {
		t.Fatal("the gateway refused none of the calls: the test did not reach the limit")
	}
	t.Logf("%d refusals, every call answered in the end", refused)
}
