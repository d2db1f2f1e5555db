package xmppconn

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestIdleReaderWaitsShallow checks where an idle Conn's reader waits: in
// waitInput under readLoop, not in the decoder's frames, so that the
// runtime can shrink the stack of each of thousands of idle connections.
func TestIdleReaderWaitsShallow(t *testing.T) {
	fs := newFakeServer(t, fakeOpts{session: func(sc *serverConn) {
		sc.send("<message from='bob@localhost/x' id='m1'><body>hi</body></message>")
		sc.echoUntilClose()
	}})
	c := dialFake(t, fs, nil)
	if _, err := c.Next(t.Context()); err != nil {
		t.Fatal(err)
	}
	var reader string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		buf := make([]byte, 1<<20)
		reader = ""
		for g := range strings.SplitSeq(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
			if strings.Contains(g, "(*Conn).readLoop") {
				reader = g
			}
		}
		if strings.Contains(reader, "(*elemReader).waitInput") {
			break
		}
	}
	if !strings.Contains(reader, "(*elemReader).waitInput") || strings.Contains(reader, "encoding/xml") {
		t.Fatalf("the idle reader does not wait in waitInput:\n%s", reader)
	}
}
