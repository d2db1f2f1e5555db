package sse_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/sse"
	"github.com/sparkgate/sparkgate/sse/ssetest"
)

// goid is the calling goroutine's id, read from its stack's first line.
func goid() int {
	var b [64]byte
	s := string(b[:runtime.Stack(b[:], false)])
	s = strings.TrimPrefix(s, "goroutine ")
	n, _ := strconv.Atoi(s[:strings.IndexByte(s, ' ')])
	return n
}

// writers records, through Config.Wrote, which goroutine wrote each event
// (by its data, an "n":<i> field).
type writers struct {
	mu sync.Mutex
	by map[int]int // event number -> goroutine id
}

func (w *writers) wrote(body []byte) {
	g := goid()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, line := range bytes.Split(body, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte(`data: {"n":`)); ok {
			end := bytes.IndexFunc(v, func(r rune) bool { return r < '0' || r > '9' })
			if n, err := strconv.Atoi(string(v[:max(end, 0)])); err == nil && end > 0 {
				w.by[n] = g
			}
		}
	}
}

func (w *writers) of(n int) (int, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	g, ok := w.by[n]
	return g, ok
}

// untilThrough publishes chat events numbered from n+1 to alice's stream
// st, reading each, until one was written by the publisher (the calling
// goroutine), and returns the last number. A stream's goroutine parks in
// its read some time after its last write; until then events wake it.
func untilThrough(t *testing.T, s *server, st *stream, w *writers, n int) int {
	t.Helper()
	me := goid()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		n++
		s.hub.Publish("alice", "chat", fmt.Appendf(nil, `{"n":%d}`, n))
		st.expect(t, "chat", fmt.Sprintf(`{"n":%d}`, n))
		if g, _ := w.of(n); g == me {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("up to event %d none was written through by the publisher", n)
		}
	}
}

// TestWriteThrough: a user's only stream, waiting in its read, gets each
// event written by the publisher's goroutine (through.go), in order and
// with nothing lost, and its goroutine is woken for nothing, not even for
// an event the stream leaves out (the gateway logs raw XML before each
// message, which few streams ask for).
func TestWriteThrough(t *testing.T) {
	w := &writers{by: map[int]int{}}
	s := newServer(t, sse.Config{Heartbeat: time.Hour, Wrote: w.wrote})
	st := s.open(t, "alice", "", "raw")
	st.expect(t, "onConnect", `{"username":"alice"}`)
	me := goid()

	n := untilThrough(t, s, st, w, 0)
	// From now on the goroutine stays parked: every event is the
	// publisher's to write.
	first := n + 1
	for range 200 {
		n++
		s.hub.Publish("alice", "raw", []byte(`"<message/>"`))
		s.hub.Publish("alice", "chat", fmt.Appendf(nil, `{"n":%d}`, n))
	}
	for i := first; i <= n; i++ {
		st.expect(t, "chat", fmt.Sprintf(`{"n":%d}`, i))
		if g, ok := w.of(i); !ok || g != me {
			t.Fatalf("event %d written by goroutine %d (known %v), want the publisher's %d", i, g, ok, me)
		}
	}

	// A second stream: the user's streams are woken, each writes on its
	// own goroutine.
	st2 := s.open(t, "alice", "")
	st2.expect(t, "onConnect", `{"username":"alice"}`)
	n++
	s.hub.Publish("alice", "chat", fmt.Appendf(nil, `{"n":%d}`, n))
	st.expect(t, "chat", fmt.Sprintf(`{"n":%d}`, n))
	st2.expect(t, "chat", fmt.Sprintf(`{"n":%d}`, n))
	if g, _ := w.of(n); g == me {
		t.Fatal("an event to a user with two streams was written through by the publisher")
	}

	// Back to one stream: writes through again, once its goroutine
	// (woken for the event above) has parked.
	st2.close()
	for deadline := time.Now().Add(10 * time.Second); s.hub.Streams("alice") != 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("alice has %d streams, want 1", s.hub.Streams("alice"))
		}
	}
	n = untilThrough(t, s, st, w, n)

	// The hub ends the stream: the close event still comes last.
	s.hub.EndUser("alice", "logout")
	st.expect(t, "chatapi.close", `{"reason":"logout","resume":false}`)
	st.expectEOF(t)
}

// TestWriteThroughSlowClient: a write through that the socket does not
// take whole leaves the rest to the stream's goroutine, which writes it
// before anything else. The server's send buffer is small and the client
// does not read at first, so the publisher's writes fill both sockets'
// buffers; the client then reads every event, whole and in order. (A
// small receive buffer too would make the reading crawl: delayed
// acknowledgements on a tiny window.)
func TestWriteThroughSlowClient(t *testing.T) {
	checkGoroutines(t)
	w := &writers{by: map[int]int{}}
	h, err := sse.New(sse.Config{
		Heartbeat: time.Hour, WriteTimeout: 30 * time.Second,
		LogEvents: 10_000, LogBytes: 256 << 20,
		Wrote: w.wrote, Logger: testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		served <- h.ServeStream(rw, r, "alice", sse.Event{Name: "onConnect", Data: []byte(`{}`)})
	}))
	ts.Config.ConnState = func(c net.Conn, cs http.ConnState) {
		if tc, ok := c.(*net.TCPConn); ok && cs == http.StateNew {
			if err := tc.SetWriteBuffer(4096); err != nil {
				t.Error(err)
			}
		}
	}
	ts.Start()
	defer ts.Close()
	defer h.Close()

	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL, nil)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rd := ssetest.NewReader(resp.Body)
	if ev, err := rd.Next(); err != nil || ev.Name != "onConnect" {
		t.Fatalf("hello: %+v %v", ev, err)
	}
	// Let the stream's goroutine park before the burst.
	time.Sleep(100 * time.Millisecond)

	pad := strings.Repeat("x", 20_000)
	const events = 100 // 2 MB: far beyond both sockets' buffers
	me := goid()
	t0 := time.Now()
	for i := 1; i <= events; i++ {
		h.Publish("alice", "chat", fmt.Appendf(nil, `{"n":%d,"pad":"%s"}`, i, pad))
	}
	t.Logf("published in %v", time.Since(t0))
	for i := 1; i <= events; i++ {
		ev, err := rd.Next()
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if want := fmt.Sprintf(`{"n":%d,"pad":"%s"}`, i, pad); ev.Data != want {
			t.Fatalf("event %d: %.40q…, want %.40q…", i, ev.Data, want)
		}
	}
	// The first event was the publisher's to write, and the socket could
	// not take it whole; later ones went to the stream's goroutine.
	if g, ok := w.of(1); !ok || g != me {
		t.Errorf("event 1 written by goroutine %d (known %v), want the publisher's %d", g, ok, me)
	}
	if g, ok := w.of(events); !ok || g == me {
		t.Errorf("event %d written by goroutine %d (known %v), want the stream's", events, g, ok)
	}
	t.Logf("read in %v", time.Since(t0))
	h.EndUser("alice", "logout")
	if ev, err := rd.Next(); err != nil || ev.Name != "chatapi.close" {
		t.Fatalf("close: %+v %v", ev, err)
	}
	if err := <-served; err != nil {
		t.Fatalf("ServeStream: %v", err)
	}
}

// TestWriteThroughConcurrent: publishers racing for a user's one stream,
// with writes through and wakes mixed, deliver every event once and each
// publisher's events in its order; the hub's end comes after them all.
func TestWriteThroughConcurrent(t *testing.T) {
	s := newServer(t, sse.Config{Heartbeat: 20 * time.Millisecond})
	st := s.open(t, "alice", "")
	st.expect(t, "onConnect", `{"username":"alice"}`)
	const publishers, each = 4, 300
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Go(func() {
			for i := range each {
				s.hub.Publish("alice", "chat", fmt.Appendf(nil, `{"p":%d,"i":%d}`, p, i))
				if i%50 == 0 {
					time.Sleep(time.Millisecond) // let the goroutine park again
				}
			}
		})
	}
	next := make([]int, publishers)
	for range publishers * each {
		ev := st.next(t)
		var p, i int
		if _, err := fmt.Sscanf(ev.Data, `{"p":%d,"i":%d}`, &p, &i); err != nil || ev.Name != "chat" {
			t.Fatalf("event %q %q: %v", ev.Name, ev.Data, err)
		}
		if i != next[p] {
			t.Fatalf("publisher %d: got event %d, want %d", p, i, next[p])
		}
		next[p]++
	}
	wg.Wait()
	s.hub.EndUser("alice", "logout")
	st.expect(t, "chatapi.close", `{"reason":"logout","resume":false}`)
	st.expectEOF(t)
	if err := <-s.errs; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("ServeStream: %v", err)
	}
}
