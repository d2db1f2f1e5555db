package sse_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/sse"
	"github.com/sparkgate/sparkgate/sse/ssetest"
)

// TestParkedStream: an HTTP/1.1 stream is served on its taken-over
// connection (park.go): net/http's background read is gone, events,
// heartbeats and the hub's end still arrive in chunks the client parses,
// and a client that leaves is noticed at once.
func TestParkedStream(t *testing.T) {
	s := newServer(t, sse.Config{Heartbeat: 100 * time.Millisecond})
	st := s.open(t, "alice", "")
	if ev, err := st.Next(); err != nil || ev.Name != "onConnect" {
		t.Fatalf("hello: %+v %v", ev, err)
	}
	if te := st.resp.TransferEncoding; len(te) != 1 || te[0] != "chunked" {
		t.Fatalf("transfer encoding %v, want chunked", te)
	}
	if !st.resp.Close {
		t.Fatal("no Connection: close: a client may keep the stream's connection for its next request, and the stream closes it")
	}
	// The hello may reach the client just before the connection is taken
	// over (a loaded machine runs the stream's goroutine late): the
	// background read must be gone soon after, not at once.
	buf := make([]byte, 1<<20)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		stacks := string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "backgroundRead") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("net/http still reads the stream's connection in the background:\n%s", stacks)
		}
	}
	s.hub.Publish("alice", "chat", []byte(`{"n":1}`))
	if ev, err := st.Next(); err != nil || ev.Name != "chat" || ev.Data != `{"n":1}` {
		t.Fatalf("event: %+v %v", ev, err)
	}
	// Silence: heartbeats keep coming (comments, which the reader skips),
	// then an event after them still arrives.
	time.Sleep(350 * time.Millisecond)
	s.hub.Publish("alice", "chat", []byte(`{"n":2}`))
	if ev, err := st.Next(); err != nil || ev.Data != `{"n":2}` {
		t.Fatalf("event after heartbeats: %+v %v", ev, err)
	}
	st.close()
	waitCount(t, s.hub, 0)
	if err := <-s.errs; err != nil {
		t.Fatalf("ServeStream after the client left: %v", err)
	}

	// The hub ends a stream: the close event, then the end of the body.
	st = s.open(t, "alice", "")
	if _, err := st.Next(); err != nil {
		t.Fatal(err)
	}
	s.hub.EndUser("alice", "logout")
	if ev, err := st.Next(); err != nil || ev.Name != "chatapi.close" {
		t.Fatalf("close event: %+v %v", ev, err)
	}
	if _, err := st.Next(); err != io.EOF {
		t.Fatalf("after the close event: %v, want a clean end of the body", err)
	}
}

// TestStreamWithoutTakeOver: a ResponseWriter that does not unwrap to
// net/http's cannot be taken over; the stream is served all the same.
func TestStreamWithoutTakeOver(t *testing.T) {
	checkGoroutines(t)
	h, err := sse.New(sse.Config{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	type plain struct{ http.ResponseWriter } // no Unwrap, no Hijack
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeStream(struct {
			http.ResponseWriter
			http.Flusher
		}{plain{w}, w.(http.Flusher)}, r, "bob", sse.Event{Name: "hello"})
	}))
	t.Cleanup(func() {
		h.EndStreams()
		ts.Close()
		h.Close()
	})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL, nil)
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rd := ssetest.NewReader(resp.Body)
	if ev, err := rd.Next(); err != nil || ev.Name != "hello" {
		t.Fatalf("hello: %+v %v", ev, err)
	}
	h.Publish("bob", "chat", []byte("x"))
	if ev, err := rd.Next(); err != nil || ev.Data != "x" {
		t.Fatalf("event: %+v %v", ev, err)
	}
	resp.Body.Close()
	waitCount(t, h, 0)
}

// waitCount waits until the hub has n streams.
func waitCount(t *testing.T, h *sse.Hub, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for h.Count() != n {
		if time.Now().After(deadline) {
			t.Fatalf("the hub still counts %d streams, want %d", h.Count(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestParkedStreamCallerCancels: a taken-over stream whose caller cancels
// its context without an End ends its body cleanly (the client reads a
// clean end, as when net/http ends a handler's response).
func TestParkedStreamCallerCancels(t *testing.T) {
	checkGoroutines(t)
	h, err := sse.New(sse.Config{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	cancels := make(chan context.CancelFunc, 1)
	rd := streamVia(t, h, func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		cancels <- cancel
		h.ServeStream(w, r.WithContext(ctx), "carol", sse.Event{Name: "hello"})
	}, "hello")
	(<-cancels)()
	if ev, err := rd.Next(); err != io.EOF {
		t.Fatalf("after the caller's cancel: %+v %v, want a clean end", ev, err)
	}
	waitCount(t, h, 0)
}

// TestParkedChunkIsOneWrite: on a taken-over connection wrapped as the
// gateway wraps it (to count bytes), each batch is one write to the
// connection, its chunk framing included: three writes per chunk were
// three system calls and three TCP segments to the client.
func TestParkedChunkIsOneWrite(t *testing.T) {
	checkGoroutines(t)
	h, err := sse.New(sse.Config{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	var writes atomic.Int32
	r := streamVia(t, h, func(w http.ResponseWriter, r *http.Request) {
		h.ServeStream(hijackCounter{w, &writes}, r, "alice", sse.Event{Name: "onConnect", Data: []byte(`{}`)})
	}, "onConnect")
	for i := range 3 {
		before := writes.Load()
		data := strings.Repeat("x", 100*(i+1))
		h.Publish("alice", "chat", []byte(data))
		if ev, err := r.Next(); err != nil || ev.Data != data {
			t.Fatalf("event %d: %+v %v", i, ev, err)
		}
		if n := writes.Load() - before; n != 1 {
			t.Errorf("event %d took %d writes to the connection, want 1", i, n)
		}
	}
}

// hijackCounter is a ResponseWriter whose taken-over connection counts
// its writes, as the gateway's metrics wrapper does.
type hijackCounter struct {
	http.ResponseWriter
	writes *atomic.Int32
}

func (w hijackCounter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	return countedConn{c, w.writes}, brw, nil
}

func (w hijackCounter) Flush()                      { _ = http.NewResponseController(w.ResponseWriter).Flush() }
func (w hijackCounter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type countedConn struct {
	net.Conn
	writes *atomic.Int32
}

func (c countedConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// streamVia serves h's streams with handler on a test server, closed with
// the hub at the end of the test, opens one stream and reads its first
// event, which must be named hello.
func streamVia(t *testing.T, h *sse.Hub, handler http.HandlerFunc, hello string) *ssetest.Reader {
	t.Helper()
	ts := httptest.NewServer(handler)
	t.Cleanup(func() {
		h.EndStreams()
		ts.Close()
		h.Close()
	})
	resp, err := ts.Client().Get(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	rd := ssetest.NewReader(resp.Body)
	if ev, err := rd.Next(); err != nil || ev.Name != hello {
		t.Fatalf("hello: %+v %v", ev, err)
	}
	return rd
}
