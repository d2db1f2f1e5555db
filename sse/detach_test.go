package sse_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"
	"weak"

	"github.com/sparkgate/sparkgate/sse"
	"github.com/sparkgate/sparkgate/sse/ssetest"
)

// detachedServer serves "/?user=U" with ServeStreamDetached. Each request
// gets a context of its own for the stream (ctxs), tells when its handler
// returned (returned), and its done call's error comes on dones.
type detachedServer struct {
	hub      *sse.Hub
	ts       *httptest.Server
	cancels  chan context.CancelCauseFunc
	returned chan error
	dones    chan error
	bufs     chan netHTTPBuffers // of each taken-over connection
}

// netHTTPBuffers are net/http's read and write buffers of a connection, as
// Hijack hands them over; a stream must not keep them.
type netHTTPBuffers struct {
	r weak.Pointer[bufio.Reader]
	w weak.Pointer[bufio.Writer]
}

// hijackSpy passes Hijack on and tells what it returned.
type hijackSpy struct {
	http.ResponseWriter
	bufs chan<- netHTTPBuffers
}

func (w hijackSpy) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil {
		w.bufs <- netHTTPBuffers{weak.Make(brw.Reader), weak.Make(brw.Writer)}
	}
	return c, brw, err
}

func (w hijackSpy) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func newDetachedServer(t *testing.T, wrap func(http.ResponseWriter) http.ResponseWriter) *detachedServer {
	return newDetachedServerTLS(t, wrap, false)
}

// newDetachedServerTLS is newDetachedServer over TLS with HTTP/2 when h2
// is set.
func newDetachedServerTLS(t *testing.T, wrap func(http.ResponseWriter) http.ResponseWriter, h2 bool) *detachedServer {
	t.Helper()
	checkGoroutines(t)
	h, err := sse.New(sse.Config{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	d := &detachedServer{hub: h, cancels: make(chan context.CancelCauseFunc, 1),
		returned: make(chan error, 1), dones: make(chan error, 1), bufs: make(chan netHTTPBuffers, 1)}
	d.ts = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wrap != nil {
			w = wrap(w)
		} else {
			w = hijackSpy{w, d.bufs}
		}
		ctx, cancel := context.WithCancelCause(context.WithoutCancel(r.Context()))
		d.cancels <- cancel
		err := h.ServeStreamDetached(ctx, w, r, r.URL.Query().Get("user"), sse.Event{Name: "hello"}, func(err error) {
			cancel(nil)
			d.dones <- err
		})
		d.returned <- err
	}))
	if h2 {
		d.ts.EnableHTTP2 = true
		d.ts.StartTLS()
	} else {
		d.ts.Start()
	}
	t.Cleanup(func() {
		h.EndStreams()
		d.ts.Close()
		h.Close()
	})
	return d
}

// open starts user's stream and reads its hello.
func (d *detachedServer) open(t *testing.T, user string) (*ssetest.Reader, io.Closer) {
	t.Helper()
	resp, err := d.ts.Client().Get(d.ts.URL + "/?user=" + user)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	rd := ssetest.NewReader(resp.Body)
	if ev, err := rd.Next(); err != nil || ev.Name != "hello" {
		t.Fatalf("hello: %+v %v", ev, err)
	}
	return rd, resp.Body
}

// TestDetachedStream: a stream served by ServeStreamDetached outlives its
// handler, on a goroutine of its own that net/http's connection loop is
// not under, and net/http's state becomes garbage. Each way a stream ends
// calls done once, with what ServeStream would have returned.
func TestDetachedStream(t *testing.T) {
	tests := []struct {
		name  string
		end   func(d *detachedServer, cancel context.CancelCauseFunc, body io.Closer)
		close string // the reason of the close event, "" for none
	}{
		{"client-leaves", func(_ *detachedServer, _ context.CancelCauseFunc, body io.Closer) { body.Close() }, ""},
		{"end-user", func(d *detachedServer, _ context.CancelCauseFunc, _ io.Closer) { d.hub.EndUser("alice", "logout") }, "logout"},
		{"caller-ends", func(_ *detachedServer, cancel context.CancelCauseFunc, _ io.Closer) {
			cancel(&sse.End{Reason: "expired"})
		}, "expired"},
		{"caller-cancels", func(_ *detachedServer, cancel context.CancelCauseFunc, _ io.Closer) { cancel(nil) }, ""},
		{"forget", func(d *detachedServer, _ context.CancelCauseFunc, _ io.Closer) { d.hub.Forget("alice") }, sse.ReasonEnded},
		{"end-streams", func(d *detachedServer, _ context.CancelCauseFunc, _ io.Closer) { d.hub.EndStreams() }, sse.ReasonShutdown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDetachedServer(t, nil)
			rd, body := d.open(t, "alice")
			cancel := <-d.cancels
			if err := <-d.returned; err != nil {
				t.Fatalf("ServeStreamDetached: %v", err)
			}
			// The handler has returned; the stream lives on.
			d.hub.Publish("alice", "chat", []byte("after the handler"))
			if ev, err := rd.Next(); err != nil || ev.Data != "after the handler" {
				t.Fatalf("event: %+v %v", ev, err)
			}
			checkDetachedStacks(t)
			waitFreed(t, <-d.bufs)

			tt.end(d, cancel, body)
			if tt.name != "client-leaves" {
				if tt.close != "" {
					ev, err := rd.Next()
					if err != nil || ev.Name != "chatapi.close" || !strings.Contains(ev.Data, `"reason":"`+tt.close+`"`) {
						t.Fatalf("close event: %+v %v, want reason %q", ev, err, tt.close)
					}
				}
				if ev, err := rd.Next(); err != io.EOF {
					t.Fatalf("after the end: %+v %v, want a clean end of the body", ev, err)
				}
			}
			if err := <-d.dones; err != nil {
				t.Fatalf("done(%v), want nil", err)
			}
			waitCount(t, d.hub, 0)
		})
	}
}

// TestDetachedStreamClose: Close ends a detached stream and returns only
// once its done has returned.
func TestDetachedStreamClose(t *testing.T) {
	d := newDetachedServer(t, nil)
	d.open(t, "bob")
	<-d.cancels
	<-d.returned
	d.hub.Close()
	select {
	case err := <-d.dones:
		if err != nil {
			t.Fatalf("done(%v), want nil", err)
		}
	default:
		t.Fatal("Close returned before the stream's done was called")
	}
	// A stream asked for after Close: refused before any header, and no
	// done.
	resp, err := d.ts.Client().Get(d.ts.URL + "/?user=bob")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	<-d.cancels
	if err := <-d.returned; !errors.Is(err, sse.ErrClosed) {
		t.Fatalf("after Close: %v, want ErrClosed", err)
	}
	select {
	case err := <-d.dones:
		t.Fatalf("done(%v) called for a stream that never started", err)
	default:
	}
}

// TestDetachedStreamWithoutTakeOver: where the connection cannot be taken
// over, ServeStreamDetached serves the stream itself and calls done
// before it returns; the client leaving still ends it, though the
// caller's context does not see the request's.
func TestDetachedStreamWithoutTakeOver(t *testing.T) {
	type plain struct{ http.ResponseWriter } // no Unwrap, no Hijack
	d := newDetachedServer(t, func(w http.ResponseWriter) http.ResponseWriter {
		return struct {
			http.ResponseWriter
			http.Flusher
		}{plain{w}, w.(http.Flusher)}
	})
	for _, how := range []string{"client-leaves", "caller-ends"} {
		rd, body := d.open(t, "carol")
		cancel := <-d.cancels
		select {
		case <-d.returned:
			t.Fatal("the handler returned while it serves the stream")
		default:
		}
		if how == "client-leaves" {
			body.Close()
		} else {
			cancel(&sse.End{Reason: "logout"})
			if ev, err := rd.Next(); err != nil || ev.Name != "chatapi.close" {
				t.Fatalf("close event: %+v %v", ev, err)
			}
		}
		if err := <-d.dones; err != nil {
			t.Fatalf("%s: done(%v), want nil", how, err)
		}
		if err := <-d.returned; err != nil {
			t.Fatalf("%s: ServeStreamDetached: %v", how, err)
		}
		waitCount(t, d.hub, 0)
	}
}

// TestDetachedStreamHTTP2: an HTTP/2 stream cannot be taken over; it is
// served as ServeStream serves it, done called before the return, and
// the client leaving (a stream reset, seen only in the request's
// context) ends it.
func TestDetachedStreamHTTP2(t *testing.T) {
	d := newDetachedServerTLS(t, nil, true)
	for _, how := range []string{"client-leaves", "end-user"} {
		resp, err := d.ts.Client().Get(d.ts.URL + "/?user=dave")
		if err != nil {
			t.Fatal(err)
		}
		if resp.ProtoMajor != 2 {
			t.Fatalf("served over %s, want HTTP/2", resp.Proto)
		}
		rd := ssetest.NewReader(resp.Body)
		if ev, err := rd.Next(); err != nil || ev.Name != "hello" {
			t.Fatalf("hello: %+v %v", ev, err)
		}
		<-d.cancels
		d.hub.Publish("dave", "chat", []byte(how))
		if ev, err := rd.Next(); err != nil || ev.Data != how {
			t.Fatalf("event: %+v %v", ev, err)
		}
		if how == "client-leaves" {
			resp.Body.Close()
		} else {
			d.hub.EndUser("dave", "logout")
			if ev, err := rd.Next(); err != nil || ev.Name != "chatapi.close" {
				t.Fatalf("close event: %+v %v", ev, err)
			}
			resp.Body.Close()
		}
		if err := <-d.dones; err != nil {
			t.Fatalf("%s: done(%v), want nil", how, err)
		}
		if err := <-d.returned; err != nil {
			t.Fatalf("%s: ServeStreamDetached: %v", how, err)
		}
		waitCount(t, d.hub, 0)
	}
}

// checkDetachedStacks checks that the stream's goroutine is not under
// net/http's connection loop.
func checkDetachedStacks(t *testing.T) {
	t.Helper()
	buf := make([]byte, 1<<20)
	found := false
	for g := range strings.SplitSeq(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if !strings.Contains(g, "sse.(*Hub).serveParked") {
			continue
		}
		found = true
		if strings.Contains(g, "net/http.(*conn).serve") {
			t.Fatalf("the stream still runs under net/http's connection loop:\n%s", g)
		}
	}
	if !found {
		t.Fatal("no goroutine serves the stream")
	}
}

// waitFreed collects garbage until net/http's buffers of a taken-over
// connection are gone.
func waitFreed(t *testing.T, b netHTTPBuffers) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		if b.r.Value() == nil && b.w.Value() == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("net/http's read and write buffers are still reachable after the handler returned")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
