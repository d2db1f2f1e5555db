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

// writers records, through Config.Wrote, which goroutines wrote each
// event (by its data, an "n":<i> field), once per stream that wrote it.
type writers struct {
	mu sync.Mutex
	by map[int][]int // event number -> goroutine ids
}

func newWriters() *writers { return &writers{by: map[int][]int{}} }

func (w *writers) wrote(body []byte) {
	g := goid()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, line := range bytes.Split(body, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte(`data: {"n":`)); ok {
			end := bytes.IndexFunc(v, func(r rune) bool { return r < '0' || r > '9' })
			if n, err := strconv.Atoi(string(v[:max(end, 0)])); err == nil && end > 0 {
				w.by[n] = append(w.by[n], g)
			}
		}
	}
}

// of returns the goroutine that wrote event n, when one stream did.
func (w *writers) of(n int) (int, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	gs := w.by[n]
	if len(gs) != 1 {
		return 0, false
	}
	return gs[0], true
}

// allBy reports whether event n was written streams times, each time by
// goroutine g.
func (w *writers) allBy(n, streams, g int) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	gs := w.by[n]
	if len(gs) != streams {
		return false
	}
	for _, x := range gs {
		if x != g {
			return false
		}
	}
	return true
}

// spaced is longer than the gap after a stream's write within which a
// publisher wakes the stream instead of writing through (through.go's
// throughGap, 1 ms).
const spaced = 3 * time.Millisecond

// untilThrough publishes chat events numbered from n+1 to alice, whose
// streams are sts, reading each on every stream, until one was written to
// all of them by the publisher (the calling goroutine), and returns its
// number. A stream's goroutine parks in its read some time after its last
// write; until then events wake it.
func untilThrough(t *testing.T, s *server, w *writers, n int, sts ...*stream) int {
	t.Helper()
	me := goid()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(spaced) {
		n++
		s.hub.Publish("alice", "chat", fmt.Appendf(nil, `{"n":%d}`, n))
		for _, st := range sts {
			st.expect(t, "chat", fmt.Sprintf(`{"n":%d}`, n))
		}
		if w.allBy(n, len(sts), me) {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("up to event %d none was written through by the publisher", n)
		}
	}
}

// TestWriteThrough: a stream waiting in its read gets each event written
// by the publisher's goroutine (through.go), in order and with nothing
// lost, and its goroutine is woken for nothing, not even for an event the
// stream leaves out (the gateway logs raw XML before each message, which
// few streams ask for). A user's tabs are written through each in turn,
// and a stream that wrote within the last millisecond is woken instead,
// so that its goroutine batches a burst.
func TestWriteThrough(t *testing.T) {
	w := newWriters()
	s := newServer(t, sse.Config{Heartbeat: time.Hour, Wrote: w.wrote})
	st := s.open(t, "alice", "", "raw")
	st.expect(t, "onConnect", `{"username":"alice"}`)
	me := goid()

	n := untilThrough(t, s, w, 0, st)
	// From now on the goroutine stays parked: every event that comes
	// after a pause is the publisher's to write.
	first := n + 1
	for range 100 {
		n++
		time.Sleep(spaced)
		s.hub.Publish("alice", "raw", []byte(`"<message/>"`))
		s.hub.Publish("alice", "chat", fmt.Appendf(nil, `{"n":%d}`, n))
	}
	for i := first; i <= n; i++ {
		st.expect(t, "chat", fmt.Sprintf(`{"n":%d}`, i))
		if g, ok := w.of(i); !ok || g != me {
			t.Fatalf("event %d written by goroutine %d (known %v), want the publisher's %d", i, g, ok, me)
		}
	}

	// A burst: the events after the first come within the gap and wake
	// the goroutine, which writes them.
	n = untilThrough(t, s, w, n, st)
	first = n + 1
	for range 50 {
		n++
		s.hub.Publish("alice", "chat", fmt.Appendf(nil, `{"n":%d}`, n))
	}
	woken := 0
	for i := first; i <= n; i++ {
		st.expect(t, "chat", fmt.Sprintf(`{"n":%d}`, i))
		if g, ok := w.of(i); ok && g != me {
			woken++
		}
	}
	if woken == 0 {
		t.Fatal("a burst of 50 events was all written through: none left to the stream's goroutine")
	}

	// A second stream: both are written through, by the publisher.
	st2 := s.open(t, "alice", "")
	st2.expect(t, "onConnect", `{"username":"alice"}`)
	n = untilThrough(t, s, w, n, st, st2)
	first = n + 1
	for range 20 {
		n++
		time.Sleep(spaced)
		s.hub.Publish("alice", "chat", fmt.Appendf(nil, `{"n":%d}`, n))
	}
	for i := first; i <= n; i++ {
		st.expect(t, "chat", fmt.Sprintf(`{"n":%d}`, i))
		st2.expect(t, "chat", fmt.Sprintf(`{"n":%d}`, i))
		if !w.allBy(i, 2, me) {
			w.mu.Lock()
			gs := w.by[i]
			w.mu.Unlock()
			t.Fatalf("event %d written by goroutines %v, want the publisher's %d on both streams", i, gs, me)
		}
	}

	// Back to one stream: still written through.
	st2.close()
	for deadline := time.Now().Add(10 * time.Second); s.hub.Streams("alice") != 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("alice has %d streams, want 1", s.hub.Streams("alice"))
		}
	}
	n = untilThrough(t, s, w, n, st)

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
	w := newWriters()
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

// TestWriteThroughConcurrent: publishers racing for a user's streams (one
// stream, then three tabs), with writes through and wakes mixed, deliver
// every event once to each stream and each publisher's events in its
// order; the hub's end comes after them all.
func TestWriteThroughConcurrent(t *testing.T) {
	for _, tabs := range []int{1, 3} {
		t.Run(fmt.Sprintf("tabs=%d", tabs), func(t *testing.T) {
			s := newServer(t, sse.Config{Heartbeat: 20 * time.Millisecond})
			sts := make([]*stream, tabs)
			for i := range sts {
				sts[i] = s.open(t, "alice", "")
				sts[i].expect(t, "onConnect", `{"username":"alice"}`)
			}
			const publishers, each = 4, 300
			var wg sync.WaitGroup
			for p := range publishers {
				wg.Go(func() {
					for i := range each {
						s.hub.Publish("alice", "chat", fmt.Appendf(nil, `{"p":%d,"i":%d}`, p, i))
						if i%50 == 0 {
							time.Sleep(spaced) // let the goroutines park again
						}
					}
				})
			}
			// Each stream is read on its own goroutine: a stream that
			// is not read would hold the publishers' writes up.
			errs := make(chan error, tabs)
			for _, st := range sts {
				go func() { errs <- readInOrder(st, publishers, each) }()
			}
			for range sts {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			wg.Wait()
			s.hub.EndUser("alice", "logout")
			for _, st := range sts {
				st.expect(t, "chatapi.close", `{"reason":"logout","resume":false}`)
				st.expectEOF(t)
			}
			for range sts {
				if err := <-s.errs; err != nil && !errors.Is(err, context.Canceled) {
					t.Fatalf("ServeStream: %v", err)
				}
			}
		})
	}
}

// readInOrder reads publishers*each chat events from st and checks that
// each publisher's come in its order, each once.
func readInOrder(st *stream, publishers, each int) error {
	next := make([]int, publishers)
	for range publishers * each {
		ev, err := st.Next()
		if err != nil {
			return err
		}
		var p, i int
		if _, err := fmt.Sscanf(ev.Data, `{"p":%d,"i":%d}`, &p, &i); err != nil || ev.Name != "chat" || p < 0 || p >= publishers {
			return fmt.Errorf("event %q %q: %v", ev.Name, ev.Data, err)
		}
		if i != next[p] {
			return fmt.Errorf("publisher %d: got event %d, want %d", p, i, next[p])
		}
		next[p]++
	}
	return nil
}
