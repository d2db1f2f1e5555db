package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/bookmark"
	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
	"github.com/sparkgate/sparkgate/store"
)

// node is one gateway process, simulated in-process: its store and keys
// live in dir, so a second node on the same dir is the same gateway
// restarted.
type node struct {
	*env
}

// startNode starts a gateway on the store and keys in dir (created when
// missing), like newGateway does on a fresh dir.
func startNode(t *testing.T, dir string, mod func(*gateway.Config)) *node {
	t.Helper()
	return &node{startEnv(t, gatewayenv.Options{Plain: true, Dir: dir, Config: mod})}
}

// startNodeStore is startNode with a mod that also gets the node's store,
// e.g. to keep bookmarks and properties in it.
func startNodeStore(t *testing.T, dir string, mod func(*gateway.Config, *store.SQLite)) *node {
	t.Helper()
	var setup func(*gateway.Config, *store.SQLite, *auth.Keys)
	if mod != nil {
		setup = func(c *gateway.Config, st *store.SQLite, _ *auth.Keys) { mod(c, st) }
	}
	return &node{startEnv(t, gatewayenv.Options{Plain: true, Dir: dir, Setup: setup})}
}

// tally counts the one-to-one messages of a fault test by body.
type tally struct {
	mu   sync.Mutex
	sent []string
	got  map[string][]delivery
}

// delivery is one chat event carrying a message.
type delivery struct {
	stanzaID   string
	afterReset bool // a chatapi.reset came earlier on the same stream
	reloaded   bool // found in the archive when the client reloaded it
}

func newTally() *tally { return &tally{got: make(map[string][]delivery)} }

func (tl *tally) send(body string) {
	tl.mu.Lock()
	tl.sent = append(tl.sent, body)
	tl.mu.Unlock()
}

func (tl *tally) deliver(body string, d delivery) {
	tl.mu.Lock()
	tl.got[body] = append(tl.got[body], d)
	tl.mu.Unlock()
}

// complete reports whether every sent message was delivered at least once.
func (tl *tally) complete() bool {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	for _, b := range tl.sent {
		if len(tl.got[b]) == 0 {
			return false
		}
	}
	return true
}

// report logs the figures and fails the test on a loss or a duplicate. A
// second delivery of a message is a replay, not a duplicate, when it
// follows a chatapi.reset (the client was told that what follows may
// overlap what it has) and carries the same archive id as the first (so
// the client recognizes it); anything else delivered twice is a duplicate.
func (tl *tally) report(t *testing.T, what string) {
	t.Helper()
	tl.mu.Lock()
	defer tl.mu.Unlock()
	var delivered, dup, replayed, onStream int
	var lost, doubled []string
	for _, b := range tl.sent {
		ds := tl.got[b]
		if len(ds) == 0 {
			lost = append(lost, b)
			continue
		}
		delivered++
		if slices.ContainsFunc(ds, func(d delivery) bool { return !d.reloaded }) {
			onStream++
		}
		for i, d := range ds[1:] {
			if d.afterReset && d.stanzaID != "" && slices.ContainsFunc(ds[:i+1], func(e delivery) bool { return e.stanzaID == d.stanzaID }) {
				replayed++
				continue
			}
			dup++
			doubled = append(doubled, fmt.Sprintf("%s %+v", b, ds))
		}
	}
	var unknown []string
	for b := range tl.got {
		if !slices.Contains(tl.sent, b) {
			unknown = append(unknown, b)
		}
	}
	sort.Strings(unknown)
	t.Logf("%s: sent %d, delivered %d, duplicated %d, lost %d (on the stream %d, only through the client's archive reload "+
		"after a reset %d; delivered again after a reset with the same archive id %d)",
		what, len(tl.sent), delivered, dup, len(lost), onStream, delivered-onStream, replayed)
	if onStream != delivered {
		// The gateway replays what its new session caught up on after the
		// reset: a message that only the client's own archive reload
		// found was missing from the stream.
		t.Errorf("%s: %d messages reached the client only through its archive reload", what, delivered-onStream)
	}
	if len(lost) > 0 || dup > 0 || len(unknown) > 0 {
		t.Errorf("%s: lost %v, duplicated %v, unexpected %v", what, lost, doubled, unknown)
	}
}

// collect reads chat events from s into tl until every sent message
// arrived and then quiet passed without another chat event, or until d.
// It returns the id of the last complete event read, the names of the
// events, and whether the stream ended.
func collect(t *testing.T, s *gatewaytest.Stream, tl *tally, quiet, d time.Duration, onReset func()) (lastID string, names []string, ended bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	reset := false
	for time.Now().Before(deadline) {
		wait := time.Until(deadline)
		if tl.complete() && wait > quiet {
			wait = quiet
		}
		ev, err := s.TryNext(wait)
		if err != nil {
			if strings.Contains(err.Error(), "no event within") {
				if tl.complete() {
					return lastID, names, false
				}
				continue
			}
			return lastID, names, true
		}
		if ev.ID != "" {
			lastID = ev.ID
		}
		names = append(names, ev.Name)
		if ev.Name == chatapi.EventReset {
			reset = true
			if onReset != nil {
				onReset()
			}
		}
		if ev.Name != chatapi.EventChat {
			continue
		}
		var c chatapi.Chat
		if err := json.Unmarshal([]byte(ev.Data), &c); err != nil {
			t.Fatalf("chat event %q: %v", ev.Data, err)
		}
		if c.Body == "" || c.Sent || c.Type == "chatstate" {
			continue
		}
		tl.deliver(c.Body, delivery{stanzaID: c.StanzaID, afterReset: reset})
	}
	return lastID, names, false
}

// reload is what a client does on chatapi.reset: it reloads the
// conversation with peer from the archive, adding what it did not have
// (by archive id) to tl.
func (tl *tally) reload(t *testing.T, e *env, token, peer string) {
	t.Helper()
	r := e.Do(t, "GET", api+"/chat/messages?max=200&to="+url.QueryEscape(peer), token, "", "")
	if r.Status != 200 {
		t.Fatalf("archive: %d %s", r.Status, r.Body)
	}
	var cs gateway.Conversations
	r.JSON(t, &cs)
	tl.mu.Lock()
	defer tl.mu.Unlock()
	for _, c := range cs.Conversations {
		if c.Messages == nil {
			continue
		}
		for _, m := range *c.Messages {
			if m.Body == nil || m.StanzaId == nil || !slices.Contains(tl.sent, *m.Body) {
				continue
			}
			if slices.ContainsFunc(tl.got[*m.Body], func(d delivery) bool { return d.stanzaID == *m.StanzaId }) {
				continue
			}
			tl.got[*m.Body] = append(tl.got[*m.Body], delivery{stanzaID: *m.StanzaId, afterReset: true, reloaded: true})
		}
	}
}

// TestIntegrationFaultGatewayRestart: the gateway is killed while a user
// holds a stream, messages are sent to the user while it is down, and a
// new gateway on the same store and keys takes over. The user comes back
// with the same token — first with the stream (resuming with its
// Last-Event-ID), or first with an API request — and the session is
// re-opened by it: the messages sent meanwhile arrive from the archive,
// once, on the stream.
func TestIntegrationFaultGatewayRestart(t *testing.T) {
	for _, requestFirst := range []bool{false, true} {
		name := "stream-first"
		if requestFirst {
			name = "request-first"
		}
		t.Run(name, func(t *testing.T) { gatewayRestart(t, requestFirst) })
	}
}

func gatewayRestart(t *testing.T, requestFirst bool) {
	dir := t.TempDir()
	sender := newGateway(t, nil)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta := sender.Login(t, a.Name, a.Password)
	// The first gateway reaches ejabberd through a proxy, so that its
	// death can drop its XMPP connections without a closing </stream>,
	// as the death of the process would.
	xp := newCutProxy(t, ejabberdtest.Shared(t).C2SAddr())
	first := startNode(t, dir, func(c *gateway.Config) { c.XMPP.Addr = xp.ln.Addr().String() })
	tb := first.Login(t, b.Name, b.Password)
	s1, _ := first.Open(t, tb, "")
	s1.NextNamed(t, chatapi.EventConnect, 5*time.Second, nil)

	tl := newTally()
	send := func(phase string, n int) {
		t.Helper()
		for i := range n {
			body := fmt.Sprintf("m-%s-%d", phase, i)
			tl.send(body)
			if r := sender.Do(t, "POST", api+"/chat/message/"+b.Name, ta, "text/plain", body); r.Status != 200 {
				t.Fatalf("send %s: %d %s", body, r.Status, r.Body)
			}
		}
	}
	const perPhase = 5
	send("before", perPhase)
	last, _, _ := collect(t, s1, tl, 300*time.Millisecond, 10*time.Second, nil)
	if !tl.complete() {
		t.Fatalf("before the restart: %v of %d", tl.got, perPhase)
	}

	first.Server.CloseClientConnections()
	xp.close()
	first.Kill()
	// The stream ends with the process: events still on their way from
	// before the kill (an unread count trailing its message) may come
	// first, then the cut connection; a stream still open after 5 s
	// outlived its gateway.
	for deadline := time.Now().Add(5 * time.Second); ; {
		ev, err := s1.TryNext(time.Until(deadline))
		if err != nil {
			if time.Now().After(deadline) {
				t.Errorf("the stream outlived the kill: %v", err)
			}
			break
		}
		t.Logf("after the kill, an event sent before it: %s", ev.Name)
	}
	send("down", perPhase)

	second := startNode(t, dir, nil)
	if requestFirst {
		// The old token works on the new gateway and re-opens the session.
		if r := second.Do(t, "GET", api+"/roster", tb, "", ""); r.Status != 200 {
			t.Fatalf("roster on the new gateway: %d %s", r.Status, r.Body)
		}
		// Let the session's archive catch-up finish before any stream
		// is open: nothing signals it to a client, so give it time.
		time.Sleep(time.Second)
	}
	s2, r := second.Open(t, tb, last)
	if r.Status != 200 {
		t.Fatalf("resume on the new gateway: %d %s", r.Status, r.Body)
	}
	var hello chatapi.Connect
	s2.NextNamed(t, chatapi.EventConnect, 5*time.Second, &hello)
	send("after", perPhase)
	_, names, _ := collect(t, s2, tl, time.Second, 20*time.Second, func() { tl.reload(t, second.env, tb, a.JID) })
	t.Logf("events after the restart: %v", names)
	tl.report(t, "gateway restart")
}

// cutProxy is a loopback TCP proxy in front of a gateway that, when armed,
// forwards only the first part of the next chat event and then cuts both
// connections, as a network failure in the middle of an event would.
type cutProxy struct {
	ln     net.Listener
	target string
	armed  atomic.Bool
	cuts   chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, cuts: make(chan struct{}, 16), conns: make(map[net.Conn]struct{})}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *cutProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *cutProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		if !p.track(c) || !p.track(up) {
			c.Close()
			up.Close()
			return
		}
		p.wg.Add(2)
		go func() {
			defer p.wg.Done()
			io.Copy(up, c)
			up.Close()
		}()
		go func() {
			defer p.wg.Done()
			defer c.Close()
			p.down(c, up)
		}()
	}
}

// down copies the gateway's bytes to the client, cutting the first chat
// event it sees once armed.
func (p *cutProxy) down(c, up net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := up.Read(buf)
		chunk := buf[:n]
		if i := bytes.Index(chunk, []byte("event: "+chatapi.EventChat+"\n")); i >= 0 && p.armed.Load() {
			cut := i + len("event: ") + len(chatapi.EventChat) + 1
			if j := bytes.Index(chunk[cut:], []byte("data: ")); j >= 0 {
				cut += j + len("data: ") + 5 // inside the JSON
			}
			p.armed.Store(false)
			c.Write(chunk[:min(cut, n)])
			c.Close()
			up.Close()
			p.cuts <- struct{}{}
			return
		}
		if n > 0 {
			if _, werr := c.Write(chunk); werr != nil {
				up.Close()
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *cutProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// TestIntegrationFaultStreamCut: the stream's TCP connection is cut in the
// middle of an event, messages keep coming while it is down, and the
// client resumes with the id of the last complete event it read: every
// message arrives once, the cut one included, with no reset.
func TestIntegrationFaultStreamCut(t *testing.T) {
	e := newGateway(t, nil)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tb := e.Login(t, a.Name, a.Password), e.Login(t, b.Name, b.Password)
	p := newCutProxy(t, strings.TrimPrefix(e.Base, "http://"))
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	viaProxy := &gatewaytest.Client{Base: "http://" + p.ln.Addr().String(), HTTP: &http.Client{Transport: tr}}

	tl := newTally()
	n := 0
	send := func(k int) {
		t.Helper()
		for range k {
			body := fmt.Sprintf("m-%d", n)
			n++
			tl.send(body)
			if r := e.Do(t, "POST", api+"/chat/message/"+b.Name, ta, "text/plain", body); r.Status != 200 {
				t.Fatalf("send %s: %d %s", body, r.Status, r.Body)
			}
		}
	}
	const rounds = 3
	last := ""
	for round := range rounds {
		s, r := viaProxy.Open(t, tb, last)
		if r.Status != 200 {
			t.Fatalf("round %d: open: %d %s", round, r.Status, r.Body)
		}
		s.NextNamed(t, chatapi.EventConnect, 5*time.Second, nil)
		send(3)
		id, names, _ := collect(t, s, tl, 200*time.Millisecond, 10*time.Second, nil)
		if slices.Contains(names, chatapi.EventReset) {
			t.Fatalf("round %d: a reset on resuming after %q: %v", round, last, names)
		}
		if id != "" {
			last = id
		}
		p.armed.Store(true)
		send(1)
		select {
		case <-p.cuts:
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: the proxy saw no chat event to cut", round)
		}
		id, _, ended := collect(t, s, tl, 200*time.Millisecond, 5*time.Second, nil)
		if !ended {
			t.Fatalf("round %d: the stream did not end at the cut", round)
		}
		if id != "" {
			last = id
		}
		s.Close()
		send(2) // while no stream is open
	}
	s, r := viaProxy.Open(t, tb, last)
	if r.Status != 200 {
		t.Fatalf("last open: %d %s", r.Status, r.Body)
	}
	_, names, _ := collect(t, s, tl, 500*time.Millisecond, 10*time.Second, nil)
	if slices.Contains(names, chatapi.EventReset) {
		t.Fatalf("a reset on the last resume: %v", names)
	}
	tl.report(t, fmt.Sprintf("stream cut mid-event %d times", rounds))
}

// errReadOnly is what SQLite says when its file or disk turns read-only.
var errReadOnly = errors.New("sqlite: attempt to write a readonly database (8)")

// readOnlyStore is the store after its disk turned read-only: reads work,
// every write of the token and bookmark stores fails. (The tests run as
// root, for whom a chmod of the file changes nothing, so the failure is
// injected at the store's interface.)
type readOnlyStore struct {
	*store.SQLite
	on atomic.Bool
}

func (s *readOnlyStore) RevokeToken(ctx context.Context, jti string, exp time.Time) (bool, error) {
	if s.on.Load() {
		return false, errReadOnly
	}
	return s.SQLite.RevokeToken(ctx, jti, exp)
}

func (s *readOnlyStore) RevokeUserBefore(ctx context.Context, user string, before time.Time) error {
	if s.on.Load() {
		return errReadOnly
	}
	return s.SQLite.RevokeUserBefore(ctx, user, before)
}

func (s *readOnlyStore) CreateBookmark(ctx context.Context, b bookmark.Bookmark) (bookmark.Bookmark, error) {
	if s.on.Load() {
		return bookmark.Bookmark{}, errReadOnly
	}
	return s.SQLite.CreateBookmark(ctx, b)
}

func (s *readOnlyStore) DeleteBookmark(ctx context.Context, id int64) error {
	if s.on.Load() {
		return errReadOnly
	}
	return s.SQLite.DeleteBookmark(ctx, id)
}

// storeCall is one request of the store fault tests and the statuses it
// may answer.
type storeCall struct {
	name, method, path, ct, body string
	token                        string
	status                       []int
}

func runStoreCalls(t *testing.T, e *env, calls []storeCall) {
	t.Helper()
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			r := e.Do(t, c.method, c.path, c.token, c.ct, c.body)
			// The path and body may hold a token: only the name is logged.
			code := ""
			if r.Status >= 400 {
				eb := r.Error(t)
				if eb.Status != r.Status || eb.Code == "" || eb.Message == "" {
					t.Fatalf("%s: error body %+v", c.name, eb)
				}
				code = eb.Code + ": " + eb.Message
			}
			t.Logf("%s = %d %s", c.name, r.Status, code)
			if !slices.Contains(c.status, r.Status) {
				t.Fatalf("%s = %d %s, want one of %v", c.name, r.Status, code, c.status)
			}
		})
	}
}

// TestIntegrationFaultStore: the store turns read-only, or goes away,
// under a running gateway. Every request still gets an answer with the
// JSON error body when it fails, nothing panics, and one-to-one messages,
// which do not need the store, keep flowing while it is read-only.
func TestIntegrationFaultStore(t *testing.T) {
	t.Run("read-only", func(t *testing.T) {
		dir := t.TempDir()
		sq, err := store.Open(t.Context(), filepath.Join(dir, "bookmarks.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sq.Close() })
		ro := &readOnlyStore{SQLite: sq}
		n := startNode(t, dir, func(c *gateway.Config) {
			tokens, err := auth.NewTokens(auth.TokensConfig{Keys: mustKeys(t, dir), Store: ro, Audience: c.Domain, Issuer: testIssuer})
			if err != nil {
				t.Fatal(err)
			}
			c.Tokens = tokens
			c.Collab.Bookmarks = ro
		})
		a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
		ta, tb := n.Login(t, a.Name, a.Password), n.Login(t, b.Name, b.Password)
		s, _ := n.Open(t, tb, "")
		s.NextNamed(t, chatapi.EventConnect, 5*time.Second, nil)
		ro.on.Store(true)

		chatWhileStoreFails(t, n.env, ta, b.Name, s, "store read-only")

		runStoreCalls(t, n.env, []storeCall{
			{"bookmark-create", "POST", api + "/bookmark", "application/json", `{"type":"url","name":"x","value":"https://x.example.org/"}`, ta, []int{500, 503}},
			{"bookmark-list", "GET", api + "/bookmarks", "", "", ta, []int{200}},
			{"login", "POST", api + "/login/" + a.Name, "text/plain", a.Password, "", []int{200}},
			{"logout", "POST", api + "/logout", "", "", ta, []int{500, 503}},
			// The logout failed, so the token was not revoked: it still works.
			{"token-after-failed-logout", "GET", api + "/roster", "", "", ta, []int{200}},
		})
	})

	t.Run("closed", func(t *testing.T) {
		dir := t.TempDir()
		n := startNode(t, dir, func(c *gateway.Config) { c.Registration = true })
		u := ejabberdtest.NewUser(t)
		tok := n.Login(t, u.Name, u.Password)
		n.Store.Close()
		runStoreCalls(t, n.env, []storeCall{
			{"roster", "GET", api + "/roster", "", "", tok, []int{401, 503}},
			{"logout", "POST", api + "/logout", "", "", tok, []int{401, 500, 503}},
			{"login", "POST", api + "/login/" + u.Name, "text/plain", u.Password, "", []int{200, 500, 503}},
			{"stream", "GET", "/sparkweb/api/sse?token=" + url.QueryEscape(tok), "", "", "", []int{401, 503}},
		})
		if r := n.Do(t, "GET", "/healthz", "", "", ""); r.Status != 200 {
			t.Fatalf("healthz: %d", r.Status)
		}
		// Readiness says what is wrong.
		r := n.Do(t, "GET", "/readyz", "", "", "")
		var ready struct {
			Status string            `json:"status"`
			Checks map[string]string `json:"checks"`
		}
		r.JSON(t, &ready)
		if r.Status != 503 || ready.Checks["store"] != "failing" {
			t.Fatalf("readyz with the store closed: %d %s", r.Status, r.Body)
		}
	})
}

// chatWhileStoreFails sends five one-to-one messages with token to the
// user to, whose stream s is open, and reports the tally as what: messages
// need no store, so all of them must arrive once.
func chatWhileStoreFails(t *testing.T, e *env, token, to string, s *gatewaytest.Stream, what string) {
	t.Helper()
	tl := newTally()
	for i := range 5 {
		body := fmt.Sprintf("m-%d", i)
		tl.send(body)
		if r := e.Do(t, "POST", api+"/chat/message/"+to, token, "text/plain", body); r.Status != 200 {
			t.Fatalf("send %s: %d %s", body, r.Status, r.Body)
		}
	}
	collect(t, s, tl, 300*time.Millisecond, 10*time.Second, nil)
	tl.report(t, what)
}

func mustKeys(t *testing.T, dir string) *auth.Keys {
	t.Helper()
	k, err := auth.LoadOrCreateKeys(filepath.Join(dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}
