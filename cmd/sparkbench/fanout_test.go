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

// TestBodies: the readers' cheap body extraction finds the bench's own
// bodies and refuses what it cannot read without a JSON decoder.
func TestBodies(t *testing.T) {
	for _, tt := range []struct {
		ev   ssetest.Event
		room bool
		want string
		ok   bool
	}{
		{ssetest.Event{Name: "chatapi.muc", Data: `{"type":"groupchat","from":"r@c/x","body":"fo 12","id":"a"}`}, true, "fo 12", true},
		{ssetest.Event{Name: "chatapi.muc", Data: `{"type":"groupchat","body":"fo 1","stamp":"2026-01-01T00:00:00Z"}`}, true, "", false}, // history
		{ssetest.Event{Name: "chatapi.muc", Data: `{"type":"invitation","body":"fo 1"}`}, true, "", false},
		{ssetest.Event{Name: "chatapi.xmpp", Data: `{"xmpp":"PG1lc3NhZ2U+"}`}, true, "", false},
		{ssetest.Event{Name: "chatapi.chat", Data: `{"type":"headline","body":"tab 7"}`}, false, "tab 7", true},
		{ssetest.Event{Name: "chatapi.chat", Data: `{"type":"chat","body":"tab 8","sent":true}`}, false, "tab 8", true},
		{ssetest.Event{Name: "chatapi.chat", Data: `{"type":"chat","body":"a \"quote\""}`}, false, "", false},
		{ssetest.Event{Name: "chatapi.chat", Data: `{"type":"chat"}`}, false, "", false},
	} {
		get := tabBody
		if tt.room {
			get = roomBody
		}
		if got, ok := get(tt.ev); got != tt.want || ok != tt.ok {
			t.Errorf("%s %s = %q, %v; want %q, %v", tt.ev.Name, tt.ev.Data, got, ok, tt.want, tt.ok)
		}
	}
}
