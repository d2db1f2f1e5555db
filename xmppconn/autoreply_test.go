package xmppconn

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestAutoRepliesBounded floods a Conn whose socket is held (its write
// lock taken, as a stalled socket holds it) with pings: the answers wait
// in one queue with one writer instead of a goroutine each, the ones past
// maxQueuedReplies are dropped and counted, the queued ones reach the
// server in order once the socket frees, and the writer is gone after.
func TestAutoRepliesBounded(t *testing.T) {
	const n = 2000
	flood := make(chan struct{})
	answers := make(chan int, n)
	fs := newFakeServer(t, fakeOpts{session: func(sc *serverConn) {
		<-flood
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "<iq type='get' id='p%d' from='localhost'><ping xmlns='urn:xmpp:ping'/></iq>", i)
		}
		sc.send(b.String())
		sc.eachUntilClose(func(el element) {
			if id, ok := strings.CutPrefix(el.attrValue("id"), "p"); ok && el.attrValue("type") == "result" {
				k, _ := strconv.Atoi(id)
				answers <- k
			}
		})
	}})
	var hooked atomic.Int64
	c := dialFake(t, fs, func(c *Config) { c.OnAnswerDropped = func() { hooked.Add(1) } })
	base := runtime.NumGoroutine()

	c.wmu <- struct{}{} // the socket is stalled
	close(flood)
	deadline := time.Now().Add(10 * time.Second)
	for c.Stats().AutoReplies < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	st := c.Stats()
	if st.AutoReplies != n {
		t.Fatalf("the reader answered %d of %d pings", st.AutoReplies, n)
	}
	if extra := runtime.NumGoroutine() - base; extra > 1 {
		t.Errorf("%d goroutines more while %d answers wait, want at most 1 (the writer)", extra, n)
	}
	if got := hooked.Load(); got != int64(st.AutoRepliesDropped) {
		t.Errorf("OnAnswerDropped called %d times for %d answers dropped", got, st.AutoRepliesDropped)
	}
	// The writer took one batch before it blocked; the queue filled again.
	queued := n - int(st.AutoRepliesDropped)
	if queued < maxQueuedReplies+1 || queued > 2*maxQueuedReplies {
		t.Fatalf("%d answers kept, %d dropped; want between %d and %d kept", queued, st.AutoRepliesDropped, maxQueuedReplies+1, 2*maxQueuedReplies)
	}

	<-c.wmu // the socket frees
	last := -1
	for range queued {
		select {
		case k := <-answers:
			if k <= last {
				t.Fatalf("answer to p%d after p%d: out of order", k, last)
			}
			last = k
		case <-time.After(10 * time.Second):
			t.Fatalf("answers stopped after p%d", last)
		}
	}
	for runtime.NumGoroutine() > base && time.Now().Before(deadline.Add(10*time.Second)) {
		time.Sleep(time.Millisecond)
	}
	if extra := runtime.NumGoroutine() - base; extra > 0 {
		t.Errorf("%d goroutines more once the answers are written, want 0", extra)
	}
	select {
	case k := <-answers:
		t.Errorf("answer to p%d, which was counted as dropped", k)
	case <-time.After(50 * time.Millisecond):
	}
}
