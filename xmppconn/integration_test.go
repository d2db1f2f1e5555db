package xmppconn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/internal/ejabberd"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

func TestMain(m *testing.M) { ejabberdtest.Main(m) }

// dialUser logs u in on s (plain c2s, no TLS on the private server).
func dialUser(t testing.TB, s *ejabberd.Server, u ejabberdtest.User, mod func(*Config)) *Conn {
	t.Helper()
	cfg := Config{Addr: s.C2SAddr(), Domain: s.Domain(), User: u.Name, Password: u.Password, TLS: TLSOff}
	if mod != nil {
		mod(&cfg)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	c, err := Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("Dial %s: %v", u.Name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c.Close(ctx)
	})
	return c
}

func online(t testing.TB, c *Conn) {
	t.Helper()
	if err := c.SendRaw(t.Context(), []byte("<presence/>")); err != nil {
		t.Fatal(err)
	}
}

func TestIntegrationOrder(t *testing.T) {
	s := ejabberdtest.Shared(t)
	alice, bob := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	a := dialUser(t, s, alice, nil)
	b := dialUser(t, s, bob, nil)
	online(t, a)
	// The no-store hint keeps ejabberd from archiving each message, which
	// would make the run ten times longer without changing what is tested.
	const n, inFlight = 2000, 1600
	slots := make(chan struct{}, inFlight)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	sendErr := make(chan error, 1)
	go func() {
		for i := range n {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				sendErr <- ctx.Err()
				return
			}
			if err := b.SendRaw(ctx, fmt.Appendf(nil, "<message to='%s' type='chat' id='o%d'><body>%d</body><no-store xmlns='urn:xmpp:hints'/></message>", a.JID(), i, i)); err != nil {
				sendErr <- err
				return
			}
		}
		sendErr <- nil
	}()
	next := 0
	for next < n {
		st, err := a.Next(ctx)
		if err != nil {
			t.Fatalf("after %d messages: %v", next, err)
		}
		if st.Message == nil || st.Message.Body == "" || !strings.HasPrefix(st.From, bob.JID) {
			continue // own presence and the like
		}
		got, _ := strconv.Atoi(st.Message.Body)
		if got != next {
			t.Fatalf("message %d arrived when %d was expected (order or loss)", got, next)
		}
		next++
		<-slots
	}
	if err := <-sendErr; err != nil {
		t.Fatalf("sender: %v", err)
	}
}

func TestIntegrationIQ(t *testing.T) {
	s := ejabberdtest.Shared(t)
	alice := ejabberdtest.NewUser(t)
	c := dialUser(t, s, alice, nil)
	kinds := []struct {
		payload, ns string
	}{
		{"<ping xmlns='urn:xmpp:ping'/>", ""},
		{"<query xmlns='jabber:iq:roster'/>", "jabber:iq:roster"},
		{"<query xmlns='http://jabber.org/protocol/disco#info'/>", "http://jabber.org/protocol/disco#info"},
	}
	const total, callers = 5000, 64
	work := make(chan int)
	var wg sync.WaitGroup
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				k := kinds[i%len(kinds)]
				ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
				to := ""
				if i%len(kinds) == 2 {
					to = s.Domain()
				}
				st, err := c.RawIQ(ctx, "get", to, []byte(k.payload))
				cancel()
				if err != nil {
					t.Errorf("IQ %d: %v", i, err)
					continue
				}
				var gotNS string
				if st.IQ != nil && st.IQ.Any != nil {
					gotNS = st.IQ.Any.XMLName.Space
				} else if st.IQ != nil && st.IQ.Payload != nil {
					gotNS = st.IQ.Payload.Namespace()
				}
				if gotNS != k.ns {
					t.Errorf("IQ %d (%s) got a reply for %q: %s", i, k.payload, gotNS, st.Raw)
				}
			}
		}()
	}
	for i := range total {
		work <- i
	}
	close(work)
	wg.Wait()
	if st := c.Stats(); st.StrayReplies != 0 {
		t.Errorf("Stats().StrayReplies = %d, want 0", st.StrayReplies)
	}
}

// tap is a loopback proxy that records what the server sends to the client.
type tap struct {
	ln   net.Listener
	mu   sync.Mutex
	down bytes.Buffer
	wg   sync.WaitGroup
}

func newTap(t testing.TB, upstream string) *tap {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tp := &tap{ln: ln}
	tp.wg.Add(1)
	go func() {
		defer tp.wg.Done()
		cc, err := ln.Accept()
		if err != nil {
			return
		}
		sc, err := net.Dial("tcp", upstream)
		if err != nil {
			cc.Close()
			return
		}
		tp.wg.Add(1)
		go func() {
			defer tp.wg.Done()
			io.Copy(sc, cc)
			sc.(*net.TCPConn).CloseWrite()
		}()
		io.Copy(io.MultiWriter(cc, tp), sc)
		cc.Close()
		sc.Close()
	}()
	t.Cleanup(func() {
		ln.Close()
		tp.wg.Wait()
	})
	return tp
}

func (tp *tap) Write(p []byte) (int, error) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return tp.down.Write(p)
}

func (tp *tap) bytes() []byte {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return bytes.Clone(tp.down.Bytes())
}

func TestIntegrationPayloads(t *testing.T) {
	s := ejabberdtest.Shared(t)
	alice, bob := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	// Bob fills Alice's archive while she is offline.
	b := dialUser(t, s, bob, nil)
	const archived = 200
	for i := range archived {
		if err := b.SendRaw(ctx, fmt.Appendf(nil, "<message to='%s' type='chat'><body>old %d</body></message>", alice.JID, i)); err != nil {
			t.Fatal(err)
		}
	}
	// A ping round trip makes sure the server has processed them.
	if _, err := b.RawIQ(ctx, "get", "", []byte("<ping xmlns='urn:xmpp:ping'/>")); err != nil {
		t.Fatal(err)
	}

	tp := newTap(t, s.C2SAddr())
	a := dialUser(t, s, alice, func(c *Config) { c.Addr = tp.ln.Addr().String(); c.Resource = "main" })
	var (
		mu  sync.Mutex
		got []Stanza
	)
	// The consumer signals once it has both the last message and the
	// carbon: they come from two connections, in either order.
	allIn := make(chan struct{})
	go func() {
		var still, carbon, signalled bool
		for st := range a.In() {
			mu.Lock()
			got = append(got, st)
			mu.Unlock()
			still = still || (st.Message != nil && st.Message.Body == "still here")
			carbon = carbon || st.Carbon != nil
			if still && carbon && !signalled {
				signalled = true
				close(allIn)
			}
		}
	}()
	if _, err := a.RawIQ(ctx, "set", "", []byte("<enable xmlns='urn:xmpp:carbons:2'/>")); err != nil {
		t.Fatalf("enable carbons: %v", err)
	}
	online(t, a) // carbons go to available resources; this also flushes offline storage
	// MAM: all 200 archived messages, then the fin.
	fin, err := a.RawIQ(ctx, "set", "", []byte("<query xmlns='urn:xmpp:mam:2' queryid='q1'><set xmlns='http://jabber.org/protocol/rsm'><max>1000</max></set></query>"))
	if err != nil {
		t.Fatalf("MAM query: %v", err)
	}
	if !bytes.Contains(fin.Raw, []byte("<fin")) {
		t.Errorf("MAM reply without fin: %s", fin.Raw)
	}
	// Carbons: a second resource of Alice sends to Bob.
	a2 := dialUser(t, s, alice, func(c *Config) { c.Resource = "phone" })
	online(t, a2)
	if err := a2.SendRaw(ctx, fmt.Appendf(nil, "<message to='%s' type='chat'><body>from the phone</body></message>", bob.JID)); err != nil {
		t.Fatal(err)
	}
	// An unknown namespace wrapping a nested message, then a plain one.
	for _, m := range []string{
		fmt.Sprintf("<message to='%s' type='chat'><body>poison</body><x xmlns='urn:example:evil'><message xmlns='jabber:client'/></x></message>", a.JID()),
		fmt.Sprintf("<message to='%s' type='chat'><body>still here</body></message>", a.JID()),
	} {
		if err := b.SendRaw(ctx, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	// Wait for the last message and the carbon.
	select {
	case <-allIn:
	case <-a.Done():
		t.Fatalf("stream ended: %v", a.Err())
	case <-ctx.Done():
		mu.Lock()
		for _, st := range got[max(0, len(got)-5):] {
			t.Logf("last stanzas: %s", st.Raw)
		}
		t.Logf("received %d stanzas, stats %+v", len(got), a.Stats())
		mu.Unlock()
		t.Fatal("last message or carbon not received")
	}
	if err := a.Err(); err != nil {
		t.Fatalf("stream ended: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	var mam, carbons, poison int
	for _, st := range got {
		switch {
		case st.MAM != nil:
			f := st.MAM.Forwarded.Message
			if f == nil || f.Message == nil || f.Message.Body != fmt.Sprint("old ", mam) || st.MAM.QueryID != "q1" || st.MAM.ID == "" {
				t.Errorf("MAM result %d: %s", mam, st.Raw)
			}
			mam++
		case st.Carbon != nil:
			if f := st.Carbon.Forwarded.Message; !st.Carbon.Sent || f == nil || f.Message.Body != "from the phone" {
				t.Errorf("carbon: %s", st.Raw)
			}
			carbons++
		case st.Message != nil && st.Message.Body == "poison":
			if len(st.Message.Extensions) == 0 {
				t.Errorf("poison message lost its unknown child: %s", st.Raw)
			}
			poison++
		}
	}
	if mam != archived || carbons != 1 || poison != 1 {
		t.Errorf("got %d MAM results, %d carbons, %d poison messages; want %d, 1, 1", mam, carbons, poison, archived)
	}
	// Every delivered stanza's raw bytes appear, in order, in what the server sent.
	wire := tp.bytes()
	pos := 0
	for i, st := range got {
		j := bytes.Index(wire[pos:], st.Raw)
		if j < 0 {
			t.Fatalf("stanza %d raw bytes not found on the wire after offset %d: %s", i, pos, st.Raw)
		}
		pos += j + len(st.Raw)
	}
}

func TestIntegrationAuth(t *testing.T) {
	s := ejabberdtest.Shared(t)
	alice := ejabberdtest.NewUser(t)
	base := Config{Addr: s.C2SAddr(), Domain: s.Domain(), TLS: TLSOff, KeepAlive: -1}
	token, err := ejabberdtest.Admin(t).IssueToken(t.Context(), alice.Name, time.Hour)
	if err != nil {
		t.Fatalf("IssueToken: %v", err)
	}
	tests := []struct {
		name          string
		user, pw, tok string
		wantErr       error
	}{
		{"password", alice.Name, alice.Password, "", nil},
		{"token", alice.Name, "", token, nil},
		{"wrong password", alice.Name, alice.Password + "x", "", ErrNotAuthorized},
		{"unknown user", "nobody-" + alice.Name, "whatever", "", ErrNotAuthorized},
		{"bad token", alice.Name, "", "not-a-token", ErrNotAuthorized},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			cfg := base
			cfg.User, cfg.Password, cfg.Token = test.user, test.pw, test.tok
			c, err := Dial(t.Context(), cfg)
			if c != nil {
				defer c.Close(t.Context())
			}
			if !errors.Is(err, test.wantErr) || (err != nil && test.wantErr == nil) {
				t.Fatalf("Dial = %v, want %v", err, test.wantErr)
			}
			if err != nil && errors.Is(err, ErrNetwork) {
				t.Errorf("credential failure %v also matches ErrNetwork", err)
			}
		})
	}
}

func TestIntegrationDialCloseCycles(t *testing.T) {
	s := ejabberdtest.Shared(t)
	alice := ejabberdtest.NewUser(t)
	cfg := Config{Addr: s.C2SAddr(), Domain: s.Domain(), User: alice.Name, Password: alice.Password, TLS: TLSOff}
	warm, err := Dial(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	warm.Close(t.Context())
	baseG := waitGoroutines(t, 0)
	baseFD := openFDs(t)
	// ejabberd answers </stream:stream> after about 100 ms, so the 500
	// cycles run 10 at a time.
	const cycles, workers = 500, 10
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg := cfg
			cfg.Resource = fmt.Sprint("cycle-", w)
			for i := range cycles / workers {
				ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
				c, err := Dial(ctx, cfg)
				if err != nil {
					cancel()
					t.Errorf("worker %d cycle %d: Dial: %v", w, i, err)
					return
				}
				if err := c.Close(ctx); err != nil {
					t.Errorf("worker %d cycle %d: Close: %v", w, i, err)
				}
				cancel()
			}
		}()
	}
	wg.Wait()
	if g := waitGoroutines(t, baseG); g > baseG {
		t.Errorf("goroutines %d after %d cycles, want %d", g, cycles, baseG)
	}
	if fd := openFDs(t); fd > baseFD+2 {
		t.Errorf("open fds %d after %d cycles, want %d", fd, cycles, baseFD)
	}
}

// TestIntegrationRestart uses a server of its own, so it disturbs no other
// test. It freezes the server (SIGSTOP: sockets stay open, nothing answers)
// to check that the keepalive notices a dead peer, then stops and restarts
// it on the same spool.
func TestIntegrationRestart(t *testing.T) {
	s := ejabberdtest.Start(t)
	alice := ejabberdtest.NewUserOn(t, s)
	const interval = time.Second
	c := dialUser(t, s, alice, func(c *Config) { c.KeepAlive = interval })
	cfg := Config{Addr: s.C2SAddr(), Domain: s.Domain(), User: alice.Name, Password: alice.Password, TLS: TLSOff}

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	if err := syscall.Kill(s.PID(), syscall.SIGSTOP); err != nil {
		t.Fatalf("SIGSTOP: %v", err)
	}
	frozen := time.Now()
	select {
	case <-c.Done():
		if took := time.Since(frozen); took > 2*interval {
			t.Errorf("dead connection noticed after %v, want within %v", took, 2*interval)
		}
		if !errors.Is(c.Err(), ErrPingTimeout) {
			t.Errorf("end reason %v, want ErrPingTimeout", c.Err())
		}
	case <-time.After(4 * interval):
		t.Error("frozen server not noticed within four intervals")
	}
	if err := syscall.Kill(s.PID(), syscall.SIGCONT); err != nil {
		t.Fatalf("SIGCONT: %v", err)
	}

	// A clean stop ends a live stream at once.
	c2, err := Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("Dial after thaw: %v", err)
	}
	if err := s.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	select {
	case <-c2.Done():
		t.Logf("end reason after Stop: %v", c2.Err())
	case <-time.After(2 * interval):
		t.Error("server stop not noticed within two intervals")
	}
	if _, err := Dial(ctx, cfg); !errors.Is(err, ErrNetwork) {
		t.Errorf("Dial while the server is down = %v, want ErrNetwork", err)
	}
	if err := s.Restart(ctx); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	c3, err := Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("Dial after restart: %v", err)
	}
	if _, err := c3.RawIQ(ctx, "get", "", []byte("<ping xmlns='urn:xmpp:ping'/>")); err != nil {
		t.Errorf("ping after restart: %v", err)
	}
	c3.Close(ctx)
}
