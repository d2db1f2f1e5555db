package xmppconn

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestInlineHandOff: a Conn in inline mode keeps what it reads before the
// handover (and stops reading at QueueSize, as on a full queue), the
// handover runs those first, later stanzas run on the reader in order, IQ
// replies still reach their callers, and the reader reports the end once.
func TestInlineHandOff(t *testing.T) {
	const before, after = 8, 20
	release := make(chan struct{})
	fs := newFakeServer(t, fakeOpts{session: func(sc *serverConn) {
		for i := range before {
			sc.send(fmt.Sprintf("<message from='bob@localhost/b' type='chat' id='m%d'><body>%d</body></message>", i, i))
		}
		<-release
		for i := before; i < before+after; i++ {
			sc.send(fmt.Sprintf("<message from='bob@localhost/b' type='chat' id='m%d'><body>%d</body></message>", i, i))
		}
		sc.echoUntilClose()
	}})
	c := dialFake(t, fs, func(cfg *Config) { cfg.inline, cfg.QueueSize = true, 4 })
	if c.In() != nil {
		t.Fatal("an inline Conn has a queue")
	}
	// The reader holds QueueSize stanzas and waits for the rest.
	deadline := time.Now().Add(10 * time.Second)
	for c.Stats().QueueFull == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the reader never waited for the handover")
		}
		time.Sleep(5 * time.Millisecond)
	}

	var mu sync.Mutex
	var got []string
	done := make(chan struct{})
	ends := make(chan error, 2)
	h := func(s *Stanza) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, s.ID)
		if len(got) == before+after {
			close(done)
		}
	}
	if !c.handOff(h, func(err error) { ends <- err }) {
		t.Fatal("handOff on a live Conn reported it ended")
	}
	if c.handOff(h, nil) {
		t.Fatal("a second handOff counted")
	}
	close(release)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("handled %d of %d stanzas", len(got), before+after)
	}
	mu.Lock()
	for i, id := range got {
		if id != fmt.Sprintf("m%d", i) {
			t.Fatalf("stanza %d is %s: order lost (%s)", i, id, strings.Join(got, " "))
		}
	}
	mu.Unlock()
	// The reader still routes IQ replies.
	if _, err := c.RawIQ(t.Context(), "get", "", []byte("<ping xmlns='urn:xmpp:ping'/>")); err != nil {
		t.Fatalf("iq: %v", err)
	}
	if err := c.Close(t.Context()); err != nil {
		t.Fatalf("close: %v", err)
	}
	select {
	case err := <-ends:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("ended with %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the reader did not report the end")
	}
	select {
	case err := <-ends:
		t.Fatalf("the end reported twice (%v)", err)
	case <-time.After(50 * time.Millisecond):
	}
}

// TestInlineHandOffAfterEnd: a handover to a Conn whose stream has already
// ended runs what was read, and the end reaches the owner once: from the
// reader (handOff true) or not at all, the owner seeing false.
func TestInlineHandOffAfterEnd(t *testing.T) {
	fs := newFakeServer(t, fakeOpts{session: func(sc *serverConn) {
		sc.send("<message from='bob@localhost/b' type='chat' id='last'><body>x</body></message></stream:stream>")
	}})
	c := dialFake(t, fs, func(cfg *Config) { cfg.inline = true })
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the stream did not end")
	}
	var got []string
	ended := make(chan error, 2)
	// Done closes as the stream ends; the reader marks itself exited a
	// moment later. A handover in between is to a reader that will still
	// report the end (true, then ended); after it, the caller handles the
	// end itself (false, and ended is never called). Either way the
	// stanza read before the end runs, and the end is told exactly once.
	live := c.handOff(func(s *Stanza) { got = append(got, s.ID) }, func(err error) { ended <- err })
	if len(got) != 1 || got[0] != "last" {
		t.Fatalf("handled %v, want the stanza read before the end", got)
	}
	if !errors.Is(c.Err(), ErrStreamClosed) {
		t.Fatalf("Err %v, want ErrStreamClosed", c.Err())
	}
	if live {
		select {
		case err := <-ended:
			if !errors.Is(err, ErrStreamClosed) {
				t.Fatalf("ended with %v, want ErrStreamClosed", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("handOff reported a live reader, which never reported the end")
		}
	}
	select {
	case err := <-ended:
		t.Fatalf("ended called again, or after handOff said the reader was gone (%v)", err)
	case <-time.After(50 * time.Millisecond):
	}
}
