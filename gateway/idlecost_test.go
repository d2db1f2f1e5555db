package gateway_test

import (
	"flag"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

var (
	idleUsers   = flag.Int("gateway.idle", 5, "users of TestIntegrationIdleCostPerUser")
	idleProfile = flag.String("gateway.idleprofile", "", "file for a heap profile taken while TestIntegrationIdleCostPerUser's users idle")
)

// TestIntegrationIdleCostPerUser: a logged-in user with one open stream
// costs the server two goroutines: the stream's, which waits in a read of
// its taken-over connection (sse/park.go: no background read by net/http)
// on a stack of its own, the handler having returned (sse/detach.go), and
// the reader of the user's XMPP connection, which runs the session too
// (xmppconn/inline.go). The test clients live in the same process, so it
// counts the server's by their stacks. With -gateway.idleprofile it writes a heap profile (every
// allocation sampled) while the users idle; the client's allocations are
// in it too, under gatewaytest and net/http's client.
//
//	go test -run TestIntegrationIdleCostPerUser -v ./gateway/ -args -gateway.idle=200 -gateway.idleprofile=/tmp/gw.pprof
func TestIntegrationIdleCostPerUser(t *testing.T) {
	n := *idleUsers
	if *idleProfile != "" {
		defer func(rate int) { runtime.MemProfileRate = rate }(runtime.MemProfileRate)
		runtime.MemProfileRate = 1
	}
	e := newGateway(t, func(c *gateway.Config) {
		c.Auth.PerIP = gateway.RateLimit{Every: time.Millisecond, Burst: 1000}
	})
	users := make([]ejabberdtest.User, n)
	for i := range users {
		users[i] = ejabberdtest.NewUser(t)
	}
	settle()
	before := serverGoroutines()
	for _, u := range users {
		tok := e.Login(t, u.Name, u.Password)
		s, _ := e.Open(t, tok, "")
		s.NextNamed(t, chatapi.EventConnect, 10*time.Second, nil)
	}
	var after int
	for deadline := time.Now().Add(20 * time.Second); ; {
		settle()
		runtime.GC()
		if after = serverGoroutines(); after-before <= 2*n || time.Now().After(deadline) {
			break
		}
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
	t.Logf("%d idle users with a stream: %.2f server goroutines per user", n, float64(after-before)/float64(n))
	if after-before > 2*n {
		buf := make([]byte, 1<<20)
		t.Fatalf("%.2f server goroutines per idle user, want 2\n%s", float64(after-before)/float64(n), buf[:runtime.Stack(buf, true)])
	}
}

// serverGoroutines counts the goroutines of the gateway's side: HTTP
// connections being served, streams that outlived their handler
// (sse.Hub.ServeStreamDetached) and XMPP connections.
func serverGoroutines() int {
	buf := make([]byte, 8<<20)
	n := 0
	for g := range strings.SplitSeq(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.Contains(g, "net/http.(*conn).serve") || strings.Contains(g, "net/http.(*connReader).backgroundRead") ||
			strings.Contains(g, "/sse.(*Hub).serveParked") || strings.Contains(g, "/xmppconn.") {
			n++
		}
	}
	return n
}
