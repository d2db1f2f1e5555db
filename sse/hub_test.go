package sse_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sparkgate/sparkgate/sse"
	"github.com/sparkgate/sparkgate/sse/ssetest"
)

func TestNewConfig(t *testing.T) {
	for i, cfg := range []sse.Config{
		{LogEvents: -1},
		{QueueEvents: -1},
		{MaxAgeJitter: 1},
		{MaxAgeJitter: -0.1},
		{WriteTimeout: -time.Second},
	} {
		if _, err := sse.New(cfg); !errors.Is(err, sse.ErrInvalidConfig) {
			t.Errorf("%d: New(%+v) = %v, want ErrInvalidConfig", i, cfg, err)
		}
	}
}

func TestStreamHeaders(t *testing.T) {
	s := newServer(t, sse.Config{})
	st := s.open(t, "alice", "")
	for k, want := range map[string]string{
		"Content-Type":      "text/event-stream",
		"Cache-Control":     "no-store",
		"X-Accel-Buffering": "no",
	} {
		if got := st.resp.Header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	st.expect(t, "onConnect", `{"username":"alice"}`)
	if st.Retry != 3000 {
		t.Errorf("retry = %d, want 3000", st.Retry)
	}
	if got := s.hub.Streams("alice"); got != 1 {
		t.Errorf("Streams(alice) = %d, want 1", got)
	}
	if got := s.hub.Publish("alice", "chatapi.chat", []byte(`{"body":"hi"}`)); got != 1 {
		t.Errorf("Publish = %d, want 1", got)
	}
	ev := st.expect(t, "chatapi.chat", `{"body":"hi"}`)
	if !strings.HasSuffix(ev.ID, "-1") {
		t.Errorf("first event id = %q, want it to end in -1", ev.ID)
	}
}

// TestPublishOrder publishes 10,000 events to three tabs of one user and
// checks each receives every event once, in order.
func TestPublishOrder(t *testing.T) {
	const n = 10000
	s := newServer(t, sse.Config{QueueEvents: n, LogEvents: n})
	var tabs []*stream
	for range 3 {
		st := s.open(t, "alice", "")
		st.expect(t, "onConnect", `{"username":"alice"}`)
		tabs = append(tabs, st)
	}
	other := s.open(t, "bob", "")
	other.expect(t, "onConnect", `{"username":"bob"}`)

	var wg sync.WaitGroup
	for _, st := range tabs {
		wg.Go(func() {
			prev := ""
			for i := range n {
				ev, err := st.Next()
				if err != nil {
					t.Errorf("event %d: %v", i, err)
					return
				}
				if ev.Data != string(payload(i)) || ev.Name != "chatapi.chat" {
					t.Errorf("event %d = %q %q, want chatapi.chat %q", i, ev.Name, ev.Data, payload(i))
					return
				}
				if ev.ID == prev {
					t.Errorf("event %d repeats id %q", i, ev.ID)
					return
				}
				prev = ev.ID
			}
		})
	}
	for i := range n {
		if got := s.hub.Publish("alice", "chatapi.chat", payload(i)); got != 3 {
			t.Fatalf("Publish(%d) = %d, want 3", i, got)
		}
	}
	wg.Wait()
	s.hub.Publish("bob", "chatapi.chat", []byte("b"))
	other.expect(t, "chatapi.chat", "b")
}

// TestResumeWhilePublishing drops and resumes a stream with Last-Event-ID
// while another goroutine publishes, and checks that the events received
// over all connections are exactly the published ones, in order.
func TestResumeWhilePublishing(t *testing.T) {
	const n = 5000
	s := newServer(t, sse.Config{LogEvents: n})
	first := s.open(t, "alice", "")
	first.expect(t, "onConnect", `{"username":"alice"}`)

	published := make(chan struct{})
	go func() {
		defer close(published)
		for i := range n {
			s.hub.Publish("alice", "chatapi.chat", payload(i))
		}
	}()

	st, got, lastID, conns := first, 0, "", 1
	for got < n {
		ev, err := st.Next()
		if err != nil {
			t.Fatalf("after %d events: %v", got, err)
		}
		switch ev.Name {
		case "chatapi.close": // the publisher outran us; resume like a browser
			st.close()
			st = s.open(t, "alice", lastID)
			conns++
			continue
		case "onConnect":
			continue
		case "chatapi.chat":
		default:
			t.Fatalf("unexpected event %+v", ev)
		}
		if ev.Data != string(payload(got)) {
			t.Fatalf("event %d has data %q (id %q): gap or duplicate", got, ev.Data, ev.ID)
		}
		got++
		lastID = ev.ID
		if got%700 == 0 { // drop the connection and resume
			st.close()
			st = s.open(t, "alice", lastID)
			conns++
		}
	}
	<-published
	t.Logf("%d events over %d connections", got, conns)
}

func TestResume(t *testing.T) {
	s := newServer(t, sse.Config{LogEvents: 4})
	for i := range 3 {
		if got := s.hub.Publish("alice", "chatapi.chat", payload(i)); got != 0 {
			t.Fatalf("Publish without streams = %d, want 0", got)
		}
	}

	// The first stream gets what no stream has seen (offline messages).
	st := s.open(t, "alice", "")
	st.expect(t, "onConnect", `{"username":"alice"}`)
	st.expect(t, "chatapi.chat", "0")
	st.expect(t, "chatapi.chat", "1")
	id2 := st.expect(t, "chatapi.chat", "2").ID
	gen := strings.TrimSuffix(id2, "-3")

	// A second tab does not get them again.
	tab := s.open(t, "alice", "")
	tab.expect(t, "onConnect", `{"username":"alice"}`)
	s.hub.Publish("alice", "chatapi.chat", payload(3))
	tab.expect(t, "chatapi.chat", "3")
	st.expect(t, "chatapi.chat", "3")
	tab.close()
	st.close()
	s.waitNoStreams(t, "alice")

	for i := 4; i < 8; i++ {
		s.hub.Publish("alice", "chatapi.chat", payload(i))
	}
	// The log keeps events 5..8 (ids gen-5..gen-8, data "4".."7").
	t.Run("in-range", func(t *testing.T) {
		st := s.open(t, "alice", gen+"-5")
		st.expect(t, "onConnect", `{"username":"alice"}`)
		st.expect(t, "chatapi.chat", "5")
		st.expect(t, "chatapi.chat", "6")
		if ev := st.expect(t, "chatapi.chat", "7"); ev.ID != gen+"-8" {
			t.Errorf("id = %q, want %q", ev.ID, gen+"-8")
		}
	})
	t.Run("oldest-kept-boundary", func(t *testing.T) {
		s.waitNoStreams(t, "alice")        // the last subtest's stream
		st := s.open(t, "alice", gen+"-4") // event 5 is the oldest kept: no gap
		st.expect(t, "onConnect", `{"username":"alice"}`)
		st.expect(t, "chatapi.chat", "4")
	})
	t.Run("up-to-date", func(t *testing.T) {
		s.waitNoStreams(t, "alice") // the last subtest's stream
		st := s.open(t, "alice", gen+"-8")
		st.expect(t, "onConnect", `{"username":"alice"}`)
		s.hub.Publish("alice", "chatapi.chat", payload(8)) // the next event is the live one
		if ev := st.expect(t, "chatapi.chat", "8"); ev.ID != gen+"-9" {
			t.Errorf("id = %q, want %q", ev.ID, gen+"-9")
		}
	})
	t.Run("last-event-id-too-old", func(t *testing.T) {
		s.waitNoStreams(t, "alice") // the last subtest's stream
		st := s.open(t, "alice", gen+"-3")
		st.expect(t, "onConnect", `{"username":"alice"}`)
		ev := st.expect(t, "chatapi.reset", `{"reason":"expired","lastEventId":"`+gen+`-3"}`)
		if ev.ID != gen+"-9" {
			t.Errorf("reset id = %q, want the newest id %q", ev.ID, gen+"-9")
		}
		s.hub.Publish("alice", "chatapi.chat", payload(9))
		st.expect(t, "chatapi.chat", "9")
	})
	for _, tt := range []struct{ name, id, data string }{
		{"other-log", "12-3", `{"reason":"unknown","lastEventId":"12-3"}`},
		{"future", gen + "-999", `{"reason":"unknown","lastEventId":"` + gen + `-999"}`},
		{"malformed", "a0f3c2e4-5b6d", `{"reason":"unknown"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := s.open(t, "alice", tt.id)
			st.expect(t, "onConnect", `{"username":"alice"}`)
			if ev := st.expect(t, "chatapi.reset", tt.data); ev.ID != gen+"-10" {
				t.Errorf("reset id = %q, want %q", ev.ID, gen+"-10")
			}
		})
	}
	t.Run("query-parameter", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		req, _ := http.NewRequestWithContext(ctx, "GET", s.ts.URL+"/sse?user=alice&lastEventId="+gen+"-9", nil)
		st := s.do(t, req, cancel)
		st.expect(t, "onConnect", `{"username":"alice"}`)
		st.expect(t, "chatapi.chat", "9")
	})
	t.Run("forgotten", func(t *testing.T) {
		s.hub.Forget("alice")
		s.hub.Publish("alice", "chatapi.chat", []byte("new"))
		st := s.open(t, "alice", gen+"-10")
		st.expect(t, "onConnect", `{"username":"alice"}`)
		ev := st.expect(t, "chatapi.reset", `{"reason":"unknown","lastEventId":"`+gen+`-10"}`)
		newGen, _, _ := strings.Cut(ev.ID, "-")
		a, _ := strconv.ParseUint(gen, 10, 64)
		b, _ := strconv.ParseUint(newGen, 10, 64)
		if b <= a || ev.ID != newGen+"-0" {
			t.Errorf("reset id after Forget = %q, want a newer log than %q, before its first event", ev.ID, gen)
		}
		// The new log's event no stream had yet follows the reset.
		if ev := st.expect(t, "chatapi.chat", "new"); ev.ID != newGen+"-1" {
			t.Errorf("replayed id = %q, want %q", ev.ID, newGen+"-1")
		}
	})
}

func TestLogAge(t *testing.T) {
	// Inside a bubble, time only moves when every goroutine is blocked.
	synctestTest(t, func(t *testing.T) {
		h, err := sse.New(sse.Config{LogAge: time.Minute, Heartbeat: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		rec := newRecorder()
		stop := serve(h, rec, "alice", "")
		synctestWait()
		h.Publish("alice", "a", []byte("1"))
		synctestWait()
		id := rec.events(t)[1].ID
		stop()

		time.Sleep(59 * time.Second)
		rec = newRecorder()
		stop = serve(h, rec, "alice", strings.TrimSuffix(id, "1")+"0")
		synctestWait()
		stop()
		if diff := cmp.Diff([]string{"onConnect", "a"}, names(rec.events(t))); diff != "" {
			t.Errorf("within LogAge (-want +got):\n%s", diff)
		}

		time.Sleep(2 * time.Second)
		rec = newRecorder()
		stop = serve(h, rec, "alice", strings.TrimSuffix(id, "1")+"0")
		synctestWait()
		stop()
		if diff := cmp.Diff([]string{"onConnect", "chatapi.reset"}, names(rec.events(t))); diff != "" {
			t.Errorf("after LogAge (-want +got):\n%s", diff)
		}
	})
}

// TestSlowStream has one tab that never reads and one that does: the first
// is ended, the second receives everything.
func TestSlowStream(t *testing.T) {
	s := newServer(t, sse.Config{QueueEvents: 8, WriteTimeout: 200 * time.Millisecond, LogEvents: 10})

	// A raw connection that sends the request and never reads.
	conn, err := net.Dial("tcp", s.ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /sse?user=alice HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	good := s.open(t, "alice", "")
	good.expect(t, "onConnect", `{"username":"alice"}`)
	for s.hub.Streams("alice") != 2 { // the raw request may still be on its way
		time.Sleep(time.Millisecond)
	}

	big := []byte(strings.Repeat("x", 64<<10))
	for i := 0; s.hub.Streams("alice") == 2; i++ {
		if i == 5000 {
			t.Fatal("the stalled stream was never ended")
		}
		data := append(strconv.AppendInt(nil, int64(i), 10), big...)
		s.hub.Publish("alice", "chatapi.chat", data)
		ev := good.next(t)
		if !strings.HasPrefix(ev.Data, strconv.Itoa(i)+"x") {
			t.Fatalf("good stream: event %d has data %.20q", i, ev.Data)
		}
	}
	if err := <-s.errs; !errors.Is(err, sse.ErrSlow) {
		t.Errorf("ServeStream of the stalled stream = %v, want ErrSlow", err)
	}
	s.hub.Publish("alice", "chatapi.chat", []byte("after"))
	good.expect(t, "chatapi.chat", "after")
}

// TestSlowStreamQueue ends a stream whose queue overflows, with a close
// event once it can be written.
func TestSlowStreamQueue(t *testing.T) {
	synctestTest(t, func(t *testing.T) {
		h, err := sse.New(sse.Config{QueueEvents: 3, WriteTimeout: 5 * time.Second, Heartbeat: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		slow, fast := newRecorder(), newRecorder()
		stopSlow := serve(h, slow, "alice", "")
		stopFast := serve(h, fast, "alice", "")
		synctestWait()
		slow.setStall(true)
		for i := range 5 { // the slow stream blocks writing 0, queues 1..3, overflows at 4
			want := 2
			if i == 4 {
				want = 1
			}
			if got := h.Publish("alice", "e", payload(i)); got != want {
				t.Errorf("Publish(%d) reached %d streams, want %d", i, got, want)
			}
			synctestWait()
		}
		if got := h.Publish("alice", "e", payload(5)); got != 1 {
			t.Errorf("Publish after overflow reached %d streams, want 1", got)
		}
		synctestWait()
		if diff := cmp.Diff([]string{"onConnect", "e", "e", "e", "e", "e", "e"}, names(fast.events(t))); diff != "" {
			t.Errorf("fast stream (-want +got):\n%s", diff)
		}
		time.Sleep(5 * time.Second) // the blocked write misses its deadline
		synctestWait()
		if got := h.Streams("alice"); got != 1 {
			t.Errorf("Streams after the slow one ended = %d, want 1", got)
		}
		if err := stopSlow(); !errors.Is(err, sse.ErrSlow) {
			t.Errorf("slow ServeStream = %v, want ErrSlow", err)
		}
		if err := stopFast(); err != nil {
			t.Errorf("fast ServeStream = %v", err)
		}
	})
}

// TestSlowStreamCloseEvent checks the close event a slow stream gets when
// its writes still go through.
func TestSlowStreamCloseEvent(t *testing.T) {
	synctestTest(t, func(t *testing.T) {
		h, err := sse.New(sse.Config{QueueEvents: 2, Heartbeat: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		rec := newRecorder()
		stop := serve(h, rec, "alice", "")
		synctestWait()
		// Far more than the queue holds: even if the stream's goroutine
		// gets to run between two publishes, the queue overflows.
		for i := range 200 {
			h.Publish("alice", "e", payload(i))
		}
		synctestWait()
		// Events queued before the overflow may or may not be written
		// first; the close event comes last.
		evs := rec.events(t)
		if len(evs) < 2 || evs[0].Name != "onConnect" || evs[len(evs)-1].Name != "chatapi.close" {
			t.Fatalf("events %v, want onConnect … chatapi.close", names(evs))
		}
		for i, ev := range evs[1 : len(evs)-1] {
			if ev.Data != string(payload(i)) {
				t.Errorf("event %d = %q, want %q", i, ev.Data, payload(i))
			}
		}
		if got, want := evs[len(evs)-1].Data, `{"reason":"slow","resume":true}`; got != want {
			t.Errorf("close data = %s, want %s", got, want)
		}
		if err := stop(); !errors.Is(err, sse.ErrSlow) {
			t.Errorf("ServeStream = %v, want ErrSlow", err)
		}
	})
}

func TestEndUser(t *testing.T) {
	s := newServer(t, sse.Config{})
	a1, a2, b := s.open(t, "alice", ""), s.open(t, "alice", ""), s.open(t, "bob", "")
	for _, st := range []*stream{a1, a2, b} {
		st.next(t)
	}
	s.hub.Publish("alice", "chatapi.chat", []byte("last"))
	if got := s.hub.EndUser("alice", "logout"); got != 2 {
		t.Errorf("EndUser = %d, want 2", got)
	}
	for _, st := range []*stream{a1, a2} {
		st.expect(t, "chatapi.chat", "last")
		st.expect(t, "chatapi.close", `{"reason":"logout","resume":false}`)
		st.expectEOF(t)
	}
	if got := s.hub.Streams("alice"); got != 0 {
		t.Errorf("Streams(alice) after EndUser = %d, want 0", got)
	}
	if got := s.hub.Publish("bob", "chatapi.chat", []byte("still here")); got != 1 {
		t.Errorf("Publish(bob) = %d, want 1", got)
	}
	b.expect(t, "chatapi.chat", "still here")
	if got := s.hub.EndUser("nobody", "logout"); got != 0 {
		t.Errorf("EndUser(nobody) = %d", got)
	}
	s.hub.Forget("bob")
	b.expect(t, "chatapi.close", `{"reason":"ended","resume":false}`)
	b.expectEOF(t)
}

// TestShutdown checks that http.Server.Shutdown returns while streams are
// open when EndStreams is registered with RegisterOnShutdown.
func TestShutdown(t *testing.T) {
	checkGoroutines(t)
	h, err := sse.New(sse.Config{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeStream(w, r, "alice", sse.Event{Name: "onConnect", Data: []byte("{}")})
		}),
		WriteTimeout: 300 * time.Millisecond, // ServeStream must clear it for its streams
	}
	srv.RegisterOnShutdown(h.EndStreams)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	var readers []*ssetest.Reader
	for range 3 {
		resp, err := client.Get("http://" + ln.Addr().String() + "/sse")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		r := ssetest.NewReader(resp.Body)
		if ev, err := r.Next(); err != nil || ev.Name != "onConnect" {
			t.Fatalf("first event %+v, %v", ev, err)
		}
		readers = append(readers, r)
	}
	time.Sleep(500 * time.Millisecond) // longer than the server's WriteTimeout
	h.Publish("alice", "chatapi.chat", []byte("late"))
	for _, r := range readers {
		if ev, err := r.Next(); err != nil || ev.Data != "late" {
			t.Fatalf("after WriteTimeout: %+v, %v", ev, err)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for _, r := range readers {
		ev, err := r.Next()
		if err != nil || ev.Name != "chatapi.close" || ev.Data != `{"reason":"shutdown","resume":true}` {
			t.Errorf("last event %+v, %v; want the shutdown close event", ev, err)
		}
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve = %v", err)
	}
}

func TestEndStreamsThenNewStream(t *testing.T) {
	synctestTest(t, func(t *testing.T) {
		h, err := sse.New(sse.Config{})
		if err != nil {
			t.Fatal(err)
		}
		h.EndStreams()
		rec := newRecorder()
		stop := serve(h, rec, "alice", "")
		synctestWait()
		if diff := cmp.Diff([]string{"onConnect", "chatapi.close"}, names(rec.events(t))); diff != "" {
			t.Errorf("stream after EndStreams (-want +got):\n%s", diff)
		}
		if err := stop(); err != nil {
			t.Errorf("ServeStream = %v", err)
		}
		h.Close()
	})
}

func TestClose(t *testing.T) {
	synctestTest(t, func(t *testing.T) {
		h, err := sse.New(sse.Config{})
		if err != nil {
			t.Fatal(err)
		}
		rec := newRecorder()
		stop := serve(h, rec, "alice", "")
		synctestWait()
		if h.Count() != 1 {
			t.Errorf("Count = %d, want 1", h.Count())
		}
		closed := make(chan struct{})
		go func() {
			h.Close()
			close(closed)
		}()
		<-closed // returns only once the stream's ServeStream has returned
		if h.Count() != 0 {
			t.Errorf("Count after Close = %d", h.Count())
		}
		if err := stop(); err != nil {
			t.Errorf("ServeStream = %v", err)
		}
		evs := rec.events(t)
		if diff := cmp.Diff([]string{"onConnect", "chatapi.close"}, names(evs)); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		if err := h.Close(); err != nil {
			t.Errorf("second Close = %v", err)
		}
		if got := h.Publish("alice", "x", nil); got != 0 {
			t.Errorf("Publish after Close = %d", got)
		}
		rec = newRecorder()
		if err := serve(h, rec, "alice", "")(); !errors.Is(err, sse.ErrClosed) {
			t.Errorf("ServeStream after Close = %v, want ErrClosed", err)
		}
		if rec.output() != "" || rec.code != 0 {
			t.Errorf("ServeStream after Close wrote %d %q", rec.code, rec.output())
		}
	})
}

func TestHeartbeat(t *testing.T) {
	synctestTest(t, func(t *testing.T) {
		h, err := sse.New(sse.Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		rec := newRecorder()
		stop := serve(h, rec, "alice", "")
		defer stop()

		time.Sleep(14 * time.Second)
		synctestWait()
		if n := strings.Count(rec.output(), "\n: ping\n"); n != 0 {
			t.Fatalf("heartbeat before 15 s: %q", rec.output())
		}
		time.Sleep(time.Second)
		synctestWait()
		if n := strings.Count(rec.output(), "\n: ping\n"); n != 1 {
			t.Fatalf("after 15 s: %d heartbeats, want 1: %q", n, rec.output())
		}
		time.Sleep(5 * time.Second)
		h.Publish("alice", "e", nil) // at 20 s: the next heartbeat moves to 35 s
		time.Sleep(14 * time.Second)
		synctestWait()
		if n := strings.Count(rec.output(), "\n: ping\n"); n != 1 {
			t.Fatalf("at 34 s: %d heartbeats, want 1", n)
		}
		time.Sleep(time.Second)
		synctestWait()
		if n := strings.Count(rec.output(), "\n: ping\n"); n != 2 {
			t.Fatalf("at 35 s: %d heartbeats, want 2", n)
		}
	})
}

func TestMaxAge(t *testing.T) {
	synctestTest(t, func(t *testing.T) {
		h, err := sse.New(sse.Config{MaxAge: 100 * time.Second, MaxAgeJitter: 0.2, Heartbeat: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		rec := newRecorder()
		begin := time.Now()
		c := start(h, rec, "alice", "")
		if err := c.wait(); err != nil { // ServeStream returns on its own at max age
			t.Errorf("ServeStream = %v", err)
		}
		if age := time.Since(begin); age < 80*time.Second || age > 100*time.Second {
			t.Errorf("stream ended after %v, want 80 s to 100 s", age)
		}
		evs := rec.events(t)
		if diff := cmp.Diff([]string{"onConnect", "chatapi.close"}, names(evs)); diff != "" {
			t.Fatalf("events (-want +got):\n%s", diff)
		}
		if want := `{"reason":"max-age","resume":true}`; evs[1].Data != want {
			t.Errorf("close data = %s, want %s", evs[1].Data, want)
		}
	})
}

func TestWriteDeadline(t *testing.T) {
	synctestTest(t, func(t *testing.T) {
		h, err := sse.New(sse.Config{WriteTimeout: 3 * time.Second, Heartbeat: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		rec := newRecorder()
		stop := serve(h, rec, "alice", "")
		synctestWait()
		rec.setStall(true)
		start := time.Now()
		h.Publish("alice", "e", nil)
		err = stop()
		if !errors.Is(err, sse.ErrSlow) {
			t.Errorf("ServeStream = %v, want ErrSlow", err)
		}
		if d := time.Since(start); d != 3*time.Second {
			t.Errorf("stream ended after %v, want the 3 s write timeout", d)
		}
	})
}

// TestWriteDeadlineMoves: a stream that keeps writing is not ended at
// WriteTimeout after its first write; a write that stalls gets at least
// seven eighths of WriteTimeout, and no more than all of it.
func TestWriteDeadlineMoves(t *testing.T) {
	synctestTest(t, func(t *testing.T) {
		h, rec, stop := hubStream(t, sse.Config{WriteTimeout: 3 * time.Second, Heartbeat: -1})
		for i := range 10 { // writes for 10 s, past the 3 s timeout
			time.Sleep(time.Second)
			h.Publish("alice", "e", payload(i))
			synctestWait()
		}
		if got := h.Streams("alice"); got != 1 {
			t.Fatalf("a stream writing every second was ended (%d streams)", got)
		}
		time.Sleep(200 * time.Millisecond) // too soon after the last deadline update for another
		rec.setStall(true)
		begin := time.Now()
		h.Publish("alice", "e", nil)
		if err := stop(); !errors.Is(err, sse.ErrSlow) {
			t.Errorf("ServeStream = %v, want ErrSlow", err)
		}
		if d := time.Since(begin); d < 3*time.Second*7/8 || d > 3*time.Second {
			t.Errorf("stalled write ended after %v, want 2.625 s to 3 s", d)
		}
	})
}

// TestInjection checks that names and data cannot add SSE fields.
func TestInjection(t *testing.T) {
	s := newServer(t, sse.Config{})
	st := s.open(t, "alice", "")
	st.next(t)
	s.hub.Publish("alice", "chat\r\nid: 666\n\nevent: evil\x00", []byte("a\r\nid: 7\rb\nevent: x\n\nretry: 1"))
	ev := st.next(t)
	if ev.Name != "chatid: 666event: evil" || ev.Data != "a\nid: 7\nb\nevent: x\n\nretry: 1" {
		t.Errorf("got %+v", ev)
	}
	if strings.Contains(ev.ID, "666") || strings.Contains(ev.ID, "7") && !strings.HasSuffix(ev.ID, "-1") {
		t.Errorf("id = %q: injected", ev.ID)
	}
	if st.Retry != 3000 {
		t.Errorf("retry = %d: injected", st.Retry)
	}
	// An id with a line break in the query parameter is not echoed.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	req, _ := http.NewRequestWithContext(ctx, "GET", s.ts.URL+"/sse?user=alice&lastEventId=1-1%0D%0Aevent:%20evil", nil)
	st2 := s.do(t, req, cancel)
	st2.expect(t, "onConnect", `{"username":"alice"}`)
	st2.expect(t, "chatapi.reset", `{"reason":"unknown"}`)
}

// TestStreamsAndCount checks the counters as streams come and go.
func TestStreamsAndCount(t *testing.T) {
	s := newServer(t, sse.Config{})
	a := s.open(t, "alice", "")
	b := s.open(t, "bob", "")
	b2 := s.open(t, "bob", "")
	if s.hub.Count() != 3 || s.hub.Streams("alice") != 1 || s.hub.Streams("bob") != 2 || s.hub.Streams("carol") != 0 {
		t.Errorf("Count %d, alice %d, bob %d", s.hub.Count(), s.hub.Streams("alice"), s.hub.Streams("bob"))
	}
	a.next(t)
	b.next(t)
	b2.next(t)
	b2.close()
	if err := <-s.errs; err != nil {
		t.Errorf("ServeStream after the client left = %v", err)
	}
	if s.hub.Streams("bob") != 1 || s.hub.Count() != 2 {
		t.Errorf("after one left: Count %d, bob %d", s.hub.Count(), s.hub.Streams("bob"))
	}
}

// plainWriter hides every optional interface of the writer it wraps, like a
// middleware wrapper without Unwrap: no Flush, no SetWriteDeadline.
type plainWriter struct{ w http.ResponseWriter }

func (p plainWriter) Header() http.Header         { return p.w.Header() }
func (p plainWriter) Write(b []byte) (int, error) { return p.w.Write(b) }
func (p plainWriter) WriteHeader(code int)        { p.w.WriteHeader(code) }

// TestWriterWithoutDeadlines checks that a stream still works when the
// ResponseWriter supports neither Flush nor write deadlines.
func TestWriterWithoutDeadlines(t *testing.T) {
	synctestTest(t, func(t *testing.T) {
		h, err := sse.New(sse.Config{})
		if err != nil {
			t.Fatal(err)
		}
		rec := newRecorder()
		req := httptest.NewRequest("GET", "/sse", nil)
		done := make(chan error, 1)
		go func() { done <- h.ServeStream(plainWriter{rec}, req, "alice", sse.Event{Name: "onConnect"}) }()
		synctestWait()
		h.Publish("alice", "e", []byte("1"))
		synctestWait()
		h.EndUser("alice", "logout")
		if err := <-done; err != nil {
			t.Errorf("ServeStream = %v", err)
		}
		if diff := cmp.Diff([]string{"onConnect", "e", "chatapi.close"}, names(rec.events(t))); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		if rec.deadline != (time.Time{}) || rec.flushes != 0 {
			t.Errorf("deadline %v, %d flushes reached the hidden writer", rec.deadline, rec.flushes)
		}
		h.Close()
	})
}

func TestLogBytes(t *testing.T) {
	synctestTest(t, func(t *testing.T) {
		h, err := sse.New(sse.Config{LogBytes: 250})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		big := []byte(strings.Repeat("x", 100)) // a frame of about 130 bytes
		rec := newRecorder()
		stop := serve(h, rec, "alice", "")
		synctestWait()
		for range 3 { // each written before the next: the stream keeps up
			h.Publish("alice", "e", big)
			synctestWait()
		}
		stop()
		evs := rec.events(t)
		if len(evs) != 4 {
			t.Fatalf("got %d events, want onConnect and 3", len(evs))
		}
		for _, tt := range []struct {
			from string
			want []string
		}{
			{evs[2].ID, []string{"onConnect", "e"}},             // event 3 is kept
			{evs[1].ID, []string{"onConnect", "chatapi.reset"}}, // event 2 is not
		} {
			rec := newRecorder()
			stop := serve(h, rec, "alice", tt.from)
			synctestWait()
			stop()
			if diff := cmp.Diff(tt.want, names(rec.events(t))); diff != "" {
				t.Errorf("resume from %s (-want +got):\n%s", tt.from, diff)
			}
		}
	})
}

// TestSlowStreamThenFreshStream: a tab dropped as slow that comes back
// without a Last-Event-ID (it saw no event id) still gets every event it
// never had: queued frames a slow stream dropped do not count as
// received.
func TestSlowStreamThenFreshStream(t *testing.T) {
	synctestTest(t, func(t *testing.T) {
		h, err := sse.New(sse.Config{QueueEvents: 2, Heartbeat: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		rec := newRecorder()
		stop := serve(h, rec, "alice", "")
		synctestWait()
		const n = 200
		for i := range n {
			h.Publish("alice", "e", payload(i))
		}
		synctestWait()
		if err := stop(); !errors.Is(err, sse.ErrSlow) {
			t.Fatalf("first stream: %v, want ErrSlow", err)
		}
		var got []string
		for _, ev := range rec.events(t) {
			if ev.Name == "e" {
				got = append(got, ev.Data)
			}
		}
		rec2 := newRecorder()
		stop2 := serve(h, rec2, "alice", "")
		synctestWait()
		stop2()
		for _, ev := range rec2.events(t) {
			if ev.Name == "e" {
				got = append(got, ev.Data)
			}
		}
		// The second stream may repeat what the first wrote (the client
		// had no id to resume from), but nothing may be missing.
		seen := map[string]bool{}
		for _, d := range got {
			seen[d] = true
		}
		for i := range n {
			if !seen[string(payload(i))] {
				t.Fatalf("event %d reached neither stream (first stream wrote %d events)", i, len(got))
			}
		}
	})
}

// TestBurstWithinLog: a stream whose client reads late gets a burst of
// 1,000 events (a room's occupant list on entry, twice with raw events)
// once it reads again: a stream falls behind as far as the log keeps
// without being ended, since it has no queue of its own to overflow.
func TestBurstWithinLog(t *testing.T) {
	synctestTest(t, func(t *testing.T) {
		h, rec, stop := hubStream(t, sse.Config{Heartbeat: -1}) // the default log: 1,024 events
		release := rec.hold()
		const n = 1000
		for i := range n {
			if got := h.Publish("alice", "e", payload(i)); got != 1 {
				t.Fatalf("Publish(%d) reached %d streams, want 1", i, got)
			}
		}
		time.Sleep(time.Second) // well within the write deadline
		release()
		synctestWait()
		if err := stop(); err != nil {
			t.Fatalf("ServeStream = %v, want nil", err)
		}
		var got []string
		for _, ev := range rec.events(t) {
			if ev.Name != "onConnect" {
				got = append(got, ev.Data)
			}
		}
		if len(got) != n {
			t.Fatalf("got %d events, want %d", len(got), n)
		}
		for i, d := range got {
			if d != string(payload(i)) {
				t.Fatalf("event %d = %q, want %q", i, d, payload(i))
			}
		}
	})
}

// TestSlowStreamLogOverrun: a stream is ended as slow when the log drops
// an event it has not written yet; it does not write the events after
// the one it lost, and a tab that comes back without an id gets them
// all, from the oldest still kept.
func TestSlowStreamLogOverrun(t *testing.T) {
	synctestTest(t, func(t *testing.T) {
		h, rec, stop := hubStream(t, sse.Config{LogEvents: 8, Heartbeat: -1})
		h.Publish("alice", "e", payload(0))
		synctestWait() // written
		release := rec.hold()
		h.Publish("alice", "e", payload(1)) // taken, its write held
		synctestWait()
		for i := 2; i < 10; i++ { // 2..9 fill the log of 8
			if got := h.Publish("alice", "e", payload(i)); got != 1 {
				t.Fatalf("Publish(%d) reached %d streams, want 1", i, got)
			}
		}
		// 10 drops 2, which the stream has not written.
		if got := h.Publish("alice", "e", payload(10)); got != 0 {
			t.Errorf("Publish(10) reached %d streams, want 0 (the stream fell behind the log)", got)
		}
		release()
		synctestWait()
		if err := stop(); !errors.Is(err, sse.ErrSlow) {
			t.Fatalf("ServeStream = %v, want ErrSlow", err)
		}
		evs := rec.events(t)
		if diff := cmp.Diff([]string{"onConnect", "e", "e", "chatapi.close"}, names(evs)); diff != "" {
			t.Fatalf("slow stream (-want +got):\n%s", diff)
		}
		if got, want := evs[3].Data, `{"reason":"slow","resume":true}`; got != want {
			t.Errorf("close data = %s, want %s", got, want)
		}
		// Resuming after event 1 is no longer possible: a reset, then
		// what no stream had yet (the oldest kept, 3, onwards).
		rec2 := newRecorder()
		stop2 := serve(h, rec2, "alice", evs[2].ID)
		synctestWait()
		stop2()
		evs2 := rec2.events(t)
		if len(evs2) < 2 || evs2[1].Name != "chatapi.reset" {
			t.Fatalf("resume: %v, want onConnect, chatapi.reset, …", names(evs2))
		}
		var data []string
		for _, ev := range evs2[2:] {
			data = append(data, ev.Data)
		}
		if diff := cmp.Diff([]string{"3", "4", "5", "6", "7", "8", "9", "10"}, data); diff != "" {
			t.Errorf("resume after the reset (-want +got):\n%s", diff)
		}
	})
}

// MoveUser ends the user's streams as EndUser does, but resumable, and
// the first end wins over a later EndUser.
func TestMoveUser(t *testing.T) {
	s := newServer(t, sse.Config{})
	a, b := s.open(t, "alice", ""), s.open(t, "bob", "")
	a.next(t)
	b.next(t)
	s.hub.Publish("alice", "chatapi.chat", []byte("last"))
	if got := s.hub.MoveUser("alice", "shutdown"); got != 1 {
		t.Errorf("MoveUser = %d, want 1", got)
	}
	s.hub.EndUser("alice", "ended")
	a.expect(t, "chatapi.chat", "last")
	a.expect(t, "chatapi.close", `{"reason":"shutdown","resume":true}`)
	a.expectEOF(t)
	if got := s.hub.Publish("bob", "chatapi.chat", []byte("still here")); got != 1 {
		t.Errorf("Publish(bob) = %d, want 1", got)
	}
	b.expect(t, "chatapi.chat", "still here")
}

// TestOmit: a stream that leaves out an event name gets every other event,
// in order, live and in a resume; what it left out still counts as seen, so
// it resumes after it; another tab of the user gets everything.
func TestOmit(t *testing.T) {
	s := newServer(t, sse.Config{})
	s.hub.Publish("alice", "chatapi.chat", payload(0))
	s.hub.Publish("alice", "chatapi.xmpp", []byte(`"x0"`))
	s.hub.Publish("alice", "chatapi.chat", payload(1))

	lean := s.open(t, "alice", "", "chatapi.xmpp")
	lean.expect(t, "onConnect", `{"username":"alice"}`)
	first := lean.expect(t, "chatapi.chat", "0")
	lean.expect(t, "chatapi.chat", "1")

	all := s.open(t, "alice", first.ID) // resumes after event 1: gets the raw one
	all.expect(t, "onConnect", `{"username":"alice"}`)
	all.expect(t, "chatapi.xmpp", `"x0"`)
	all.expect(t, "chatapi.chat", "1")

	s.hub.Publish("alice", "chatapi.xmpp", []byte(`"x1"`))
	s.hub.Publish("alice", "chatapi.chat", payload(2))
	last := lean.expect(t, "chatapi.chat", "2")
	all.expect(t, "chatapi.xmpp", `"x1"`)
	if ev := all.expect(t, "chatapi.chat", "2"); ev.ID != last.ID {
		t.Errorf("the two tabs got event 2 as %q and %q", ev.ID, last.ID)
	}
	lean.close()
	all.close()

	resumed := s.open(t, "alice", first.ID, "chatapi.xmpp")
	resumed.expect(t, "onConnect", `{"username":"alice"}`)
	resumed.expect(t, "chatapi.chat", "1")
	resumed.expect(t, "chatapi.chat", "2")
	s.hub.Publish("alice", "chatapi.xmpp", []byte(`"x2"`))
	s.hub.Publish("alice", "chatapi.chat", payload(3))
	resumed.expect(t, "chatapi.chat", "3")
}
