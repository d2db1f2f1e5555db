package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/sse"
	"github.com/sparkgate/sparkgate/sse/ssetest"
)

// TestOpenResuming: a member's stream that the gateway keeps ending (here
// every 50 ms, max-age, resume true) reopens with its Last-Event-ID like
// the web client, and sees every event once, in order.
func TestOpenResuming(t *testing.T) {
	h, err := sse.New(sse.Config{MaxAge: 50 * time.Millisecond, Heartbeat: -1})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = h.ServeStream(w, r, "alice", sse.Event{Name: "onConnect", Data: []byte(`{}`)})
	}))
	defer ts.Close()
	defer h.Close()
	defer h.EndStreams()

	a := &api{base: ts.URL}
	var closes closeCounts
	got := make(chan string, 1000)
	s, err := a.openResuming(context.Background(), ts.Client(), "tok", &closes, func(ev ssetest.Event, _ time.Time) {
		if ev.Name == "e" {
			got <- ev.Data
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	const n = 100
	for i := range n {
		h.Publish("alice", "e", []byte(fmt.Sprint(i)))
		time.Sleep(5 * time.Millisecond) // spread over several stream lifetimes
	}
	timeout := time.After(30 * time.Second)
	for i := range n {
		select {
		case d := <-got:
			if d != fmt.Sprint(i) {
				t.Fatalf("event %d = %s: gap or duplicate (%s)", i, d, closes.String())
			}
		case <-timeout:
			t.Fatalf("only %d of %d events (%s)", i, n, closes.String())
		}
	}
	closes.mu.Lock()
	maxAge, resumes := closes.reasons[sse.ReasonMaxAge], closes.resumes
	closes.mu.Unlock()
	if c := closes.String(); maxAge == 0 || resumes == 0 {
		t.Errorf("closes: %s, want max-age closes and resumes", c)
	}
}
