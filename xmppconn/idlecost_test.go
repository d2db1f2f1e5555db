package xmppconn

import (
	"context"
	"flag"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

var (
	idleSessions = flag.Int("xmppconn.idle", 20, "sessions of TestIntegrationSessionIdleCost")
	idleProfile  = flag.String("xmppconn.idleprofile", "", "file for a heap profile taken with the idle sessions open")
)

// TestIntegrationSessionIdleCost: an idle session costs one goroutine
// (its connection's reader, which runs the session's handler: inline.go;
// the keepalive runs on a timer). It logs the heap in use per session;
// with -xmppconn.idleprofile it writes a heap profile while they idle.
//
//	go test -run TestIntegrationSessionIdleCost -v ./xmppconn/ -args -xmppconn.idle=300 -xmppconn.idleprofile=/tmp/idle.pprof
func TestIntegrationSessionIdleCost(t *testing.T) {
	n := *idleSessions
	if *idleProfile != "" {
		// Every allocation from here on is sampled.
		defer func(rate int) { runtime.MemProfileRate = rate }(runtime.MemProfileRate)
		runtime.MemProfileRate = 1
	}
	users := make([]ejabberdtest.User, n)
	for i := range users {
		users[i] = ejabberdtest.NewUser(t)
	}
	ev := newEvents()
	m := newTestManager(t, ev, func(c *ManagerConfig) { c.Stream.KeepAlive = time.Minute })
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	g0, heap0 := idleSample()
	for _, u := range users {
		if _, err := m.Open(ctx, u.Name, Credentials{Password: u.Password}); err != nil {
			t.Fatal(err)
		}
	}
	// Let the catch-ups finish and their goroutines exit.
	var g1 int
	var heap1 uint64
	for deadline := time.Now().Add(30 * time.Second); ; {
		g1, heap1 = idleSample()
		if g1-g0 <= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if *idleProfile != "" {
		f, err := os.Create(*idleProfile)
		if err != nil {
			t.Fatal(err)
		}
		if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	perSession := float64(g1-g0) / float64(n)
	t.Logf("%d idle sessions: %.2f goroutines and %.1f KiB heap in use per session", n, perSession, float64(int64(heap1)-int64(heap0))/1024/float64(n))
	if g1-g0 > n {
		buf := make([]byte, 1<<20)
		t.Fatalf("%.2f goroutines per idle session, want 1\n%s", perSession, buf[:runtime.Stack(buf, true)])
	}
}

// idleSample collects garbage and returns the goroutines and heap in use.
func idleSample() (int, uint64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return runtime.NumGoroutine(), ms.HeapInuse
}
