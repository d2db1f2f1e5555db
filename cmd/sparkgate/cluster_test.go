package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/natstest"
	"github.com/sparkgate/sparkgate/internal/pgtest"
	"github.com/sparkgate/sparkgate/internal/rrproxy"
	"github.com/sparkgate/sparkgate/sse/ssetest"
)

// clusterLeaseTTL is the nodes' -lease-ttl in the cluster test: short, so
// that a dead node's users move quickly, long enough for renewals under
// the race detector on a loaded machine.
const clusterLeaseTTL = 3 * time.Second

// testCluster is three gateway processes on one NATS, one PostgreSQL and
// one data directory (one set of keys), behind a round-robin proxy.
type testCluster struct {
	t     *testing.T
	data  string
	env   []string
	nodes []*gatewayProcess
	addrs []string
	proxy *httptest.Server
	api   *gatewaytest.Client // through the proxy, retrying what a node that is down answers
	kv    jetstream.KeyValue  // the leases
}

func startCluster(t *testing.T, n int) *testCluster {
	ns := natstest.Start(t)
	c := &testCluster{t: t, data: t.TempDir(), env: []string{
		"SPARKGATE_NATS_URL=" + ns.URL,
		"SPARKGATE_STORE=" + pgtest.DSN(t),
		"SPARKGATE_LEASE_TTL=" + clusterLeaseTTL.String(),
	}}
	// The first node makes the keys the others then read.
	for range n {
		p := startGatewayProcess(t, c.data, "127.0.0.1:0", c.env...)
		c.nodes = append(c.nodes, p)
		c.addrs = append(c.addrs, p.addr)
	}
	var urls []*url.URL
	for _, a := range c.addrs {
		u, _ := url.Parse("http://" + a)
		urls = append(urls, u)
	}
	c.proxy = httptest.NewServer(rrproxy.New(urls))
	t.Cleanup(c.proxy.Close)
	c.api = &gatewaytest.Client{Base: c.proxy.URL, HTTP: &http.Client{Timeout: 30 * time.Second}}
	nc, err := nats.Connect(ns.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if c.kv, err = js.KeyValue(t.Context(), "sg_owner"); err != nil {
		t.Fatal(err)
	}
	return c
}

// restart stops every node (SIGTERM: a rolling upgrade's or an
// operator's restart) and starts each again on its address.
func (c *testCluster) restart() {
	for _, p := range c.nodes {
		select {
		case <-p.done: // killed already
		default:
			p.cmd.Process.Signal(syscall.SIGTERM)
			<-p.done
		}
	}
	for i, a := range c.addrs {
		c.nodes[i] = startGatewayProcess(c.t, c.data, a, c.env...)
	}
}

// do is a request through the proxy, made again while it answers 502 (the
// proxy reached a dead node) or 503 (the user's session is moving), as a
// client does, for up to 30 s.
func (c *testCluster) do(method, path, tok, ct, body string) gatewaytest.Response {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := c.api.DoContext(c.t.Context(), method, "/sparkweb/api/rest"+path, tok, ct, body)
		if err == nil && r.Status != http.StatusBadGateway && r.Status != http.StatusServiceUnavailable {
			return r
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s %s: %d %s %v", method, path, r.Status, r.Body, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (c *testCluster) ok(method, path, tok, ct, body string) gatewaytest.Response {
	c.t.Helper()
	r := c.do(method, path, tok, ct, body)
	if r.Status != http.StatusOK {
		c.t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Body)
	}
	return r
}

func (c *testCluster) login(u ejabberdtest.User) string {
	c.t.Helper()
	var g struct{ Token string }
	c.ok("POST", "/login/"+u.Name, "", "text/plain", u.Password).JSON(c.t, &g)
	return g.Token
}

// owner returns the index of the node holding user's lease, -1 for none.
func (c *testCluster) owner(user string) int {
	c.t.Helper()
	e, err := c.kv.Get(c.t.Context(), hex.EncodeToString([]byte(user)))
	if err != nil {
		return -1
	}
	var v struct{ Node string }
	if err := json.Unmarshal(e.Value(), &v); err != nil {
		c.t.Fatal(err)
	}
	for i, p := range c.nodes {
		if strings.Contains(v.Node, "-"+strconv.Itoa(p.cmd.Process.Pid)+"-") {
			return i
		}
	}
	return -1
}

// waitOwner waits until a live node other than not holds user's lease and
// returns it.
func (c *testCluster) waitOwner(user string, not int, within time.Duration) int {
	c.t.Helper()
	deadline := time.Now().Add(within)
	for {
		if o := c.owner(user); o >= 0 && o != not {
			return o
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("no live node took %s over within %v", user, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// tap is one event stream read into memory by a goroutine of its own
// (ended by close).
type tap struct {
	name   string
	mu     sync.Mutex
	events []ssetest.Event
	ended  chan struct{}
	s      *gatewaytest.Stream
}

// describe lists what the tap got: each event's id, name and the start
// of its data, for a failure's message.
func (tp *tap) describe() string {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	var b strings.Builder
	for _, ev := range tp.events {
		d := ev.Data
		if ev.Name == chatapi.EventXMPP {
			var x struct{ XMPP []byte }
			if json.Unmarshal([]byte(d), &x) == nil {
				d = string(x.XMPP)
			}
		}
		if len(d) > 700 {
			d = d[:700] + "…"
		}
		fmt.Fprintf(&b, "\n\t%s %s %s", ev.ID, ev.Name, d)
	}
	return b.String()
}

// openTap opens a raw stream of tok on base (a node, or the proxy),
// resuming after last when set, and reads it in the background.
func openTap(t *testing.T, name, base, tok, last string) *tap {
	t.Helper()
	cl := &gatewaytest.Client{Base: base, HTTP: &http.Client{}}
	var s *gatewaytest.Stream
	deadline := time.Now().Add(30 * time.Second)
	for {
		var r gatewaytest.Response
		s, r = cl.OpenRaw(t, tok, last)
		if r.Status == http.StatusOK {
			break
		}
		if (r.Status != http.StatusBadGateway && r.Status != http.StatusServiceUnavailable) || time.Now().After(deadline) {
			t.Fatalf("stream %s: %d %s", name, r.Status, r.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	tp := &tap{name: name, ended: make(chan struct{}), s: s}
	go func() {
		defer close(tp.ended)
		for {
			ev, err := s.TryNext(time.Minute)
			if err != nil {
				if strings.Contains(err.Error(), "no event within") {
					continue
				}
				return
			}
			tp.mu.Lock()
			tp.events = append(tp.events, ev)
			tp.mu.Unlock()
		}
	}()
	t.Cleanup(tp.close)
	tp.wait(t, func(ev ssetest.Event) bool { return ev.Name == chatapi.EventConnect }, 1, 15*time.Second)
	return tp
}

func (tp *tap) close() {
	tp.s.Close()
	<-tp.ended
}

// count returns how many events read so far match.
func (tp *tap) count(match func(ssetest.Event) bool) int {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	n := 0
	for _, ev := range tp.events {
		if match(ev) {
			n++
		}
	}
	return n
}

// wait waits until n events match.
func (tp *tap) wait(t *testing.T, match func(ssetest.Event) bool, n int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for tp.count(match) < n {
		if time.Now().After(deadline) {
			tp.mu.Lock()
			var names []string
			for _, ev := range tp.events {
				names = append(names, ev.Name+" "+ev.Data)
			}
			tp.mu.Unlock()
			t.Fatalf("stream %s: %d matching events within %v, want %d; it read:\n%s", tp.name, tp.count(match), within, n, strings.Join(names, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lastID is the id of the last event read.
func (tp *tap) lastID() string {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	for i := len(tp.events) - 1; i >= 0; i-- {
		if tp.events[i].ID != "" {
			return tp.events[i].ID
		}
	}
	return ""
}

// merged is a tap holding the events of taps, one after the other.
func merged(name string, taps ...*tap) *tap {
	m := &tap{name: name}
	for _, tp := range taps {
		tp.mu.Lock()
		m.events = append(m.events, tp.events...)
		tp.mu.Unlock()
	}
	return m
}

func named(name string, parts ...string) func(ssetest.Event) bool {
	return func(ev ssetest.Event) bool {
		if ev.Name != name {
			return false
		}
		for _, p := range parts {
			if !strings.Contains(ev.Data, p) {
				return false
			}
		}
		return true
	}
}

// rawHas matches a chatapi.xmpp event whose stanza holds text.
func rawHas(text string) func(ssetest.Event) bool {
	return func(ev ssetest.Event) bool {
		var x chatapi.XMPP
		return ev.Name == chatapi.EventXMPP && json.Unmarshal([]byte(ev.Data), &x) == nil && strings.Contains(string(x.XMPP), text)
	}
}

// TestIntegrationCluster: three gateway processes behind a round-robin
// proxy (issue 18), users spread over them by the proxy alone. Every kind
// of event the gateway makes (everyEventOnce lists them) arrives exactly
// once on each of the user's streams, those on the nodes that do not hold
// the user's session included, the events made by requests served on
// those nodes too. The node holding the receiver's session is
// SIGKILLed in the middle of a one-to-one conversation and a room's: the
// session moves to a live node within the lease's time with no request
// of the receiver's (its streams on the other nodes take it over), every
// message arrives exactly once on every stream, and the stream that was
// on the dead node resumes through the proxy by Last-Event-ID with a
// replay, not a reset. Then the whole cluster restarts: a stream resumed
// by Last-Event-ID gets what was sent while it was away, then live events.
//
// Not parallel: it kills nodes and uses short leases.
func TestIntegrationCluster(t *testing.T) {
	c := startCluster(t, 3)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tb := c.login(a), c.login(b)
	oa, ob := c.owner(a.JID), c.owner(b.JID)
	if oa < 0 || ob < 0 {
		t.Fatalf("owners after login: a on node %d, b on node %d", oa, ob)
	}
	t.Logf("a's session is on node %d, b's on node %d", oa+1, ob+1)
	// One raw stream per user on every node.
	var sa, sb []*tap
	for i, p := range c.nodes {
		sa = append(sa, openTap(t, fmt.Sprintf("a@node%d", i+1), "http://"+p.addr, ta, ""))
		sb = append(sb, openTap(t, fmt.Sprintf("b@node%d", i+1), "http://"+p.addr, tb, ""))
	}
	// Every kind of event, exactly once on every stream
	// (cluster_events_test.go).
	room := everyEventOnce(t, c, a, b, ta, tb, sa, sb, oa, ob)

	// Mid-conversation, the node holding b's session dies.
	chat := func(body string) { c.ok("POST", "/chat/message/"+b.Name, ta, "text/plain", body) }
	post := func(body string) { c.ok("POST", "/groupchat/room/"+room, ta, "text/plain", body) }
	var bodies []string
	for i := range 3 {
		bodies = append(bodies, fmt.Sprintf("before-%d", i))
		chat(bodies[len(bodies)-1])
	}
	// Three room messages in a row, the kill at once after them: the
	// session stores its room positions at most once a second, so the
	// store's is behind what the streams got (the event log's is not).
	for i := range 3 {
		bodies = append(bodies, fmt.Sprintf("room-before-%d", i))
		post(bodies[len(bodies)-1])
	}
	for _, tp := range sb {
		tp.wait(t, named(chatapi.EventMUC, "room-before-2"), 1, 20*time.Second)
	}
	dropped := sb[ob]
	lastSeen := dropped.lastID()
	killed := time.Now()
	c.nodes[ob].kill()
	<-dropped.ended
	sb[ob] = nil
	for i := range 3 {
		bodies = append(bodies, fmt.Sprintf("after-%d", i), fmt.Sprintf("room-after-%d", i))
		chat(bodies[len(bodies)-2])
		post(bodies[len(bodies)-1])
	}
	nb := c.waitOwner(b.JID, ob, 4*clusterLeaseTTL)
	moved := time.Since(killed)
	t.Logf("b's session moved from node %d to node %d %v after the kill (lease %v)", ob+1, nb+1, moved.Round(time.Millisecond), clusterLeaseTTL)
	resumed := openTap(t, "b resumed through the proxy", c.proxy.URL, tb, lastSeen)
	survivors := []*tap{resumed}
	for _, tp := range sb {
		if tp != nil {
			survivors = append(survivors, tp)
		}
	}
	for _, tp := range survivors {
		tp.wait(t, named(chatapi.EventMUC, "room-after-2"), 1, 30*time.Second)
		tp.wait(t, named(chatapi.EventChat, `"body":"after-2"`), 1, 30*time.Second)
	}
	t.Logf("every message sent after the kill reached b's streams %v after it", (time.Since(killed)).Round(time.Millisecond))
	if moved > 3*clusterLeaseTTL {
		t.Errorf("b's session moved %v after the kill, want within about the lease's %v", moved, clusterLeaseTTL)
	}
	time.Sleep(500 * time.Millisecond)
	tally := func(tp *tap, bodies []string) (lost, doubled []string) {
		for _, body := range bodies {
			n := tp.count(func(ev ssetest.Event) bool {
				return (ev.Name == chatapi.EventChat || ev.Name == chatapi.EventMUC) && strings.Contains(ev.Data, `"body":"`+body+`"`)
			})
			switch {
			case n == 0:
				lost = append(lost, body)
			case n > 1:
				doubled = append(doubled, fmt.Sprintf("%s×%d", body, n))
			}
		}
		return lost, doubled
	}
	for _, tp := range survivors {
		if tp == resumed { // what the stream got before it dropped, then after
			tp = merged(tp.name, dropped, resumed)
		}
		lost, doubled := tally(tp, bodies)
		if len(lost) > 0 || len(doubled) > 0 {
			t.Errorf("stream %s: lost %v, duplicated %v", tp.name, lost, doubled)
		}
		if n := tp.count(named(chatapi.EventReset)); n > 0 {
			t.Errorf("stream %s got %d chatapi.reset; a resume must replay", tp.name, n)
		}
	}
	if n := resumed.count(named(chatapi.EventConnect, `"resumed":true`)); n != 1 {
		t.Errorf("the resumed stream's onConnect says resumed %d times, want once", n)
	}
	t.Logf("node killed: %d messages (one-to-one and room) on %d streams of b, 0 lost, 0 duplicated, no reset", len(bodies), len(survivors))

	// The whole cluster restarts; a stream resumes with its Last-Event-ID.
	last := survivors[1].lastID()
	for _, tp := range survivors {
		tp.close()
	}
	chat("while-away")
	for _, tp := range sa {
		if tp != nil {
			tp.close()
		}
	}
	c.restart()
	back := openTap(t, "b after the cluster's restart", c.proxy.URL, tb, last)
	back.wait(t, named(chatapi.EventChat, `"body":"while-away"`), 1, 30*time.Second)
	chat("after-restart")
	back.wait(t, named(chatapi.EventChat, `"body":"after-restart"`), 1, 30*time.Second)
	time.Sleep(300 * time.Millisecond)
	if lost, doubled := tally(back, []string{"while-away", "after-restart"}); len(lost) > 0 || len(doubled) > 0 {
		t.Errorf("after the restart: lost %v, duplicated %v; the stream got %s", lost, doubled, back.describe())
	}
	if lost, doubled := tally(back, bodies); len(doubled) > 0 || len(lost) != len(bodies) {
		t.Errorf("after the restart the stream got again what it had: %v", doubled)
	}
	if n := back.count(named(chatapi.EventReset)); n > 0 {
		t.Errorf("the stream resumed after the cluster's restart got a chatapi.reset; want a replay")
	}
}
