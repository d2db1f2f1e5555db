package sse_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/sse"
	"github.com/sparkgate/sparkgate/sse/ssetest"
)

// TestEndCause: a stream whose request context ends with an *sse.End cause
// gets a last close event with its reason, then EOF.
func TestEndCause(t *testing.T) {
	hub, err := sse.New(sse.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithDeadlineCause(r.Context(), time.Now().Add(200*time.Millisecond), &sse.End{Reason: "expired"})
		defer cancel()
		hub.ServeStream(w, r.WithContext(ctx), "alice", sse.Event{Name: "hello", Data: []byte("{}")})
	}))
	defer ts.Close()
	resp, err := http.Get(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	evs, err := ssetest.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].Name != "hello" || evs[1].Name != "chatapi.close" {
		t.Fatalf("events %+v, want hello then chatapi.close", evs)
	}
	var c struct {
		Reason string `json:"reason"`
		Resume bool   `json:"resume"`
	}
	if err := json.Unmarshal([]byte(evs[1].Data), &c); err != nil || c.Reason != "expired" || c.Resume {
		t.Fatalf("close event %q: %+v %v", evs[1].Data, c, err)
	}
}
