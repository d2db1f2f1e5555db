package sse_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/sse"
	"github.com/sparkgate/sparkgate/sse/ssetest"
)

// checkGoroutines fails the test if goroutines started during it are still
// running once its other cleanups have run (tailscale's ResourceCheck).
func checkGoroutines(t *testing.T) {
	t.Helper()
	base := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= base {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("%d goroutines left running, started with %d:\n%s", n, base, buf)
				return
			}
			time.Sleep(10 * time.Millisecond) // goroutines exit on their own schedule; poll briefly
		}
	})
}

// testLogger sends the hub's debug records to t.Log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// server is a hub behind a real HTTP server whose handler streams the user
// named by the "user" query parameter, after an onConnect hello.
type server struct {
	hub  *sse.Hub
	ts   *httptest.Server
	errs chan error // ServeStream results
}

func newServer(t *testing.T, cfg sse.Config) *server {
	t.Helper()
	checkGoroutines(t)
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	h, err := sse.New(cfg)
	if err != nil {
		t.Fatalf("sse.New: %v", err)
	}
	s := &server{hub: h, errs: make(chan error, 100)}
	s.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user := r.URL.Query().Get("user")
		err := h.ServeStream(w, r, user, sse.Event{Name: "onConnect", Data: []byte(`{"username":"` + user + `"}`)}, r.URL.Query()["omit"]...)
		if errors.Is(err, sse.ErrClosed) {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
		}
		select {
		case s.errs <- err:
		default:
		}
	}))
	t.Cleanup(func() {
		h.EndStreams()
		s.ts.Close()
		if err := h.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// stream is one client connection.
type stream struct {
	*ssetest.Reader
	resp   *http.Response
	cancel context.CancelFunc
}

// open connects user's stream, resuming after lastID when it is not empty
// and leaving out the events named in omit, and returns once the response headers arrived, that is once the hub has
// registered the stream.
func (s *server) open(t *testing.T, user, lastID string, omit ...string) *stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	q := url.Values{"user": {user}, "omit": omit}
	req, err := http.NewRequestWithContext(ctx, "GET", s.ts.URL+"/sse?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	return s.do(t, req, cancel)
}

func (s *server) do(t *testing.T, req *http.Request, cancel context.CancelFunc) *stream {
	t.Helper()
	resp, err := s.ts.Client().Do(req)
	if err != nil {
		cancel()
		t.Fatalf("GET %s: %v", req.URL, err)
	}
	st := &stream{Reader: ssetest.NewReader(resp.Body), resp: resp, cancel: cancel}
	t.Cleanup(st.close)
	return st
}

// waitNoStreams waits until the hub has seen every stream of user end: a
// closed client is noticed by its stream's goroutine, which a loaded
// machine may run late, and until then the stream counts (a stream still
// counted when the log drops events it lacks is ended as slow, which
// lowers what the log counts as received).
func (s *server) waitNoStreams(t *testing.T, user string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); s.hub.Streams(user) != 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s still has %d streams", user, s.hub.Streams(user))
		}
	}
}

func (st *stream) close() {
	st.cancel()
	st.resp.Body.Close()
}

// next returns the next event or fails the test.
func (st *stream) next(t *testing.T) ssetest.Event {
	t.Helper()
	ev, err := st.Next()
	if err != nil {
		t.Fatalf("reading stream: %v", err)
	}
	return ev
}

// expect reads the next event and checks its name and data.
func (st *stream) expect(t *testing.T, name, data string) ssetest.Event {
	t.Helper()
	ev := st.next(t)
	if ev.Name != name || ev.Data != data {
		t.Fatalf("got event %q %q (id %q), want %q %q", ev.Name, ev.Data, ev.ID, name, data)
	}
	return ev
}

// expectEOF checks that the stream ends after the events already read.
func (st *stream) expectEOF(t *testing.T) {
	t.Helper()
	if ev, err := st.Next(); err != io.EOF {
		t.Fatalf("got %+v, %v; want the stream to end", ev, err)
	}
}

// recorder is a ResponseWriter for handler tests inside synctest bubbles:
// it records what is written and supports Flush and SetWriteDeadline. When
// stall is set, Write blocks until the write deadline passes.
type recorder struct {
	mu       sync.Mutex
	hdr      http.Header
	code     int
	buf      bytes.Buffer
	flushes  int
	deadline time.Time
	stall    bool
	gate     chan struct{} // when not nil, Write waits until it is closed
}

func newRecorder() *recorder { return &recorder{hdr: http.Header{}} }

func (r *recorder) Header() http.Header { return r.hdr }

func (r *recorder) WriteHeader(code int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.code == 0 {
		r.code = code
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	r.mu.Lock()
	if g := r.gate; g != nil {
		r.mu.Unlock()
		<-g
		r.mu.Lock()
	}
	if r.stall {
		d := r.deadline
		r.mu.Unlock()
		if d.IsZero() {
			select {} // a write without a deadline to a stalled client never returns
		}
		time.Sleep(time.Until(d))
		return 0, fmt.Errorf("write: %w", os.ErrDeadlineExceeded)
	}
	defer r.mu.Unlock()
	return r.buf.Write(p)
}

func (r *recorder) Flush() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.flushes++
}

func (r *recorder) SetWriteDeadline(t time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deadline = t
	return nil
}

func (r *recorder) setStall(v bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stall = v
}

// hold makes writes wait until the returned function is called (a client
// that reads late but within the write deadline).
func (r *recorder) hold() (release func()) {
	g := make(chan struct{})
	r.mu.Lock()
	r.gate = g
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		r.gate = nil
		r.mu.Unlock()
		close(g)
	}
}

// output returns what was written so far.
func (r *recorder) output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.String()
}

// events parses what was written so far.
func (r *recorder) events(t *testing.T) []ssetest.Event {
	t.Helper()
	evs, err := ssetest.ReadAll(strings.NewReader(r.output()))
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("parse recorded stream: %v", err)
	}
	return evs
}

// serve runs ServeStream for user on rec in a new goroutine and returns a
// function that cancels the request and returns ServeStream's result.
func serve(h *sse.Hub, rec *recorder, user, lastID string, omit ...string) (stop func() error) {
	c := start(h, rec, user, lastID, omit...)
	return c.stop
}

// hubStream starts a hub (closed at the end of the test) and one stream of
// alice on a recorder, inside a synctest bubble, once the stream is
// registered.
func hubStream(t *testing.T, cfg sse.Config, omit ...string) (*sse.Hub, *recorder, func() error) {
	t.Helper()
	h, err := sse.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	rec := newRecorder()
	stop := serve(h, rec, "alice", "", omit...)
	synctestWait()
	return h, rec, stop
}

// call is a ServeStream call running in its own goroutine.
type call struct {
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// start runs ServeStream for user on rec in a new goroutine.
func start(h *sse.Hub, rec *recorder, user, lastID string, omit ...string) *call {
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequestWithContext(ctx, "GET", "/sse", nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	c := &call{cancel: cancel, done: make(chan error, 1)}
	go func() {
		c.done <- h.ServeStream(rec, req, user, sse.Event{Name: "onConnect", Data: []byte(`{}`)}, omit...)
	}()
	return c
}

// wait waits for ServeStream to return on its own and returns its result.
func (c *call) wait() error {
	c.once.Do(func() { c.err = <-c.done; c.cancel() })
	return c.err
}

// stop cancels the request and returns ServeStream's result.
func (c *call) stop() error {
	c.cancel()
	return c.wait()
}

// names returns the names of evs, for compact comparisons.
func names(evs []ssetest.Event) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Name)
	}
	return out
}

// payload returns the data of the i-th test event.
func payload(i int) []byte { return []byte(strconv.Itoa(i)) }
