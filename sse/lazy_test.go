package sse_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sparkgate/sparkgate/sse"
)

// TestLazyEvents: an event named in Config.Lazy does not wake a stream;
// it goes out with the stream's next write, before what follows it, or
// LazyDelay after the first lazy event still waiting. The flushes count
// the stream's writes.
func TestLazyEvents(t *testing.T) {
	const delay = 100 * time.Millisecond
	type step struct {
		publish string        // an event name to publish ("" for none)
		sleep   time.Duration // then how long to let pass
		want    []string      // every event written so far, the hello first
		flushes int           // writes so far, the hello's included
	}
	hello := "onConnect"
	cases := []struct {
		name  string
		steps []step
	}{{
		name: "a lazy event goes with the next one",
		steps: []step{
			{publish: "count", sleep: delay / 2, want: []string{hello}, flushes: 1},
			{publish: "chat", want: []string{hello, "count", "chat"}, flushes: 2},
			{sleep: 2 * delay, want: []string{hello, "count", "chat"}, flushes: 2}, // the timer was stopped
		},
	}, {
		name: "a lazy event alone waits LazyDelay",
		steps: []step{
			{publish: "count", sleep: delay - time.Millisecond, want: []string{hello}, flushes: 1},
			{sleep: time.Millisecond, want: []string{hello, "count"}, flushes: 2},
		},
	}, {
		name: "lazy events wait for the first one's delay, not the last one's",
		steps: []step{
			{publish: "count", sleep: delay / 2, want: []string{hello}, flushes: 1},
			{publish: "count", sleep: delay / 2, want: []string{hello, "count", "count"}, flushes: 2},
			{publish: "count", sleep: delay - time.Millisecond, want: []string{hello, "count", "count"}, flushes: 2},
			{sleep: time.Millisecond, want: []string{hello, "count", "count", "count"}, flushes: 3},
		},
	}, {
		// The raw XML of a stanza comes before its translation: written
		// at once, it took the waiting count with it, and the message,
		// a moment later, found the stream had just written.
		name: "an event the stream leaves out waits like a lazy one",
		steps: []step{
			{publish: "count", want: []string{hello}, flushes: 1},
			{publish: "raw", want: []string{hello}, flushes: 1},
			{publish: "chat", want: []string{hello, "count", "chat"}, flushes: 2},
			{publish: "raw", sleep: delay - time.Millisecond, want: []string{hello, "count", "chat"}, flushes: 2},
			{sleep: time.Millisecond, want: []string{hello, "count", "chat"}, flushes: 2}, // moved past it, nothing to write
		},
	}, {
		name: "other events wake the stream at once",
		steps: []step{
			{publish: "chat", want: []string{hello, "chat"}, flushes: 2},
			{publish: "chat", want: []string{hello, "chat", "chat"}, flushes: 3},
		},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctestTest(t, func(t *testing.T) {
				h, rec, stop := hubStream(t, sse.Config{Lazy: []string{"count"}, LazyDelay: delay, Heartbeat: -1}, "raw")
				defer stop()
				for i, s := range tc.steps {
					if s.publish != "" {
						h.Publish("alice", s.publish, payload(i))
					}
					synctestWait()
					time.Sleep(s.sleep)
					synctestWait()
					if diff := cmp.Diff(s.want, names(rec.events(t))); diff != "" {
						t.Fatalf("step %d: events (-want +got):\n%s", i, diff)
					}
					rec.mu.Lock()
					flushes := rec.flushes
					rec.mu.Unlock()
					if flushes != s.flushes {
						t.Fatalf("step %d: %d writes, want %d", i, flushes, s.flushes)
					}
				}
			})
		})
	}
}

// TestLazyEventsMixedTabs: a user has a tab that asked for an event (the
// raw XML) and one that leaves it out. The event wakes the first only; the
// second writes its waiting lazy count with its next event, not alone.
func TestLazyEventsMixedTabs(t *testing.T) {
	synctestTest(t, func(t *testing.T) {
		const delay = 100 * time.Millisecond
		h, err := sse.New(sse.Config{Lazy: []string{"count"}, LazyDelay: delay, Heartbeat: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		plain, raw := newRecorder(), newRecorder()
		stopPlain := serve(h, plain, "alice", "", "raw")
		defer stopPlain()
		stopRaw := serve(h, raw, "alice", "")
		defer stopRaw()
		synctestWait()
		check := func(step string, rec *recorder, want []string, flushes int) {
			t.Helper()
			if diff := cmp.Diff(want, names(rec.events(t))); diff != "" {
				t.Fatalf("%s: events (-want +got):\n%s", step, diff)
			}
			rec.mu.Lock()
			got := rec.flushes
			rec.mu.Unlock()
			if got != flushes {
				t.Fatalf("%s: %d writes, want %d", step, got, flushes)
			}
		}
		h.Publish("alice", "count", payload(0))
		synctestWait()
		h.Publish("alice", "raw", payload(1))
		synctestWait()
		check("raw, the plain tab", plain, []string{"onConnect"}, 1)
		check("raw, the raw tab", raw, []string{"onConnect", "count", "raw"}, 2)
		h.Publish("alice", "chat", payload(2))
		synctestWait()
		check("chat, the plain tab", plain, []string{"onConnect", "count", "chat"}, 2)
		check("chat, the raw tab", raw, []string{"onConnect", "count", "raw", "chat"}, 3)
		time.Sleep(2 * delay)
		synctestWait()
		check("after the delay, the plain tab", plain, []string{"onConnect", "count", "chat"}, 2)
	})
}

// TestLazyEventsParked: on a connection the hub took over (park.go), a
// lazy event also waits for the next event or its delay, and ids stay in
// log order.
func TestLazyEventsParked(t *testing.T) {
	s := newServer(t, sse.Config{Lazy: []string{"count"}, LazyDelay: 50 * time.Millisecond})
	st := s.open(t, "alice", "")
	st.expect(t, "onConnect", `{"username":"alice"}`)

	s.hub.Publish("alice", "count", []byte("1"))
	s.hub.Publish("alice", "chat", []byte("2"))
	if ev := st.expect(t, "count", "1"); ev.ID == "" {
		t.Errorf("lazy event without an id")
	}
	st.expect(t, "chat", "2")

	start := time.Now()
	s.hub.Publish("alice", "count", []byte("3"))
	st.expect(t, "count", "3")
	if waited := time.Since(start); waited < 50*time.Millisecond {
		t.Errorf("a lazy event alone came after %v, before its delay", waited)
	}
}

func TestLazyDelayNegative(t *testing.T) {
	if _, err := sse.New(sse.Config{LazyDelay: -time.Second}); err == nil {
		t.Error("New accepted a negative LazyDelay")
	}
}
