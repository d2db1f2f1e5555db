package xmppconn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// silentAfterBind reads and ignores everything, as a server whose host
// died would (the socket stays open).
func silentAfterBind(sc *serverConn) {
	for {
		if _, err := sc.next(); err != nil {
			io.Copy(io.Discard, sc.nc) // until the client hangs up
			return
		}
	}
}

func TestDeadConnectionNoticedWithinTwoIntervals(t *testing.T) {
	// The keepalive pings after one interval and gives up half an interval
	// later; the other half is slack for a loaded machine.
	const interval = 500 * time.Millisecond
	fs := newFakeServer(t, fakeOpts{session: silentAfterBind})
	c := dialFake(t, fs, func(c *Config) { c.KeepAlive = interval })
	start := time.Now() // the server has been silent since bind
	select {
	case <-c.Done():
	case <-time.After(10 * interval):
		t.Fatal("dead connection not noticed after 10 intervals")
	}
	took := time.Since(start)
	if !errors.Is(c.Err(), ErrPingTimeout) || !errors.Is(c.Err(), ErrNetwork) {
		t.Errorf("Err() = %v, want ErrPingTimeout and ErrNetwork", c.Err())
	}
	if took > 2*interval {
		t.Errorf("noticed after %v, want within two intervals (%v)", took, 2*interval)
	}
	if _, ok := <-c.In(); ok {
		t.Error("In() not closed after the end")
	}
	if _, err := c.Next(t.Context()); !errors.Is(err, ErrPingTimeout) {
		t.Errorf("Next after the end = %v, want the end reason", err)
	}
}

func TestLiveConnectionSurvivesKeepalives(t *testing.T) {
	const interval = 100 * time.Millisecond
	pings := make(chan struct{}, 100)
	fs := newFakeServer(t, fakeOpts{session: func(sc *serverConn) {
		for {
			el, err := sc.next()
			if err != nil {
				if err == errStreamEnd {
					sc.send("</stream:stream>")
				}
				return
			}
			if el.name.Local == "iq" {
				sc.send("<iq type='result' id='" + el.attrValue("id") + "'/>")
				pings <- struct{}{}
			}
		}
	}})
	c := dialFake(t, fs, func(c *Config) { c.KeepAlive, c.PingTimeout = interval, interval })
	for range 3 {
		<-pings
	}
	if err := c.Err(); err != nil {
		t.Fatalf("stream ended: %v", err)
	}
}

func TestCloseHandshake(t *testing.T) {
	fs := newFakeServer(t, fakeOpts{})
	c := dialFake(t, fs, nil)
	if err := c.Close(t.Context()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if !errors.Is(c.Err(), ErrClosed) {
		t.Errorf("Err() = %v, want ErrClosed", c.Err())
	}
	if err := c.SendRaw(t.Context(), []byte("<presence/>")); !errors.Is(err, ErrClosed) {
		t.Errorf("SendRaw after Close = %v, want ErrClosed", err)
	}
	if _, err := c.RawIQ(t.Context(), "get", "", []byte("<ping xmlns='urn:xmpp:ping'/>")); !errors.Is(err, ErrClosed) {
		t.Errorf("RawIQ after Close = %v, want ErrClosed", err)
	}
	if err := c.Close(t.Context()); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
}

func TestCloseHonoursContext(t *testing.T) {
	fs := newFakeServer(t, fakeOpts{session: silentAfterBind})
	c := dialFake(t, fs, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.Close(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close against a silent server = %v, want DeadlineExceeded", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("Close took %v with a 100ms context", took)
	}
	if !errors.Is(c.Err(), ErrClosed) {
		t.Errorf("Err() = %v, want ErrClosed", c.Err())
	}
}

func TestServerEndsStream(t *testing.T) {
	tests := []struct {
		name string
		send string
		want error
	}{
		{"close", "</stream:stream>", ErrStreamClosed},
		{"conflict", "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>", &StreamError{Condition: "conflict"}},
		{"hang up", "", ErrNetwork},
		{"bad xml", "<message><body></message>", ErrProtocol},
		{"doctype", "<!DOCTYPE x [<!ENTITY a 'aaaa'>]>", ErrProtocol},
		{"huge", "<message><body>" + strings.Repeat("a", 2000) + "</body></message>", ErrStanzaTooLarge},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			fs := newFakeServer(t, fakeOpts{session: func(sc *serverConn) {
				sc.send("<message id='before'><body>x</body></message>")
				sc.send(test.send)
			}})
			c := dialFake(t, fs, func(c *Config) { c.MaxStanzaSize = 1000 })
			// The stanza before the end is still delivered.
			if s, err := c.Next(t.Context()); err != nil || s.ID != "before" {
				t.Fatalf("Next = %q, %v; want the stanza sent before the end", s.ID, err)
			}
			if _, err := c.Next(t.Context()); !errors.Is(err, test.want) {
				t.Errorf("end reason %v, want %v", err, test.want)
			}
		})
	}
}

func TestPendingIQFailsWhenStreamEnds(t *testing.T) {
	fs := newFakeServer(t, fakeOpts{session: func(sc *serverConn) {
		sc.next()
		sc.send("<stream:error><system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>")
	}})
	c := dialFake(t, fs, nil)
	_, err := c.RawIQ(t.Context(), "get", "", []byte("<ping xmlns='urn:xmpp:ping'/>"))
	if !errors.Is(err, &StreamError{Condition: "system-shutdown"}) {
		t.Errorf("RawIQ = %v, want the stream error", err)
	}
}

func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}

// waitGoroutines waits until the number of goroutines is at most n.
func waitGoroutines(t *testing.T, n int) int {
	t.Helper()
	var got int
	for range 200 {
		if got = runtime.NumGoroutine(); got <= n {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
	return got
}

func TestDialCloseCyclesLeakNothing(t *testing.T) {
	fs := newFakeServer(t, fakeOpts{})
	// Warm up (TLS-free, but first dials allocate lazily-started runtime bits).
	c := dialFake(t, fs, nil)
	c.Close(t.Context())
	baseG := waitGoroutines(t, runtime.NumGoroutine())
	baseFD := openFDs(t)
	for range 200 {
		c, err := Dial(t.Context(), fs.config())
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if g := waitGoroutines(t, baseG); g > baseG {
		t.Errorf("goroutines %d after 200 cycles, want %d", g, baseG)
	}
	if fd := openFDs(t); fd > baseFD+2 {
		t.Errorf("open fds %d after 200 cycles, want %d", fd, baseFD)
	}
}

func TestCloseWithStalledConsumer(t *testing.T) {
	fs := newFakeServer(t, fakeOpts{session: func(sc *serverConn) {
		for i := range 100 {
			sc.send(fmt.Sprintf("<message id='%d'/>", i))
		}
		io.Copy(io.Discard, sc.nc)
	}})
	full := make(chan struct{})
	var once sync.Once
	c := dialFake(t, fs, func(c *Config) {
		c.QueueSize = 1
		c.OnQueueFull = func() { once.Do(func() { close(full) }) }
	})
	<-full
	start := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := c.Close(ctx); err != nil {
		t.Errorf("Close = %v, want nil", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Close with a stalled consumer took %v", took)
	}
	// What was queued before the end is still there, then the end.
	n := 0
	for range c.In() {
		n++
	}
	if n != 1 || !errors.Is(c.Err(), ErrClosed) {
		t.Errorf("after Close: %d queued stanzas and Err() = %v; want 1 and ErrClosed", n, c.Err())
	}
}

func TestStalledReaderIsNotADeadConnection(t *testing.T) {
	pings := make(chan struct{}, 100)
	fs := newFakeServer(t, fakeOpts{session: func(sc *serverConn) {
		for i := range 20 {
			sc.send(fmt.Sprintf("<message id='%d'/>", i))
		}
		for {
			el, err := sc.next()
			if err != nil {
				if err == errStreamEnd {
					sc.send("</stream:stream>")
				}
				return
			}
			if el.name.Local == "iq" {
				sc.send("<iq type='result' id='" + el.attrValue("id") + "'/>")
				pings <- struct{}{}
			}
		}
	}})
	// The first ping goes out 200 ms after the stream opens, when the 20
	// messages have long filled the queue of 2 (with 20 ms, make test's
	// loaded machine once timed a ping out before the reader had stalled:
	// the stream ended as a dead one and this test waited for pings that
	// never came, until go test's timeout).
	c := dialFake(t, fs, func(c *Config) { c.QueueSize = 2; c.KeepAlive = 200 * time.Millisecond })
	// Three pings go unanswered as far as the stalled reader can tell.
	for i := range 3 {
		select {
		case <-pings:
		case <-c.Done():
			t.Fatalf("stream ended before ping %d while the consumer was slow: %v", i+1, c.Err())
		case <-time.After(10 * time.Second):
			t.Fatalf("ping %d never came", i+1)
		}
	}
	if err := c.Err(); err != nil {
		t.Fatalf("stream ended while the consumer was slow: %v", err)
	}
	for i := range 20 {
		s, err := c.Next(t.Context())
		if err != nil || s.ID != strconv.Itoa(i) {
			t.Fatalf("Next #%d = %q, %v", i, s.ID, err)
		}
	}
}
