package sse_test

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/sparkgate/sparkgate/sse"
)

// TestBatchesFromPublishers: four publishers publish bursts to one user
// at once while three tabs read, so that the tabs write events published
// while they yielded in the same batch (stream.go, writeWoken). Every tab
// gets the same sequence — the order in which the log took the events —
// with ids counting from 1 without a gap in one log, and each publisher's
// events in the order it published them.
func TestBatchesFromPublishers(t *testing.T) {
	const publishers, each = 4, 2000
	const n = publishers * each
	s := newServer(t, sse.Config{QueueEvents: n, LogEvents: n, LogBytes: 64 << 20})
	var tabs []*stream
	for range 3 {
		st := s.open(t, "alice", "")
		st.expect(t, "onConnect", `{"username":"alice"}`)
		tabs = append(tabs, st)
	}

	got := make([][]string, len(tabs)) // each tab's data, in arrival order
	var readers sync.WaitGroup
	for k, st := range tabs {
		readers.Go(func() {
			gen := ""
			for i := range n {
				ev, err := st.Next()
				if err != nil {
					t.Errorf("tab %d, event %d: %v", k, i, err)
					return
				}
				g, seq, ok := strings.Cut(ev.ID, "-")
				if gen == "" {
					gen = g
				}
				if !ok || g != gen || seq != strconv.Itoa(i+1) {
					t.Errorf("tab %d, event %d: id %q, want %s-%d", k, i, ev.ID, gen, i+1)
					return
				}
				got[k] = append(got[k], ev.Data)
			}
		})
	}
	var pubs sync.WaitGroup
	for p := range publishers {
		pubs.Go(func() {
			for i := range each {
				s.hub.Publish("alice", "chatapi.chat", fmt.Appendf(nil, "%d/%d", p, i))
			}
		})
	}
	pubs.Wait()
	readers.Wait()
	if t.Failed() {
		return
	}

	for k := range tabs {
		if strings.Join(got[k], " ") != strings.Join(got[0], " ") {
			t.Errorf("tab %d got another order than tab 0", k)
		}
	}
	next := make([]int, publishers) // each publisher's next event
	for i, d := range got[0] {
		var p, j int
		if _, err := fmt.Sscanf(d, "%d/%d", &p, &j); err != nil || p < 0 || p >= publishers {
			t.Fatalf("event %d = %q, no publisher's", i, d)
		}
		if j != next[p] {
			t.Fatalf("event %d = %q, want publisher %d's event %d", i, d, p, next[p])
		}
		next[p]++
	}
}
