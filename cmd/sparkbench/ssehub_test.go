package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/sse"
)

// newTestHub serves an sse.Hub as serveHub does, in the test's process.
func newTestHub(t *testing.T) *httptest.Server {
	t.Helper()
	hub, err := sse.New(sse.Config{Logger: slog.New(slog.DiscardHandler), Heartbeat: -1})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(hubHandler(hub))
	t.Cleanup(func() { hub.EndStreams(); ts.Close(); _ = hub.Close() })
	return ts
}

// TestHarnessOnHub runs the peers scenario's harness (idle and fan-out,
// then throughput) against the hub alone, in process: every post reaches
// every stream once, and the figures are filled in.
func TestHarnessOnHub(t *testing.T) {
	ts := newTestHub(t)
	b := &bench{}
	defer b.clients.closeIdle()
	tg := b.hubTarget(ts.URL, os.Getpid())
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	const streams, posts = 20, 10
	run, err := idleFanout(ctx, tg, streams, posts, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(run.last) != posts || len(run.first) != posts || run.lost != 0 || run.dups != 0 {
		t.Errorf("idleFanout: %d last, %d first, %d lost, %d dups; want %d, %d, 0, 0", len(run.last), len(run.first), run.lost, run.dups, posts, posts)
	}
	for k := range run.last {
		if run.first[k] > run.last[k] || run.last[k] <= 0 {
			t.Errorf("post %d: first %v, last %v", k, run.first[k], run.last[k])
		}
	}

	rr, err := rate(ctx, tg, 5, 2, 300*time.Millisecond, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if rr.deliveredPerSec <= 0 || rr.publishesPerSec <= 0 || rr.perCPUSec <= 0 || len(rr.latency) == 0 {
		t.Errorf("rate: %+v (latency samples %d), want every figure positive", rr, len(rr.latency))
	}
	if rr.lost != 0 || rr.dups != 0 {
		t.Errorf("rate: %d lost, %d dups, want 0, 0", rr.lost, rr.dups)
	}
	if n := tg.ended.Load(); n != 0 {
		t.Errorf("%d streams ended by the hub, want 0", n)
	}
}

func TestHubHandlerBadRequests(t *testing.T) {
	ts := newTestHub(t)
	for _, c := range []struct{ method, path, body string }{
		{http.MethodGet, "/sse", ""},
		{http.MethodPost, "/publish?user=u", ""},
		{http.MethodPost, "/publish", "x"},
	} {
		req, err := http.NewRequest(c.method, ts.URL+c.path, strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s %s with %q: %d, want 400", c.method, c.path, c.body, resp.StatusCode)
		}
	}
}
