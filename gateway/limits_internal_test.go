package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/labstack/echo/v4"
	dto "github.com/prometheus/client_model/go"

	"github.com/sparkgate/sparkgate/xmppconn"
)

// LogLines collects a gateway's log output so that tests can count lines;
// each write also goes to T.Log when T is set. The limit tests of
// gateway_test use it too.
type LogLines struct {
	T   testing.TB
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *LogLines) Write(p []byte) (int, error) {
	if l.T != nil {
		l.T.Log(strings.TrimRight(string(p), "\n"))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// Count returns how many lines contain every one of parts.
func (l *LogLines) Count(parts ...string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for line := range strings.Lines(l.buf.String()) {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			n++
		}
	}
	return n
}

func (l *LogLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func TestLimitLog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out LogLines
		l := newLimits(LimitsConfig{LogInterval: time.Minute}, slog.New(slog.NewTextHandler(&out, nil)))
		first := []string{"limit reached;", "limit=max-streams"}
		again := "limit reached again"

		for range 100 {
			l.hit(limitMaxStreams, "max", 3)
		}
		if n := out.Count(first...); n != 1 || out.Count("limit=") != 1 {
			t.Fatalf("after 100 hits: %d first lines, log:\n%s", n, out.String())
		}
		if got := hitCount(t, l, limitMaxStreams); got != 100 {
			t.Fatalf("metric = %v, want 100", got)
		}

		// One summary line per interval while the hits go on.
		time.Sleep(time.Minute + time.Second)
		if out.Count(again, "limit=max-streams", "hits=99", "within=1m0s") != 1 {
			t.Fatalf("no summary of 99 hits; log:\n%s", out.String())
		}
		for range 5 {
			l.hit(limitMaxStreams)
		}
		time.Sleep(time.Minute)
		if out.Count(again, "hits=5") != 1 {
			t.Fatalf("no summary of 5 hits; log:\n%s", out.String())
		}

		// A quiet interval writes nothing and ends the summaries: the next
		// hit is logged at once again.
		time.Sleep(3 * time.Minute)
		if n := out.Count("limit="); n != 3 {
			t.Fatalf("%d lines after a quiet spell, want 3; log:\n%s", n, out.String())
		}
		l.hit(limitMaxStreams)
		if out.Count(first...) != 2 {
			t.Fatalf("a hit after a quiet spell is not logged at once; log:\n%s", out.String())
		}

		// Limits are logged apart; close writes what is pending and
		// stops the timers.
		l.hit(limitMaxBody)
		l.hit(limitMaxBody)
		l.hit(limitMaxBody)
		l.close()
		if out.Count("limit reached;", "limit=max-body") != 1 || out.Count(again, "limit=max-body", "hits=2") != 1 {
			t.Fatalf("max-body lines wrong; log:\n%s", out.String())
		}
		before := out.Count("limit=")
		time.Sleep(10 * time.Minute)
		if out.Count("limit=") != before {
			t.Fatalf("lines after close; log:\n%s", out.String())
		}
	})
}

// hitCount reads the limit's counter of the hits metric.
func hitCount(t *testing.T, l *limits, name string) float64 {
	t.Helper()
	var m dto.Metric
	if err := l.hits.WithLabelValues(name).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func TestAcquireStream(t *testing.T) {
	l := newLimits(LimitsConfig{MaxStreamsPerUser: 2, MaxStreams: 3}, slog.New(slog.DiscardHandler))
	a1, r := l.acquireStream("a@x", "10.0.0.1")
	if r != "" {
		t.Fatal(r)
	}
	a2, _ := l.acquireStream("a@x", "10.0.0.2")
	if _, r := l.acquireStream("a@x", "10.0.0.3"); r != limitMaxStreamsPerUser {
		t.Fatalf("third stream of a: %q", r)
	}
	b1, _ := l.acquireStream("b@x", "10.0.0.1")
	if _, r := l.acquireStream("c@x", "10.0.0.1"); r != limitMaxStreams {
		t.Fatalf("fourth stream: %q", r)
	}
	a1()
	a1() // idempotent
	c1, r := l.acquireStream("c@x", "10.0.0.1")
	if r != "" {
		t.Fatalf("after a release: %q", r)
	}
	if _, r := l.acquireStream("a@x", "10.0.0.1"); r != limitMaxStreams {
		t.Fatalf("a again when full: %q", r)
	}
	a2()
	b1()
	c1()
	if l.streams != 0 || len(l.perUser) != 0 || len(l.perIP) != 0 {
		t.Fatalf("counts left: %d %v %v", l.streams, l.perUser, l.perIP)
	}
	// Zero means no limit.
	free := newLimits(LimitsConfig{}, slog.New(slog.DiscardHandler))
	for i := range 1000 {
		if _, r := free.acquireStream("a@x", "10.0.0.1"); r != "" {
			t.Fatalf("stream %d refused without limits: %s", i, r)
		}
	}
}

// TestAcquireStreamPerIP: one client address holds at most MaxStreamsPerIP
// streams, whichever users they are for (issue 24, design risk B).
func TestAcquireStreamPerIP(t *testing.T) {
	l := newLimits(LimitsConfig{MaxStreamsPerUser: 10, MaxStreamsPerIP: 2, MaxStreams: 10}, slog.New(slog.DiscardHandler))
	tests := []struct {
		user, addr string
		want       string
	}{
		{"a@x", "10.0.0.1", ""},
		{"b@x", "10.0.0.1", ""},
		{"c@x", "10.0.0.1", limitMaxStreamsPerIP},
		{"a@x", "10.0.0.1", limitMaxStreamsPerIP},
		{"c@x", "10.0.0.2", ""},
		{"c@x", "2001:db8::1", ""},
	}
	var releases []func()
	for i, tt := range tests {
		rel, r := l.acquireStream(tt.user, tt.addr)
		if r != tt.want {
			t.Fatalf("%d: acquireStream(%s, %s) refused by %q, want %q", i, tt.user, tt.addr, r, tt.want)
		}
		if rel != nil {
			releases = append(releases, rel)
		}
	}
	releases[0]()
	if _, r := l.acquireStream("c@x", "10.0.0.1"); r != "" {
		t.Fatalf("after a release at the address: %q", r)
	}
}

// limitServer is just enough of a Server for the limit middleware, with
// test handlers behind it and its log in out.
func limitServer(t *testing.T, cfg LimitsConfig, out *LogLines) *echo.Echo {
	t.Helper()
	log := slog.New(slog.NewTextHandler(out, nil))
	s := &Server{log: log, limits: newLimits(cfg, log)}
	t.Cleanup(s.limits.close)
	e := echo.New()
	e.HTTPErrorHandler = s.handleError
	e.Use(s.limitRequests)
	rest := APIPrefix + "/rest"
	// wait honours its context, as XMPP round trips do.
	e.GET(rest+"/wait", func(c echo.Context) error {
		<-c.Request().Context().Done()
		return fmt.Errorf("xmpp round trip: %w", context.Cause(c.Request().Context()))
	})
	// slow overruns and then writes nothing.
	e.GET(rest+"/slow", func(c echo.Context) error {
		time.Sleep(2 * cfg.RequestTimeout)
		return nil
	})
	// late answers 200 after the limit: an answer written stands.
	e.GET(rest+"/late", func(c echo.Context) error {
		time.Sleep(2 * cfg.RequestTimeout)
		return c.JSON(http.StatusOK, map[string]string{"ok": "late"})
	})
	// badLate is the handler's own 400, after the limit: it stands.
	e.GET(rest+"/bad-late", func(c echo.Context) error {
		time.Sleep(2 * cfg.RequestTimeout)
		return errorf(http.StatusBadRequest, "bad parameter")
	})
	e.POST(rest+"/echo", func(c echo.Context) error {
		b, err := io.ReadAll(c.Request().Body)
		if err != nil {
			// What handlers commonly make of a failed read.
			return errorf(http.StatusBadRequest, "the request body could not be read")
		}
		return c.String(http.StatusOK, fmt.Sprint(len(b)))
	})
	e.GET(rest+"/full", func(c echo.Context) error { return fmt.Errorf("open session: %w", xmppconn.ErrTooManySessions) })
	// The event stream is not bounded in time.
	e.GET(APIPrefix+"/sse", func(c echo.Context) error {
		time.Sleep(2 * cfg.RequestTimeout)
		_, err := c.Response().Write([]byte(": still here\n\n"))
		return err
	})
	return e
}

// errorOf checks the JSON error body of a recorded response.
func errorOf(t *testing.T, rec *httptest.ResponseRecorder, status int, code, msgPart string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d %s, want %d", rec.Code, rec.Body, status)
	}
	var body apiError
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	if body.Status != status || body.Code != code || !strings.Contains(body.Message, msgPart) {
		t.Fatalf("error body %+v, want code %s and a message with %q", body, code, msgPart)
	}
}

func TestLimitRequestTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out LogLines
		e := limitServer(t, LimitsConfig{RequestTimeout: 5 * time.Second, LogInterval: time.Hour}, &out)
		do := func(path string) *httptest.ResponseRecorder {
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
			return rec
		}
		for i := range 20 {
			start := time.Now()
			rec := do(APIPrefix + "/rest/wait")
			errorOf(t, rec, http.StatusGatewayTimeout, "timeout", "longer than the limit of 5s")
			if d := time.Since(start); d != 5*time.Second {
				t.Fatalf("request %d answered after %v", i, d)
			}
		}
		errorOf(t, do(APIPrefix+"/rest/slow"), http.StatusGatewayTimeout, "timeout", "5s")
		if rec := do(APIPrefix + "/rest/late"); rec.Code != http.StatusOK {
			t.Fatalf("late answer: %d %s", rec.Code, rec.Body)
		}
		errorOf(t, do(APIPrefix+"/rest/bad-late"), http.StatusBadRequest, "bad_request", "bad parameter")
		if rec := do(APIPrefix + "/sse"); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "still here") {
			t.Fatalf("stream: %d %s", rec.Code, rec.Body)
		}
		if n := out.Count("limit=request-timeout"); n != 1 {
			t.Fatalf("%d log lines for 21 timeouts, want 1; log:\n%s", n, out.String())
		}
		if out.Count("request failed") != 0 {
			t.Fatalf("a timeout was also logged as a failure; log:\n%s", out.String())
		}
	})
}

func TestLimitMaxBody(t *testing.T) {
	var out LogLines
	e := limitServer(t, LimitsConfig{MaxBody: 1 << 10}, &out)
	post := func(body io.Reader, length int64) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, APIPrefix+"/rest/echo", body)
		req.ContentLength = length
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}
	if rec := post(strings.NewReader(strings.Repeat("x", 1<<10)), 1<<10); rec.Code != http.StatusOK || rec.Body.String() != "1024" {
		t.Fatalf("body at the limit: %d %s", rec.Code, rec.Body)
	}
	big := strings.Repeat("x", 1<<10+1)
	for range 10 {
		errorOf(t, post(strings.NewReader(big), int64(len(big))), http.StatusRequestEntityTooLarge, "payload_too_large", "limit of 1 KiB")
	}
	// Without a length (chunked), the limit cuts the read short, and the
	// answer is 413 whatever the handler made of it.
	for range 10 {
		errorOf(t, post(io.MultiReader(strings.NewReader(big)), -1), http.StatusRequestEntityTooLarge, "payload_too_large", "limit of 1 KiB")
	}
	if rec := post(io.MultiReader(strings.NewReader("small")), -1); rec.Code != http.StatusOK || rec.Body.String() != "5" {
		t.Fatalf("small chunked body: %d %s", rec.Code, rec.Body)
	}
	if n := out.Count("limit=max-body", "max=\"1 KiB\""); n != 1 || out.Count("limit=") != 1 {
		t.Fatalf("%d log lines for 20 refusals, want 1; log:\n%s", n, out.String())
	}
}

func TestLimitMaxSessions(t *testing.T) {
	if !ErrorCode(codeOverCapacity).Valid() {
		t.Fatalf("code %q is not in openapi.yaml's Error.code enum", codeOverCapacity)
	}
	var out LogLines
	e := limitServer(t, LimitsConfig{}, &out)
	for range 10 {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, APIPrefix+"/rest/full", nil))
		errorOf(t, rec, http.StatusServiceUnavailable, codeOverCapacity, "as many XMPP sessions")
		if rec.Header().Get("Retry-After") != "10" {
			t.Fatalf("Retry-After %q", rec.Header().Get("Retry-After"))
		}
	}
	if n := out.Count("limit=max-sessions"); n != 1 || out.Count("request failed") != 0 {
		t.Fatalf("%d log lines for 10 refusals, want 1 and no failure lines; log:\n%s", n, out.String())
	}
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{512 << 10: "512 KiB", 2 << 20: "2 MiB", 1000: "1000 bytes", 1536: "1536 bytes", 0: "0 bytes"} {
		if got := formatSize(n); got != want {
			t.Errorf("formatSize(%d) = %q, want %q", n, got, want)
		}
	}
}
