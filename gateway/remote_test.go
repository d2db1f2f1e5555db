package gateway_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
	"github.com/sparkgate/sparkgate/internal/natstest"
	"github.com/sparkgate/sparkgate/internal/pgtest"
	"github.com/sparkgate/sparkgate/lease"
	"github.com/sparkgate/sparkgate/noderpc"
)

// lease.Owner tells the gateway who holds a user's lease (a logout on a
// non-owner node goes there).
var _ interface {
	Holder(ctx context.Context, user string) (string, error)
} = lease.Owner{}

// withRemote is withOwnership plus Peers, as cmd/sparkgate wires
// -nats-url: a request for a user another node owns reaches the session
// there. wrap, when not nil, changes the node's Peers.
func withRemote(t *testing.T, url string, ttl time.Duration, nc **nats.Conn, wrap func(gateway.Peers) gateway.Peers) func(*gateway.Config) {
	own := withOwnership(t, url, ttl, nc)
	return func(c *gateway.Config) {
		own(c)
		node := c.Ownership.(lease.Owner).Leases.Node()
		var p gateway.Peers = noderpc.New(*nc, noderpc.Config{Node: node, Unreachable: gateway.ErrNodeUnreachable, Lost: gateway.ErrNodeLost})
		if wrap != nil {
			p = wrap(p)
		}
		c.Peers = p
	}
}

// remoteNodes starts two nodes on a NATS of their own and one store, with
// remote sessions; mod1 and mod2 change each node's configuration.
func remoteNodes(t *testing.T, ttl time.Duration, mod1, mod2 func(*gateway.Config), wrap1 func(gateway.Peers) gateway.Peers) (n1, n2 *env, nc1 *nats.Conn) {
	t.Helper()
	ns := natstest.Start(t)
	o := gatewayenv.Options{Plain: true, Dir: t.TempDir(), Store: pgtest.DSN(t)}
	var nc2 *nats.Conn
	o.Config = chain(withRemote(t, ns.URL, ttl, &nc1, wrap1), mod1)
	n1 = startEnv(t, o)
	o.Config = chain(withRemote(t, ns.URL, ttl, &nc2, nil), mod2)
	n2 = startEnv(t, o)
	return n1, n2, nc1
}

func chain(fs ...func(*gateway.Config)) func(*gateway.Config) {
	return func(c *gateway.Config) {
		for _, f := range fs {
			if f != nil {
				f(c)
			}
		}
	}
}

// TestIntegrationRemoteSession: a user logged in on node 1 is served on
// node 2 through the session on node 1 — a stream on node 2 gets what
// node 1's session receives, a message sent on node 2 reaches
// a plain XMPP client, the roster written and read on node 2 is node 1's,
// the archive read on node 2 has the message, a missing room is the same
// 404 on both nodes — and after the logout no goroutine is left over.
func TestIntegrationRemoteSession(t *testing.T) {
	n1, n2, _ := remoteNodes(t, 5*time.Second, nil, nil, nil)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	bc := availableClient(t, ejabberdtest.Shared(t), b)

	// A first round sets up what stays (NATS reply subscriptions, pools).
	w := ejabberdtest.NewUser(t)
	tw := n1.Login(t, w.Name, w.Password)
	if r := n2.Do(t, "GET", api+"/roster", tw, "", ""); r.Status != 200 {
		t.Fatalf("warm-up roster on node 2: %d %s", r.Status, r.Body)
	}
	if r := n1.Do(t, "POST", api+"/logout", tw, "", ""); r.Status != 200 {
		t.Fatalf("warm-up logout: %d %s", r.Status, r.Body)
	}
	base := settledGoroutines(0)

	ta := n1.Login(t, a.Name, a.Password)
	// A stream on node 2 follows the events node 1's session appends.
	s2, r := n2.Open(t, ta, "")
	if r.Status != 200 {
		t.Fatalf("stream on node 2: %d %s", r.Status, r.Body)
	}
	s2.NextNamed(t, chatapi.EventConnect, 5*time.Second, nil)
	// Sent on node 2, from the session on node 1.
	if r := n2.Do(t, "POST", api+"/chat/message/"+b.Name, ta, "text/plain", "across nodes"); r.Status != 200 {
		t.Fatalf("send on node 2: %d %s", r.Status, r.Body)
	}
	plainUntil(t, bc, "across nodes", "from='"+a.JID+"/")
	if r := n2.Do(t, "POST", api+"/chat/chatstate/composing/"+b.Name, ta, "", ""); r.Status != 200 {
		t.Fatalf("chat state on node 2: %d %s", r.Status, r.Body)
	}
	plainUntil(t, bc, "composing", "from='"+a.JID+"/")

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := bc.SendRaw(ctx, []byte("<message type='chat' to='"+a.JID+"'><body>back to node 2</body></message>")); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		var c chatapi.Chat
		s2.NextNamed(t, chatapi.EventChat, 10*time.Second, &c)
		if c.Body == "back to node 2" {
			break
		}
		if i > 20 {
			t.Fatal("the stream on node 2 never got the message")
		}
	}
	s2.Close()

	// The roster written on node 2 is node 1's, and reads the same on both.
	if r := n2.Do(t, "POST", api+"/roster", ta, "application/json", `{"jid":"`+b.JID+`","nickname":"Remote Bee","subscriptionType":0,"groups":["far"]}`); r.Status != 200 {
		t.Fatalf("roster add on node 2: %d %s", r.Status, r.Body)
	}
	for i, n := range []*env{n1, n2} {
		r := n.Do(t, "GET", api+"/roster", ta, "", "")
		if r.Status != 200 || !strings.Contains(string(r.Body), "Remote Bee") {
			t.Fatalf("roster on node %d: %d %s", i+1, r.Status, r.Body)
		}
	}

	// The archive read on node 2 is the session's on node 1.
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := n2.Do(t, "GET", api+"/chat/messages?to="+url.QueryEscape(b.JID), ta, "", "")
		if r.Status != 200 {
			t.Fatalf("archive on node 2: %d %s", r.Status, r.Body)
		}
		if strings.Contains(string(r.Body), "across nodes") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("archive on node 2 never had the message: %s", r.Body)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// A raw stanza sent on node 2 by the session on node 1: an IQ's
	// reply comes back; a stanza the owner's check refuses is the same
	// 400 as there.
	var iq struct{ Xmpp []byte }
	ver := n2.Do(t, "POST", api+"/xmpp", ta, "text/plain", "<iq type='get' id='v1' to='"+b.Domain+"'><query xmlns='jabber:iq:version'/></iq>")
	ver.JSON(t, &iq)
	if ver.Status != 200 || !strings.Contains(string(iq.Xmpp), "jabber:iq:version") {
		t.Fatalf("raw IQ on node 2: %d %s", ver.Status, ver.Body)
	}
	if r := n2.Do(t, "POST", api+"/xmpp", ta, "text/plain", "<message><body>x</body></message><message/>"); r.Status != http.StatusBadRequest {
		t.Fatalf("two stanzas on node 2: %d %s, want 400", r.Status, r.Body)
	}
	if r := n2.Do(t, "POST", api+"/xmpp", ta, "text/plain", "<message to='"+b.JID+"' type='chat'><body>raw across</body></message>"); r.Status != 200 || strings.TrimSpace(string(r.Body)) != "{}" {
		t.Fatalf("raw message on node 2: %d %s", r.Status, r.Body)
	}
	plainUntil(t, bc, "raw across", "from='"+a.JID+"/")

	// Presence and a displayed marker, set on node 2.
	if r := n2.Do(t, "POST", api+"/presence?show=away&status="+url.QueryEscape("far away"), ta, "", ""); r.Status != 200 {
		t.Fatalf("presence on node 2: %d %s", r.Status, r.Body)
	}
	if r := n2.Do(t, "GET", api+"/presence/"+url.PathEscape(a.JID), ta, "", ""); r.Status != 200 || !strings.Contains(string(r.Body), `"show":"away"`) || !strings.Contains(string(r.Body), `"status":"far away"`) {
		t.Fatalf("own presence read on node 2: %d %s", r.Status, r.Body)
	}
	if r := n2.Do(t, "POST", api+"/chat/displayed/"+b.Name+"?id=m-1", ta, "", ""); r.Status != 200 {
		t.Fatalf("displayed on node 2: %d %s", r.Status, r.Body)
	}
	plainUntil(t, bc, "urn:xmpp:chat-markers:0", "m-1")

	// A room joined, written to and left on node 2, by the session on
	// node 1; the plain client is in the room too.
	room := "remote" + strings.ToLower(a.Name[1:9])
	roomJID := room + "@" + ejabberdtest.Shared(t).MUCService()
	rp := api + "/groupchat/room/" + room
	if r := n2.Do(t, "PUT", rp+"?nick=alice", ta, "", ""); r.Status != 200 {
		t.Fatalf("join on node 2: %d %s", r.Status, r.Body)
	}
	if _, in := n1.gw.SessionRooms(a.JID)[roomJID]; !in {
		t.Fatalf("node 1's session is not in %s after the join on node 2: %v", roomJID, n1.gw.SessionRooms(a.JID))
	}
	plainJoin(t, bc, roomJID, "bee")
	hello := n2.Do(t, "POST", rp, ta, "text/plain", "hello room")
	if hello.Status != 200 {
		t.Fatalf("room message on node 2: %d %s", hello.Status, hello.Body)
	}
	sid := roomStanzaID.FindStringSubmatch(plainUntil(t, bc, "hello room", "from='"+roomJID+"/alice'"))
	if sid == nil {
		t.Fatal("the room's copy has no stanza-id")
	}
	// Its correction, reactions, an answer and a retraction, asked on
	// node 2 (the room verbs' remote forms).
	var first struct{ ID string }
	hello.JSON(t, &first)
	for _, c := range []struct{ method, path, ct, body, plain string }{
		{"PUT", rp + "/message/" + first.ID, "text/plain", "hello, room", "<replace xmlns='urn:xmpp:message-correct:0' id='" + first.ID + "'"},
		{"PUT", rp + "/reactions/" + sid[1], "application/json", `["👋"]`, "<reactions xmlns='urn:xmpp:reactions:0' id='" + sid[1] + "'"},
		{"POST", rp + "?replyTo=" + sid[1], "text/plain", "me again", "<reply xmlns='urn:xmpp:reply:0' id='" + sid[1] + "'"},
		{"DELETE", rp + "/message/" + sid[1], "", "", "<retract xmlns='urn:xmpp:message-retract:1' id='" + sid[1] + "'"},
	} {
		if r := n2.Do(t, c.method, c.path, ta, c.ct, c.body); r.Status != 200 {
			t.Fatalf("%s %s on node 2: %d %s", c.method, c.path, r.Status, r.Body)
		}
		plainUntil(t, bc, c.plain, "from='"+roomJID+"/alice'")
	}
	if r := n2.Do(t, "GET", rp, ta, "", ""); r.Status != 200 {
		t.Fatalf("room on node 2: %d %s", r.Status, r.Body)
	}
	if r := n2.Do(t, "DELETE", rp, ta, "", ""); r.Status != 200 {
		t.Fatalf("leave on node 2: %d %s", r.Status, r.Body)
	}
	plainUntil(t, bc, "from='"+roomJID+"/alice'", "unavailable")

	// What the hop to the owner adds to a roster read (logged).
	median := func(n *env) time.Duration {
		var ds []time.Duration
		for range 21 {
			start := time.Now()
			if r := n.Do(t, "GET", api+"/roster", ta, "", ""); r.Status != 200 {
				t.Fatalf("roster: %d %s", r.Status, r.Body)
			}
			ds = append(ds, time.Since(start))
		}
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	local, remote := median(n1), median(n2)
	t.Logf("GET /roster median: %v on the owner, %v on the other node (+%v)", local, remote, remote-local)

	// An error is the same on either node.
	path := api + "/groupchat/room/no-such-room-" + strings.ToLower(a.Name)
	r1, r2 := n1.Do(t, "GET", path, ta, "", ""), n2.Do(t, "GET", path, ta, "", "")
	if r1.Status != r2.Status || r1.Status < 400 {
		t.Fatalf("missing room: node 1 %d %s, node 2 %d %s", r1.Status, r1.Body, r2.Status, r2.Body)
	}

	// A login on node 2 joins the session on node 1 (a wrong password
	// is still refused there), and its logout on node 2 reaches node 1:
	// with the logout of the first login on node 1, the session closes.
	if r := n2.Do(t, "POST", api+"/login/"+a.Name, "", "text/plain", "wrong password"); r.Status != http.StatusUnauthorized {
		t.Fatalf("wrong password on node 2: %d %s", r.Status, r.Body)
	}
	tb2 := n2.Login(t, a.Name, a.Password)
	if r := n2.Do(t, "POST", api+"/chat/message/"+b.Name, tb2, "text/plain", "second login"); r.Status != 200 {
		t.Fatalf("send with the login on node 2: %d %s", r.Status, r.Body)
	}
	plainUntil(t, bc, "second login")
	if r := n2.Do(t, "POST", api+"/logout", tb2, "", ""); r.Status != 200 {
		t.Fatalf("logout on node 2: %d %s", r.Status, r.Body)
	}
	if n1.gw.SessionRooms(a.JID) == nil {
		t.Fatal("the logout on node 2 closed node 1's session, which has another login")
	}
	if r := n1.Do(t, "POST", api+"/logout", ta, "", ""); r.Status != 200 {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	for deadline := time.Now().Add(5 * time.Second); n1.gw.SessionRooms(a.JID) != nil; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("node 1's session outlived the logout of both logins")
		}
	}
	if got := settledGoroutines(base); got > base {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines after the logout, %d before the login:\n%s", got, base, buf[:runtime.Stack(buf, true)])
	}
}

// settledGoroutines waits up to 10 s for the goroutine count (ownGoroutines)
// to fall to want (0: until it stops falling) and returns it.
func settledGoroutines(want int) int {
	n := ownGoroutines()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
		m := ownGoroutines()
		if (want > 0 && m <= want) || (want == 0 && m >= n) {
			return m
		}
		n = m
	}
	return n
}

// ownGoroutines counts the process's goroutines but pgx's background
// readers: pgconn starts one while it writes a query, and a stopped one
// stays blocked in its read of an idle pooled connection until the server
// next sends something (pgx v5.13.0, pgconn/internal/bgreader), so whether
// one is there says nothing about the gateway (a fresh clone's make test
// counted one more after the logout than before the login).
func ownGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for g := range bytes.SplitSeq(buf, []byte("\n\n")) {
		if len(bytes.TrimSpace(g)) > 0 && !bytes.Contains(g, []byte("pgconn/internal/bgreader")) {
			count++
		}
	}
	return count
}

// slowPeers delays each request it serves.
type slowPeers struct {
	gateway.Peers
	delay time.Duration
}

func (p slowPeers) Serve(h func(ctx context.Context, req []byte) []byte) (func(), error) {
	return p.Peers.Serve(func(ctx context.Context, req []byte) []byte {
		select {
		case <-time.After(p.delay):
		case <-ctx.Done():
		}
		return h(ctx, req)
	})
}

// TestIntegrationRemoteSessionSlowOwner: an owner that does not answer
// within the request's time is a 504 on the other node, in that time.
func TestIntegrationRemoteSessionSlowOwner(t *testing.T) {
	n1, n2, _ := remoteNodes(t, 5*time.Second, nil,
		func(c *gateway.Config) { c.Messaging.Timeout = time.Second },
		func(p gateway.Peers) gateway.Peers { return slowPeers{p, 5 * time.Second} })
	a := ejabberdtest.NewUser(t)
	ta := n1.Login(t, a.Name, a.Password)
	start := time.Now()
	r := n2.Do(t, "GET", api+"/roster", ta, "", "")
	if r.Status != http.StatusGatewayTimeout || time.Since(start) > 3*time.Second {
		t.Fatalf("roster on node 2 from a slow owner: %d %s after %v, want 504 after about 1s", r.Status, r.Body, time.Since(start))
	}
	if r := n1.Do(t, "GET", api+"/roster", ta, "", ""); r.Status != 200 {
		t.Fatalf("roster on node 1 itself: %d %s", r.Status, r.Body)
	}
}

// TestIntegrationRemoteSessionOwnerGone: node 1, the owner, is cut off
// NATS (as a dead node is): a call on node 2 answers 503 with Retry-After
// while node 1's lease lasts, then node 2 takes the user over and the
// call goes through there.
func TestIntegrationRemoteSessionOwnerGone(t *testing.T) {
	const ttl = 2 * time.Second
	var node1 string
	n1, n2, nc1 := remoteNodes(t, ttl, func(c *gateway.Config) { node1 = c.Ownership.(lease.Owner).Leases.Node() }, nil, nil)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	bc := availableClient(t, ejabberdtest.Shared(t), b)
	ta := n1.Login(t, a.Name, a.Password)
	if r := n2.Do(t, "POST", api+"/chat/message/"+b.Name, ta, "text/plain", "before"); r.Status != 200 {
		t.Fatalf("send on node 2: %d %s", r.Status, r.Body)
	}
	plainUntil(t, bc, "before")

	// A dead node's connection closes; until the NATS server has read
	// that, it routes requests to it, where they wait for their deadline
	// (504). The requests below are to meet a node NATS knows is gone.
	probe, err := nats.Connect(nc1.ConnectedUrl())
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	nc1.Close()
	for deadline := time.Now().Add(10 * time.Second); ; {
		_, err := probe.Request(noderpc.Subject(node1), nil, 200*time.Millisecond)
		if errors.Is(err, nats.ErrNoResponders) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("NATS still routes to node 1 after its connection closed: %v", err)
		}
	}
	gap := 0
	deadline := time.Now().Add(ttl + 10*time.Second)
	for {
		r := n2.Do(t, "POST", api+"/chat/message/"+b.Name, ta, "text/plain", "after")
		if r.Status == 200 {
			break
		}
		if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
			t.Fatalf("send on node 2 with node 1 gone: %d %s (Retry-After %q), want 503 with Retry-After or 200",
				r.Status, r.Body, r.Header.Get("Retry-After"))
		}
		gap++
		if time.Now().After(deadline) {
			t.Fatalf("node 2 never took the user over: %s", r.Body)
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("%d answers of 503 before node 2 took the user over", gap)
	plainUntil(t, bc, "after")
}

// TestIntegrationRemoteSessionStreamHolds: an event stream on node 2 keeps
// the session on node 1 from its idle grace, as a stream on node 1 would;
// once it ends, the grace runs out and the session closes.
func TestIntegrationRemoteSessionStreamHolds(t *testing.T) {
	const grace = 3 * time.Second
	short := func(c *gateway.Config) { c.Sessions.IdleTimeout = grace }
	n1, n2, _ := remoteNodes(t, 5*time.Second, short, short, nil)
	a := ejabberdtest.NewUser(t)
	ta := n1.Login(t, a.Name, a.Password)
	s2, r := n2.Open(t, ta, "")
	if r.Status != 200 {
		t.Fatalf("stream on node 2: %d %s", r.Status, r.Body)
	}
	s2.NextNamed(t, chatapi.EventConnect, 5*time.Second, nil)
	time.Sleep(3 * grace)
	if n1.gw.SessionRooms(a.JID) == nil {
		t.Fatal("node 1's session idled out while a stream on node 2 was open")
	}
	s2.Close()
	for deadline := time.Now().Add(3 * grace); n1.gw.SessionRooms(a.JID) != nil; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("node 1's session outlived its grace after the stream on node 2 ended")
		}
	}
}

// TestIntegrationRemoteRawWanted: a raw stream (?raw=true) on a node that
// does not hold the user's session turns raw XML events on in the owner's
// session, which a default stream there had turned off
// (xmppconn/rawwanted.go): the message after it reaches the raw stream
// raw too.
func TestIntegrationRemoteRawWanted(t *testing.T) {
	raw := func(c *gateway.Config) { c.Sessions.RawEvents = true }
	n1, n2, _ := remoteNodes(t, 5*time.Second, raw, raw, nil)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tb := n1.Login(t, a.Name, a.Password), n1.Login(t, b.Name, b.Password) // the sessions open on node 1
	lean := n1.OpenConnected(t, ta, "")
	rawSay(t, n1, tb, a.Name, "off")
	if raws, _ := rawUntilChat(t, lean, "off"); len(raws) != 0 {
		t.Errorf("a default stream got chatapi.xmpp: %q", raws)
	}
	s, r := n2.OpenRaw(t, ta, "")
	if r.Status != 200 {
		t.Fatalf("raw stream on node 2: %d %s", r.Status, r.Body)
	}
	s.NextNamed(t, chatapi.EventConnect, 10*time.Second, nil)
	rawSay(t, n1, tb, a.Name, "on")
	raws, _ := rawUntilChat(t, s, "on")
	if !slices.ContainsFunc(raws, func(x string) bool { return strings.Contains(x, "<body>on</body>") }) {
		t.Errorf("the raw stream on node 2 got no raw event of a message after it opened: %q", raws)
	}
}
