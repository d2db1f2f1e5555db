package gateway_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// limitGateway is a gateway with metrics on, the limits mod sets and its
// log in the returned lineLog.
func limitGateway(t *testing.T, mod func(*gateway.Config)) (*env, *gateway.LogLines) {
	t.Helper()
	logs := &gateway.LogLines{T: t}
	e := newGateway(t, func(c *gateway.Config) {
		c.Metrics = true
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
		mod(c)
	})
	return e, logs
}

// wantError checks a refusal: its status, the JSON error body's code and
// message, and Retry-After when retry is set.
func wantError(t *testing.T, r gatewaytest.Response, status int, code, msg string, retry bool) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d %s, want %d", r.Status, r.Body, status)
	}
	eb := r.Error(t)
	if eb.Status != status || eb.Code != code || !strings.Contains(eb.Message, msg) {
		t.Fatalf("error body %+v, want code %s and %q in the message", eb, code, msg)
	}
	if retry && r.Header.Get("Retry-After") == "" {
		t.Fatalf("no Retry-After on %d", status)
	}
}

// wantHits checks the limit's counter in /metrics.
func wantHits(t *testing.T, e *env, limit string, n int) {
	t.Helper()
	r := e.Do(t, http.MethodGet, gateway.MetricsPath, "", "", "")
	line := fmt.Sprintf("sparkgate_limit_hits_total{limit=%q} %d\n", limit, n)
	if !strings.Contains(string(r.Body), line) {
		t.Fatalf("no %q in /metrics", strings.TrimSpace(line))
	}
}

// forwardedFor claims another client address in the headers proxies set.
type forwardedFor struct {
	rt   http.RoundTripper
	addr string
}

func (f forwardedFor) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", f.addr)
	r.Header.Set("X-Real-IP", f.addr)
	return f.rt.RoundTrip(r)
}

// TestIntegrationLimitStreamsPerIP: one client address holds at most
// max-streams-per-ip event streams, whoever's they are (issue 24, design
// risk B); the address is the TCP peer's, as for the login rate limit, so
// X-Forwarded-For does not get around it.
func TestIntegrationLimitStreamsPerIP(t *testing.T) {
	t.Parallel()
	e, logs := limitGateway(t, func(c *gateway.Config) {
		c.Limits.MaxStreamsPerIP = 2
	})
	a, b, c := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tb, tc := e.Login(t, a.Name, a.Password), e.Login(t, b.Name, b.Password), e.Login(t, c.Name, c.Password)
	crowd, other := e.From(t, "127.0.0.2"), e.From(t, "127.0.0.3")
	for _, tok := range []string{ta, tb} {
		s, r := crowd.Open(t, tok, "")
		if s == nil {
			t.Fatalf("stream within the limit: %d %s", r.Status, r.Body)
		}
		defer s.Close()
	}
	const tries = 3
	for range tries {
		_, r := crowd.Open(t, tc, "")
		wantError(t, r, http.StatusTooManyRequests, "rate_limited", "too many open event streams from this address (at most 2)", true)
	}
	spoofed := &gatewaytest.Client{Base: crowd.Base, HTTP: &http.Client{Transport: forwardedFor{crowd.HTTP.Transport, "203.0.113.9"}}}
	_, r := spoofed.Open(t, tc, "")
	wantError(t, r, http.StatusTooManyRequests, "rate_limited", "from this address", true)
	// Another address is not affected.
	s, r := other.Open(t, tc, "")
	if s == nil {
		t.Fatalf("stream from another address: %d %s", r.Status, r.Body)
	}
	defer s.Close()
	if n := logs.Count("limit=max-streams-per-ip"); n != 1 {
		t.Errorf("max-streams-per-ip logged %d times for %d refusals, want once", n, tries+1)
	}
	wantHits(t, e, "max-streams-per-ip", tries+1)
}

func TestIntegrationLimitStreams(t *testing.T) {
	t.Parallel()
	e, logs := limitGateway(t, func(c *gateway.Config) {
		c.Limits.MaxStreamsPerUser = 2
		c.Limits.MaxStreams = 3
	})
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tb := e.Login(t, a.Name, a.Password), e.Login(t, b.Name, b.Password)
	first, _ := e.Open(t, ta, "")
	if first == nil {
		t.Fatal("first stream of a refused")
	}
	if s, r := e.Open(t, ta, ""); s == nil {
		t.Fatalf("second stream of a: %d %s", r.Status, r.Body)
	}
	const tries = 10
	for range tries {
		_, r := e.Open(t, ta, "")
		wantError(t, r, http.StatusTooManyRequests, "rate_limited", "too many open event streams for this user (at most 2)", true)
	}
	if s, r := e.Open(t, tb, ""); s == nil {
		t.Fatalf("first stream of b: %d %s", r.Status, r.Body)
	}
	for range tries {
		_, r := e.Open(t, tb, "")
		wantError(t, r, http.StatusServiceUnavailable, "over_capacity", "as many event streams as it may (3)", true)
	}
	if n := logs.Count("limit=max-streams-per-user"); n != 1 {
		t.Errorf("max-streams-per-user logged %d times for %d refusals, want once", n, tries)
	}
	if n := logs.Count("limit=max-streams "); n != 1 {
		t.Errorf("max-streams logged %d times for %d refusals, want once", n, tries)
	}
	if logs.Count("request failed") != 0 {
		t.Error("a refusal was also logged as a failure")
	}
	wantHits(t, e, "max-streams-per-user", tries)
	wantHits(t, e, "max-streams", tries)

	// A closed stream frees its place (once the gateway has seen it go).
	first.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, r := e.Open(t, tb, "")
		if s != nil {
			break
		}
		if r.Status != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("after a close: %d %s", r.Status, r.Body)
		}
		time.Sleep(50 * time.Millisecond) // bounded poll for the server side to notice the close
	}
}

func TestIntegrationLimitSessions(t *testing.T) {
	t.Parallel()
	e, logs := limitGateway(t, func(c *gateway.Config) { c.Sessions.MaxSessions = 1 })
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	e.Login(t, a.Name, a.Password)
	const tries = 5
	for range tries {
		r := e.Do(t, http.MethodPost, api+"/login/"+b.Name, "", "text/plain", b.Password)
		wantError(t, r, http.StatusServiceUnavailable, "over_capacity", "as many XMPP sessions", true)
	}
	if n := logs.Count("limit=max-sessions"); n != 1 || logs.Count("request failed") != 0 {
		t.Errorf("max-sessions logged %d times for %d refusals (want once), or as a failure", n, tries)
	}
	wantHits(t, e, "max-sessions", tries)
}

func TestIntegrationLimitBody(t *testing.T) {
	t.Parallel()
	e, logs := limitGateway(t, func(c *gateway.Config) { c.Limits.MaxBody = 64 << 10 })
	u := ejabberdtest.NewUser(t)
	tok := e.Login(t, u.Name, u.Password)
	const tries = 5
	for range tries {
		r := e.Do(t, http.MethodPost, api+"/roster", tok, "application/json", `{"jid":"`+strings.Repeat("x", 70<<10)+`"}`)
		wantError(t, r, http.StatusRequestEntityTooLarge, "payload_too_large", "larger than the limit of 64 KiB", false)
	}
	// Chunked: no Content-Length, cut off while the validator reads it.
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.Base+api+"/roster",
		io.MultiReader(strings.NewReader(`{"jid":"`), strings.NewReader(strings.Repeat("x", 70<<10)+`"}`)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	wantError(t, gatewaytest.Response{Status: resp.StatusCode, Header: resp.Header, Body: body},
		http.StatusRequestEntityTooLarge, "payload_too_large", "64 KiB", false)
	if n := logs.Count("limit=max-body"); n != 1 {
		t.Errorf("max-body logged %d times for %d refusals, want once", n, tries+1)
	}
	wantHits(t, e, "max-body", tries+1)
}

// TestIntegrationLimitRequestTimeout: an IQ to a client that never answers
// waits on the request's context, and the time limit ends it with a 504.
func TestIntegrationLimitRequestTimeout(t *testing.T) {
	t.Parallel()
	e, logs := limitGateway(t, func(c *gateway.Config) { c.Limits.RequestTimeout = 3 * time.Second })
	u, peer := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	tok := e.Login(t, u.Name, u.Password)
	srv := ejabberdtest.Shared(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	// The peer takes every IQ into its queue and never answers.
	mute, err := xmppconn.Dial(ctx, xmppconn.Config{Addr: srv.C2SAddr(), Domain: srv.Domain(), TLS: xmppconn.TLSOff,
		User: peer.Name, Password: peer.Password, Resource: "mute",
		DeliverIQ: func(string, xml.Name) bool { return true }})
	if err != nil {
		t.Fatal(err)
	}
	defer mute.Close(context.Background())

	const tries = 3
	var wg sync.WaitGroup
	results := make([]gatewaytest.Response, tries)
	start := time.Now()
	for i := range tries {
		wg.Go(func() {
			iq := fmt.Sprintf(`<iq type="get" id="t%d" to="%s/mute"><query xmlns="jabber:iq:version"/></iq>`, i, peer.JID)
			results[i] = e.Do(t, http.MethodPost, api+"/xmpp", tok, "text/plain", iq)
		})
	}
	wg.Wait()
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("answers took %v: the time limit did not cut the waits", d)
	}
	for _, r := range results {
		wantError(t, r, http.StatusGatewayTimeout, "timeout", "longer than the limit of 3s", false)
	}
	if n := logs.Count("limit=request-timeout"); n != 1 || logs.Count("request failed") != 0 {
		t.Errorf("request-timeout logged %d times for %d timeouts (want once), or as a failure", n, tries)
	}
	wantHits(t, e, "request-timeout", tries)
}
