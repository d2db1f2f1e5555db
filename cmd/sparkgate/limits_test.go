package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// startRun starts run against the shared ejabberd, with its data in data
// and the settings of extra, and waits until it listens. stop ends it and
// returns what run returned.
func startRun(t *testing.T, data string, extra map[string]string) (addr string, logs *syncBuffer, stop func() error) {
	t.Helper()
	srv := ejabberdtest.Shared(t)
	env := map[string]string{
		"SPARKGATE_LISTEN":      "127.0.0.1:0",
		"SPARKGATE_XMPP_ADDR":   srv.C2SAddr(),
		"SPARKGATE_XMPP_DOMAIN": srv.Domain(),
		"SPARKGATE_XMPP_TLS":    "off",
		"SPARKGATE_ADMIN_URL":   srv.AdminURL(),
		"SPARKGATE_DATA_DIR":    data,
	}
	maps.Copy(env, extra)
	ctx, cancel := context.WithCancel(t.Context())
	logs = &syncBuffer{}
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, envOf(env), logs, ready) }()
	stop = func() error {
		cancel()
		select {
		case err := <-done:
			done <- err // a second stop returns the same
			return err
		case <-time.After(40 * time.Second):
			return errors.New("run did not return after its context ended")
		}
	}
	select {
	case addr = <-ready:
		return addr, logs, stop
	case err := <-done:
		cancel()
		t.Fatalf("run ended early: %v\n%s", err, logs.String())
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatal("not listening after 60 s")
	}
	return "", nil, nil
}

func TestLoadConfigLimits(t *testing.T) {
	c, err := loadConfig(nil, envOf(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxBody != 512<<10 || c.MaxUserStreams != 100 || c.MaxIPStreams != 1000 || c.MaxStreams != 20000 ||
		c.RequestTimeout != 30*time.Second || c.ReadTimeout != time.Minute || c.IdleTimeout != 2*time.Minute {
		t.Fatalf("defaults: body %d, streams %d/%d, timeouts %v %v %v",
			c.MaxBody, c.MaxUserStreams, c.MaxStreams, c.RequestTimeout, c.ReadTimeout, c.IdleTimeout)
	}
	for in, want := range map[string]int64{"1MiB": 1 << 20, "2048": 2048, "64 KiB": 64 << 10, "4096B": 4096, "1GiB": 1 << 30} {
		c, err := loadConfig([]string{"-max-body", in}, envOf(nil), io.Discard)
		if err != nil || c.MaxBody != want {
			t.Errorf("-max-body %s: %v, %v; want %d", in, c, err, want)
		}
	}
	c, err = loadConfig(nil, envOf(map[string]string{"SPARKGATE_MAX_STREAMS_PER_USER": "0", "SPARKGATE_MAX_STREAMS_PER_IP": "0", "SPARKGATE_REQUEST_TIMEOUT": "0s"}), io.Discard)
	if err != nil || c.MaxUserStreams != 0 || c.MaxIPStreams != 0 || c.RequestTimeout != 0 {
		t.Fatalf("limits off: %v", err)
	}
	for _, bad := range []string{"10", "1.5MiB", "lots", "-1KiB", "KiB", "99999999999GiB"} {
		if _, err := loadConfig([]string{"-max-body", bad}, envOf(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "-max-body") {
			t.Errorf("-max-body %q accepted (err %v)", bad, err)
		}
	}
	if _, err := loadConfig([]string{"-max-streams", "-1"}, envOf(nil), io.Discard); err == nil {
		t.Error("-max-streams -1 accepted")
	}
	if writeTimeout(30*time.Second) != time.Minute || writeTimeout(2*time.Minute) != 130*time.Second {
		t.Error("writeTimeout does not leave room for the 504")
	}
}

// TestIntegrationRunStreamOutlivesTimeouts: with read, idle and request
// timeouts of a second, an event stream stays open and keeps getting its
// heartbeats well past them, while the server really applies them.
func TestIntegrationRunStreamOutlivesTimeouts(t *testing.T) {
	u := ejabberdtest.NewUser(t)
	addr, _, stop := startRun(t, t.TempDir(), map[string]string{
		"SPARKGATE_READ_TIMEOUT":    "1s",
		"SPARKGATE_IDLE_TIMEOUT":    "1s",
		"SPARKGATE_REQUEST_TIMEOUT": "1s",
		"SPARKGATE_HEARTBEAT":       "300ms",
	})
	defer stop()
	ctx := t.Context()
	base := "http://" + addr + "/sparkweb/api"
	// Login has 1 s: ample on an idle loopback, not always beside the
	// rest of make test (a 504 once); the session it opened stays, so a
	// second try is quick.
	var tok struct{ Token string }
	for try := 1; ; try++ {
		resp, err := http.Post(base+"/rest/login/"+u.Name, "text/plain", strings.NewReader(u.Password))
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&tok)
		resp.Body.Close()
		if resp.StatusCode == http.StatusGatewayTimeout && try < 5 {
			continue
		}
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("login: %d %v", resp.StatusCode, err)
		}
		break
	}

	sctx, scancel := context.WithCancel(ctx)
	defer scancel()
	req, _ := http.NewRequestWithContext(sctx, http.MethodGet, base+"/sse?token="+url.QueryEscape(tok.Token), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stream: %d", resp.StatusCode)
	}
	opened := time.Now()
	lines := bufio.NewScanner(resp.Body)
	beats := 0
	for time.Since(opened) < 3500*time.Millisecond {
		if !lines.Scan() {
			t.Fatalf("the stream ended after %v (%d heartbeats): %v", time.Since(opened), beats, lines.Err())
		}
		if strings.HasPrefix(lines.Text(), ":") {
			beats++
		}
	}
	if beats < 5 {
		t.Fatalf("%d heartbeats in 3.5 s", beats)
	}

	// The read timeout does apply to a request: a body that stalls is cut.
	pr, pw := io.Pipe()
	defer pw.Close()
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, base+"/rest/chat/message/"+u.Name, pr)
	req.Header.Set("Authorization", tok.Token)
	req.Header.Set("Content-Type", "text/plain")
	go func() { _, _ = pw.Write([]byte("hel")) }() // and then nothing
	start := time.Now()
	resp2, err := http.DefaultClient.Do(req)
	if err == nil {
		resp2.Body.Close()
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("a stalled body was held for %v", d)
	}
}

func TestTrustedProxiesSetting(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want: the prefixes joined by spaces, or "error"
	}{
		{"", ""},
		{"127.0.0.1", "127.0.0.1/32"},
		{" 10.0.0.0/8 , ::1 ", "10.0.0.0/8 ::1/128"},
		{"10.1.2.3/8", "10.0.0.0/8"},
		{"::ffff:192.0.2.1", "192.0.2.1/32"},
		{"proxy.example", "error"},
		{"10.0.0.0/33", "error"},
		{"fe80::1%eth0", "error"},
	} {
		c := config{TrustedProxies: tc.in}
		ps, err := c.trustedProxies()
		got := "error"
		if err == nil {
			var parts []string
			for _, p := range ps {
				parts = append(parts, p.String())
			}
			got = strings.Join(parts, " ")
		}
		if got != tc.want {
			t.Errorf("trusted-proxies %q = %q (%v), want %q", tc.in, got, err, tc.want)
		}
	}
}

// TestIntegrationRunTrustedProxy: behind a trusted proxy (the test's own
// loopback address), the login rate limit counts each client address the
// proxy forwards on its own, not all of them as the proxy's.
func TestIntegrationRunTrustedProxy(t *testing.T) {
	u := ejabberdtest.NewUser(t)
	addr, _, stop := startRun(t, t.TempDir(), map[string]string{
		"SPARKGATE_TRUSTED_PROXIES":   "127.0.0.1",
		"SPARKGATE_LOGIN_IP_BURST":    "2",
		"SPARKGATE_LOGIN_IP_INTERVAL": "1h",
	})
	defer stop()
	login := func(client string) int {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+addr+"/sparkweb/api/rest/login/"+u.Name, strings.NewReader(u.Password))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "text/plain")
		req.Header.Set("X-Forwarded-For", client)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	for i, want := range []int{200, 200, 429} {
		if got := login("203.0.113.1"); got != want {
			t.Fatalf("login %d from 203.0.113.1: %d, want %d", i+1, got, want)
		}
	}
	if got := login("203.0.113.2"); got != 200 {
		t.Fatalf("login from another client behind the proxy: %d, want 200", got)
	}
	// A client that names itself left of the address the proxy appended
	// is still counted by the latter.
	if got := login("203.0.113.2, 203.0.113.1"); got != 429 {
		t.Fatalf("login naming another address first: %d, want 429", got)
	}
}
