package gateway_test

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// sample returns the value of the metric line that starts with name (with
// its labels), failing the test when there is none.
func sample(t *testing.T, body, name string) float64 {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s in /metrics:\n%s", name, body)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// grepLines returns body's lines that start with prefix.
func grepLines(body, prefix string) string {
	var out []string
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, prefix) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

func TestIntegrationMetrics(t *testing.T) {
	t.Run("off-by-default", func(t *testing.T) {
		e := newGateway(t, nil)
		if r := e.Do(t, http.MethodGet, gateway.MetricsPath, "", "", ""); r.Status == http.StatusOK && strings.Contains(string(r.Body), "go_goroutines") {
			t.Errorf("GET /metrics served metrics without Config.Metrics")
		}
	})
	t.Run("counts", func(t *testing.T) {
		e := newGateway(t, func(c *gateway.Config) { c.Metrics = true })
		scrape := func() string {
			t.Helper()
			r := e.Do(t, http.MethodGet, gateway.MetricsPath, "", "", "")
			if r.Status != http.StatusOK {
				t.Fatalf("GET /metrics: %d %s", r.Status, r.Body)
			}
			return string(r.Body)
		}
		body := scrape()
		if !regexp.MustCompile(`(?m)^go_build_info\{.*path="[^"]+".*\} 1$`).MatchString(body) {
			t.Errorf("no go_build_info naming the main module's path:\n%s", grepLines(body, "go_build_info"))
		}
		for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "sparkgate_sessions", "sparkgate_streams", "sparkgate_xmpp_answers_dropped_total", "sparkgate_xmpp_stanzas_skipped_total",
			"sparkgate_xmpp_sessions_reconnecting", `sparkgate_xmpp_connections_lost_total{reason="connection-lost"}`} {
			sample(t, body, name)
		}
		if got := sample(t, body, `sparkgate_logins_total{result="ok"}`); got != 0 {
			t.Errorf("logins ok before any login = %v", got)
		}

		alice, bob := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
		if r := e.Do(t, http.MethodPost, "/sparkweb/api/rest/login/"+alice.Name, "", "text/plain", "wrong-password"); r.Status != http.StatusUnauthorized {
			t.Fatalf("login with a wrong password: %d", r.Status)
		}
		tokA := e.Login(t, alice.Name, alice.Password)
		tokB := e.Login(t, bob.Name, bob.Password)
		st, _ := e.Open(t, tokB, "")
		if st == nil {
			t.Fatal("open stream failed")
		}
		st.NextNamed(t, "onConnect", 10*time.Second, nil)
		if r := e.Do(t, http.MethodPost, "/sparkweb/api/rest/chat/message/"+bob.Name, tokA, "text/plain", "hello"); r.Status != http.StatusOK {
			t.Fatalf("send: %d %s", r.Status, r.Body)
		}
		st.NextNamed(t, "chatapi.chat", 10*time.Second, nil)

		body = scrape()
		for name, want := range map[string]float64{
			`sparkgate_logins_total{result="ok"}`:     2,
			`sparkgate_logins_total{result="failed"}`: 1,
			`sparkgate_sessions`:                      2,
			`sparkgate_streams`:                       1,
		} {
			if got := sample(t, body, name); got != want {
				t.Errorf("%s = %v, want %v", name, got, want)
			}
		}
		if got := sample(t, body, "sparkgate_stream_events_total"); got < 1 {
			t.Errorf("sparkgate_stream_events_total = %v, want at least the chat event", got)
		}

		// Requests by route, method and the status the client got: the
		// logins above (two 200s, one 401), the message, a message to a
		// missing token (401 from the authentication), a path no route
		// has under the API, and a method no client should send.
		if r := e.Do(t, http.MethodPost, "/sparkweb/api/rest/chat/message/"+bob.Name, "", "text/plain", "hi"); r.Status != http.StatusUnauthorized {
			t.Fatalf("send without a token: %d", r.Status)
		}
		if r := e.Do(t, http.MethodGet, "/sparkweb/api/rest/no-such-operation", tokA, "", ""); r.Status != http.StatusNotFound {
			t.Fatalf("unknown operation: %d", r.Status)
		}
		if r := e.Do(t, "BREW", "/sparkweb/api/rest/chat/message/"+bob.Name, tokA, "", ""); r.Status < 400 {
			t.Fatalf("BREW: %d", r.Status)
		}
		body = scrape()
		const login, message = "/sparkweb/api/rest/login/:username", "/sparkweb/api/rest/chat/message/:to"
		for name, want := range map[string]float64{
			`sparkgate_http_requests_total{code="200",method="POST",route="` + login + `"}`:      2,
			`sparkgate_http_requests_total{code="401",method="POST",route="` + login + `"}`:      1,
			`sparkgate_http_requests_total{code="200",method="POST",route="` + message + `"}`:    1,
			`sparkgate_http_requests_total{code="401",method="POST",route="` + message + `"}`:    1,
			`sparkgate_http_request_duration_seconds_count{method="POST",route="` + login + `"}`: 3,
		} {
			if got := sample(t, body, name); got != want {
				t.Errorf("%s = %v, want %v", name, got, want)
			}
		}
		for _, line := range strings.Split(body, "\n") {
			if strings.HasPrefix(line, "sparkgate_http_requests_total{") && strings.Contains(line, "no-such-operation") {
				t.Errorf("a request's own path became a label value: %s", line)
			}
		}
		if !regexp.MustCompile(`(?m)^sparkgate_http_requests_total\{code="404",method="GET",route="[^"]+"\} 1$`).MatchString(body) {
			t.Errorf("no 404 counted for the unknown operation:\n%s", grepLines(body, "sparkgate_http_requests_total"))
		}
		if !regexp.MustCompile(`(?m)^sparkgate_http_requests_total\{code="4\d\d",method="other",route="[^"]+"\} 1$`).MatchString(body) {
			t.Errorf("the BREW request is not counted under method other:\n%s", grepLines(body, "sparkgate_http_requests_total"))
		}

		// Refreshes: one, its retry (the answer "lost"), the lost pair's
		// token (reuse), a garbage token.
		first := grant(t, e.Do(t, http.MethodPost, "/sparkweb/api/rest/login/"+alice.Name, "", "text/plain", alice.Password))
		grant(t, refresh(t, e.Client, *first.RefreshToken))
		lost := grant(t, refresh(t, e.Client, *first.RefreshToken))
		grant(t, refresh(t, e.Client, *first.RefreshToken))
		wantAuthError(t, refresh(t, e.Client, *lost.RefreshToken), 401, "unauthorized")
		wantAuthError(t, refresh(t, e.Client, "sgr_garbage"), 401, "unauthorized")
		body = scrape()
		for result, want := range map[string]float64{"ok": 1, "retried": 2, "reused": 1, "refused": 1} {
			if got := sample(t, body, `sparkgate_refreshes_total{result="`+result+`"}`); got != want {
				t.Errorf("refreshes %s = %v, want %v", result, got, want)
			}
		}
	})
}
