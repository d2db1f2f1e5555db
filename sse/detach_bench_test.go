package sse_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/sse"
)

// BenchmarkIdleStream measures what an idle HTTP/1.1 stream costs the
// server, served by ServeStream (the handler's goroutine waits, keeping
// net/http's connection state) and by ServeStreamDetached: stack and heap
// bytes per stream, b.N streams open at once. The clients are bare TCP
// connections that send a request and never read, so no goroutine of
// theirs is counted (their sockets' few hundred bytes of heap are).
//
//	go test -run XXX -bench BenchmarkIdleStream -benchtime 500x ./sse/
func BenchmarkIdleStream(b *testing.B) {
	for _, mode := range []string{"serve", "detached"} {
		b.Run(mode, func(b *testing.B) {
			h, err := sse.New(sse.Config{Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				user, hello := r.URL.Query().Get("u"), sse.Event{Name: "hello"}
				if mode == "serve" {
					h.ServeStream(w, r, user, hello)
					return
				}
				h.ServeStreamDetached(context.WithoutCancel(r.Context()), w, r, user, hello, func(error) {})
			}))
			defer func() {
				h.EndStreams()
				ts.Close()
				h.Close()
			}()
			var m0, m1 runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&m0)
			conns := make([]net.Conn, 0, b.N)
			defer func() {
				for _, c := range conns {
					c.Close()
				}
			}()
			for i := range b.N {
				c, err := net.Dial("tcp", ts.Listener.Addr().String())
				if err != nil {
					b.Fatal(err)
				}
				conns = append(conns, c)
				fmt.Fprintf(c, "GET /?u=u%d HTTP/1.1\r\nHost: bench\r\n\r\n", i)
			}
			for h.Count() < b.N {
				time.Sleep(time.Millisecond) // the streams register on the server's schedule
			}
			b.StopTimer()
			runtime.GC()
			runtime.GC() // the second cycle shrinks the stacks the first found oversized
			runtime.ReadMemStats(&m1)
			b.ReportMetric(float64(int64(m1.StackInuse)-int64(m0.StackInuse))/float64(b.N), "stack-B/stream")
			b.ReportMetric(float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc))/float64(b.N), "heap-B/stream")
		})
	}
}
