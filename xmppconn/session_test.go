package xmppconn

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gosrc.io/xmpp/stanza"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// events collects what a Manager delivers.
type events struct {
	mu     sync.Mutex
	byUser map[string][]chatapi.Payload
	wake   chan struct{}
}

func newEvents() *events {
	return &events{byUser: make(map[string][]chatapi.Payload), wake: make(chan struct{}, 1)}
}

func (e *events) deliver(user string, p chatapi.Payload) {
	e.mu.Lock()
	e.byUser[user] = append(e.byUser[user], p)
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// chats returns the bodies of the chatapi.chat messages user got.
func (e *events) chats(user string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, p := range e.byUser[user] {
		if c, ok := p.(chatapi.Chat); ok {
			out = append(out, c.Body)
		}
	}
	return out
}

// waitFor waits until cond holds, or fails the test after d.
func (e *events) waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for !cond() {
		select {
		case <-e.wake:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func newTestManager(t *testing.T, ev *events, mod func(*ManagerConfig)) *Manager {
	t.Helper()
	s := ejabberdtest.Shared(t)
	cfg := ManagerConfig{
		Stream:       Config{Addr: s.C2SAddr(), Domain: s.Domain(), TLS: TLSOff, KeepAlive: 2 * time.Second},
		Issuer:       ejabberdtest.Admin(t),
		Deliver:      ev.deliver,
		ReconnectMin: 200 * time.Millisecond,
		ReconnectMax: 2 * time.Second,
	}
	if mod != nil {
		mod(&cfg)
	}
	m, err := NewManager(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// pair is two new users with a session each, on one Manager, and a
// context that bounds the test's round trips.
type pair struct {
	ctx    context.Context
	a, b   ejabberdtest.User
	sa, sb *Session
}

func newPair(t *testing.T, ev *events, mod func(*ManagerConfig)) pair {
	t.Helper()
	p := pair{a: ejabberdtest.NewUser(t), b: ejabberdtest.NewUser(t)}
	m := newTestManager(t, ev, mod)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	ss := openSessions(ctx, t, m, p.a, p.b)
	p.ctx, p.sa, p.sb = ctx, ss[0], ss[1]
	return p
}

func chatTo(to, body string) *stanza.Message {
	return &stanza.Message{Attrs: stanza.Attrs{To: to, Type: stanza.MessageTypeChat}, Body: body}
}

func TestIntegrationSessionOpen(t *testing.T) {
	a := ejabberdtest.NewUser(t)
	ev := newEvents()
	m := newTestManager(t, ev, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()

	if _, err := m.Open(ctx, a.Name, Credentials{Password: "wrong"}); !errors.Is(err, ErrNotAuthorized) {
		t.Fatalf("Open with a wrong password: %v, want ErrNotAuthorized", err)
	}
	if _, err := m.Open(ctx, "nobody-"+a.Name, Credentials{Password: "x"}); !errors.Is(err, ErrNotAuthorized) {
		t.Fatalf("Open of an unknown user: %v, want ErrNotAuthorized", err)
	}
	s1, err := m.Open(ctx, a.Name, Credentials{Password: a.Password})
	if err != nil {
		t.Fatal(err)
	}
	s2, err := m.Open(ctx, a.Name, Credentials{Password: a.Password})
	if err != nil || s1 != s2 {
		t.Fatalf("second Open = %p, %v; want the same session %p", s2, err, s1)
	}
	if _, err := m.Open(ctx, a.Name, Credentials{Password: "wrong"}); !errors.Is(err, ErrNotAuthorized) {
		t.Fatalf("Open of an open session with a wrong password: %v, want ErrNotAuthorized", err)
	}
	s3, err := m.Open(ctx, a.Name, Credentials{Verified: true})
	if err != nil || s3 != s1 {
		t.Fatalf("verified Open = %p, %v; want %p", s3, err, s1)
	}
	if m.Len() != 1 {
		t.Fatalf("Len = %d, want 1", m.Len())
	}
	m.End(ctx, a.JID, chatapi.CloseLogout)
	if _, ok := m.Get(a.JID); ok {
		t.Fatal("session still there after End")
	}
	// A token login without a password (after TOTP or a passkey).
	s4, err := m.Open(ctx, a.Name, Credentials{Verified: true})
	if err != nil {
		t.Fatalf("token login: %v", err)
	}
	if s4 == s1 {
		t.Fatal("ended session handed out again")
	}
}

func TestIntegrationSessionDeliversInOrder(t *testing.T) {
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ev := newEvents()
	m := newTestManager(t, ev, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	if _, err := m.Open(ctx, a.Name, Credentials{Password: a.Password}); err != nil {
		t.Fatal(err)
	}
	sb, err := m.Open(ctx, b.Name, Credentials{Password: b.Password})
	if err != nil {
		t.Fatal(err)
	}
	const n = 500
	for i := range n {
		if err := sb.send(ctx, chatTo(a.JID, strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	ev.waitFor(t, 30*time.Second, "500 messages", func() bool { return len(ev.chats(a.JID)) >= n })
	got := ev.chats(a.JID)
	if len(got) != n {
		t.Fatalf("got %d messages, want %d", len(got), n)
	}
	for i, body := range got {
		if body != strconv.Itoa(i) {
			t.Fatalf("message %d is %q: order broken", i, body)
		}
	}
}

// TestIntegrationSessionCatchUp restarts ejabberd while a user's session
// is connected; messages sent while the session is away must arrive once.
func TestIntegrationSessionCatchUp(t *testing.T) {
	srv := ejabberdtest.Shared(t)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ev := newEvents()
	m := newTestManager(t, ev, func(c *ManagerConfig) {
		// Long enough for b to send while a is away.
		c.ReconnectMin, c.ReconnectMax = 3*time.Second, 4*time.Second
	})
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	if _, err := m.Open(ctx, a.Name, Credentials{Password: a.Password}); err != nil {
		t.Fatal(err)
	}
	bconn := dialUser(t, srv, b, nil)
	online(t, bconn)
	if err := bconn.Send(ctx, chatTo(a.JID, "before")); err != nil {
		t.Fatal(err)
	}
	ev.waitFor(t, 10*time.Second, "the first message", func() bool { return len(ev.chats(a.JID)) == 1 })

	if err := srv.Restart(ctx); err != nil {
		t.Fatalf("restart: %v", err)
	}
	bconn = dialUser(t, srv, b, nil)
	online(t, bconn)
	const n = 10
	for i := range n {
		if err := bconn.Send(ctx, chatTo(a.JID, fmt.Sprintf("away-%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	ev.waitFor(t, 40*time.Second, "the messages sent while away", func() bool { return len(ev.chats(a.JID)) >= 1+n })
	// Let a late duplicate show itself.
	if err := bconn.Send(ctx, chatTo(a.JID, "after")); err != nil {
		t.Fatal(err)
	}
	ev.waitFor(t, 10*time.Second, "the last message", func() bool { return len(ev.chats(a.JID)) >= 2+n })
	want := []string{"before"}
	for i := range n {
		want = append(want, fmt.Sprintf("away-%d", i))
	}
	want = append(want, "after")
	got := ev.chats(a.JID)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("messages:\n got %q\nwant %q", got, want)
	}
}

func TestIntegrationSessionNoGoroutineLeak(t *testing.T) {
	a := ejabberdtest.NewUser(t)
	before := runtime.NumGoroutine()
	ev := newEvents()
	m := newTestManager(t, ev, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for range 5 {
		if _, err := m.Open(ctx, a.Name, Credentials{Password: a.Password}); err != nil {
			t.Fatal(err)
		}
		m.End(ctx, a.JID, chatapi.CloseLogout)
	}
	if _, err := m.Open(ctx, a.Name, Credentials{Password: a.Password}); err != nil {
		t.Fatal(err)
	}
	m.Close()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		runtime.Gosched()
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("goroutines: %d before, %d after Close\n%s", before, g, buf[:runtime.Stack(buf, true)])
	}
}

// groupBodies returns the bodies of the chatapi.muc messages user got.
func (e *events) groupBodies(user string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, p := range e.byUser[user] {
		if g, ok := p.(chatapi.GroupChat); ok && g.Body != "" {
			out = append(out, g.Body)
		}
	}
	return out
}

// TestIntegrationSessionRoomCatchUp drops a user's connection while they
// sit in a room; what the room says meanwhile arrives once, through the
// room's archive, after the session reconnects and rejoins.
func TestIntegrationSessionRoomCatchUp(t *testing.T) {
	srv := ejabberdtest.Shared(t)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ev := newEvents()
	m := newTestManager(t, ev, func(c *ManagerConfig) {
		c.ReconnectMin, c.ReconnectMax = 3*time.Second, 4*time.Second
	})
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	sa, err := m.Open(ctx, a.Name, Credentials{Password: a.Password})
	if err != nil {
		t.Fatal(err)
	}
	room := "catchup-" + strings.ToLower(rand.Text()[:8]) + "@" + srv.MUCService()
	if _, err := sa.EnterRoom(ctx, room, "alice", "", nil); err != nil {
		t.Fatalf("enter: %v", err)
	}
	sb, err := m.Open(ctx, b.Name, Credentials{Password: b.Password})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sb.EnterRoom(ctx, room, "bob", "", nil); err != nil {
		t.Fatalf("bob enters: %v", err)
	}
	post := func(body string) {
		t.Helper()
		msg := &stanza.Message{Attrs: stanza.Attrs{To: room, Type: stanza.MessageTypeGroupchat}, Body: body}
		if err := sb.send(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	post("before")
	ev.waitFor(t, 10*time.Second, "the first room message", func() bool { return slices.Contains(ev.groupBodies(a.JID), "before") })

	// Cut alice's connection under her session, as a network failure would.
	sa.current().tcp.Close()
	ev.waitFor(t, 10*time.Second, "the session to notice", func() bool {
		ev.mu.Lock()
		defer ev.mu.Unlock()
		for _, p := range ev.byUser[a.JID] {
			if s, ok := p.(chatapi.Session); ok && s.State == chatapi.SessionReconnecting {
				return true
			}
		}
		return false
	})
	for i := range 5 {
		post(fmt.Sprintf("away-%d", i))
	}
	ev.waitFor(t, 30*time.Second, "the room messages said while away", func() bool { return len(ev.groupBodies(a.JID)) >= 6 })
	post("after")
	ev.waitFor(t, 10*time.Second, "the last room message", func() bool { return slices.Contains(ev.groupBodies(a.JID), "after") })
	want := []string{"before", "away-0", "away-1", "away-2", "away-3", "away-4", "after"}
	if got := ev.groupBodies(a.JID); !slices.Equal(got, want) {
		t.Fatalf("room messages:\n got %q\nwant %q", got, want)
	}
}

// TestIntegrationSessionRosterPush: the server's roster push after a
// roster change is acknowledged and reaches the user as chatapi.roster (and
// as raw XML, raw events being on), and the session stays up.
func TestIntegrationSessionRosterPush(t *testing.T) {
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ev := newEvents()
	m := newTestManager(t, ev, func(c *ManagerConfig) { c.RawEvents = true })
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	sa, err := m.Open(ctx, a.Name, Credentials{Password: a.Password})
	if err != nil {
		t.Fatal(err)
	}
	if err := sa.SetRosterItem(ctx, RosterItem{JID: b.JID, Name: "Bob"}); err != nil {
		t.Fatal(err)
	}
	ev.waitFor(t, 10*time.Second, "the roster push", func() bool {
		ev.mu.Lock()
		defer ev.mu.Unlock()
		for _, p := range ev.byUser[a.JID] {
			if x, ok := p.(chatapi.XMPP); ok && strings.Contains(string(x.XMPP), "jabber:iq:roster") && strings.Contains(string(x.XMPP), b.JID) {
				return true
			}
		}
		return false
	})
	ev.waitFor(t, 10*time.Second, "the typed roster event", func() bool {
		ev.mu.Lock()
		defer ev.mu.Unlock()
		for _, p := range ev.byUser[a.JID] {
			if r, ok := p.(chatapi.Roster); ok && r.JID == b.JID && r.Name == "Bob" && !r.Removed {
				return true
			}
		}
		return false
	})
	// The connection is still usable: a roster get answers.
	items, err := sa.Roster(ctx)
	if err != nil || len(items) != 1 || items[0].JID != b.JID {
		t.Fatalf("roster after the push: %+v, %v", items, err)
	}
	if st := sa.current().Stats(); st.AutoReplies != 0 {
		t.Fatalf("the stream answered %d server requests itself; the push should reach the session", st.AutoReplies)
	}
}

// refusingIssuer refuses every token, as the gateway's issuer does for an
// account that no longer exists.
type refusingIssuer struct{}

func (refusingIssuer) IssueToken(context.Context, string, time.Duration) (string, error) {
	return "", fmt.Errorf("%w: no such user", ErrNotAuthorized)
}

// TestIntegrationSessionRefused: OnRefused hears of a session whose login
// the server stopped accepting, before OnEnd: the account removed under a
// live stream (ejabberd ends it with a conflict), and a reconnect whose
// token is refused. A reconnect that works says nothing.
func TestIntegrationSessionRefused(t *testing.T) {
	type call struct{ hook, user string }
	calls := make(chan call, 8)
	hooks := func(c *ManagerConfig) {
		c.OnRefused = func(user string) { calls <- call{"refused", user} }
		c.OnEnd = func(user, _ string) { calls <- call{"end", user} }
	}
	want := func(t *testing.T, user string, hooks ...string) {
		t.Helper()
		for _, h := range hooks {
			select {
			case c := <-calls:
				if c != (call{h, user}) {
					t.Fatalf("got %+v, want %s of %s", c, h, user)
				}
			case <-time.After(15 * time.Second):
				t.Fatalf("no %s of %s", h, user)
			}
		}
	}
	open := func(t *testing.T, m *Manager, u ejabberdtest.User) *Session {
		t.Helper()
		s, err := m.Open(t.Context(), u.Name, Credentials{Password: u.Password})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// drop cuts the session's TCP connection without a closing tag.
	drop := func(s *Session) { s.current().tcp.Close() }

	t.Run("account-removed", func(t *testing.T) {
		u := ejabberdtest.NewUser(t)
		m := newTestManager(t, newEvents(), hooks)
		open(t, m, u)
		if err := ejabberdtest.Admin(t).Unregister(t.Context(), u.Name); err != nil {
			t.Fatal(err)
		}
		want(t, u.JID, "refused", "end")
	})
	t.Run("reconnect-refused", func(t *testing.T) {
		u := ejabberdtest.NewUser(t)
		m := newTestManager(t, newEvents(), func(c *ManagerConfig) { hooks(c); c.Issuer = refusingIssuer{} })
		drop(open(t, m, u))
		want(t, u.JID, "refused", "end")
	})
	// A server that issues no tokens (Openfire): the session reconnects
	// with the password it was opened with, kept in memory; once the
	// password changed on the server, the reconnect is refused and the
	// session ends.
	t.Run("reconnect-kept-password", func(t *testing.T) {
		u := ejabberdtest.NewUser(t)
		ev := newEvents()
		refused := make(chan string, 1)
		m := newTestManager(t, ev, func(c *ManagerConfig) {
			c.OnRefused = func(user string) { refused <- user }
			c.Issuer = refusingIssuer{}
			c.KeepPassword = true
		})
		drop(open(t, m, u))
		waitState(t, ev, u.JID, chatapi.SessionConnected)
		select {
		case user := <-refused:
			t.Fatalf("the reconnect of %s was refused", user)
		default:
		}
	})
	t.Run("kept-password-changed", func(t *testing.T) {
		u := ejabberdtest.NewUser(t)
		m := newTestManager(t, newEvents(), func(c *ManagerConfig) { hooks(c); c.Issuer = refusingIssuer{}; c.KeepPassword = true })
		s := open(t, m, u)
		if err := ejabberdtest.Admin(t).ChangePassword(t.Context(), u.Name, "changed-"+u.Password); err != nil {
			t.Fatal(err)
		}
		drop(s)
		want(t, u.JID, "refused", "end")
	})
	t.Run("reconnect-works", func(t *testing.T) {
		u := ejabberdtest.NewUser(t)
		ev := newEvents()
		m := newTestManager(t, ev, hooks)
		drop(open(t, m, u))
		ev.waitFor(t, 15*time.Second, "reconnected", func() bool {
			ev.mu.Lock()
			defer ev.mu.Unlock()
			for _, p := range ev.byUser[u.JID] {
				if s, ok := p.(chatapi.Session); ok && s.State == chatapi.SessionConnected {
					return true
				}
			}
			return false
		})
		select {
		case c := <-calls:
			t.Fatalf("a working reconnect called %+v", c)
		default:
		}
	})
}

// waitState waits for a chatapi.session event of state for user.
func waitState(t *testing.T, ev *events, user, state string) {
	t.Helper()
	ev.waitFor(t, 20*time.Second, "session "+state, func() bool {
		ev.mu.Lock()
		defer ev.mu.Unlock()
		for _, p := range ev.byUser[user] {
			if s, ok := p.(chatapi.Session); ok && s.State == state {
				return true
			}
		}
		return false
	})
}

// TestIntegrationSessionInvitedWhileAway: bob invites alice to a room while
// she has no session, and her session opens within the catch-up's margin.
// ejabberd keeps the invitation offline and in her archive; the offline
// copy arrives while the catch-up runs and is held back, the archive's copy
// is delivered, and the held one is then dropped as seen. The invitation
// must still reach her as an invitation, not only as a chat from the room.
func TestIntegrationSessionInvitedWhileAway(t *testing.T) {
	srv := ejabberdtest.Shared(t)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ev := newEvents()
	m := newTestManager(t, ev, func(c *ManagerConfig) { c.MUCServices = []string{srv.MUCService()} })
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	sb, err := m.Open(ctx, b.Name, Credentials{Password: b.Password})
	if err != nil {
		t.Fatal(err)
	}
	room := "invited-" + strings.ToLower(rand.Text()[:8]) + "@" + srv.MUCService()
	if _, err := sb.EnterRoom(ctx, room, "bob", "", nil); err != nil {
		t.Fatalf("bob enters: %v", err)
	}
	if err := sb.Invite(ctx, room, a.JID, "come in"); err != nil {
		t.Fatal(err)
	}
	// The invitation is archived for alice before her session asks.
	time.Sleep(500 * time.Millisecond)
	if _, err := m.Open(ctx, a.Name, Credentials{Password: a.Password}); err != nil {
		t.Fatal(err)
	}
	invitations := func() (out []chatapi.Invitation) {
		ev.mu.Lock()
		defer ev.mu.Unlock()
		for _, p := range ev.byUser[a.JID] {
			if inv, ok := p.(chatapi.Invitation); ok {
				out = append(out, inv)
			}
		}
		return out
	}
	ev.waitFor(t, 10*time.Second, "the room's chat", func() bool {
		ev.mu.Lock()
		defer ev.mu.Unlock()
		for _, p := range ev.byUser[a.JID] {
			if c, ok := p.(chatapi.Chat); ok && c.From == room {
				return true
			}
		}
		return false
	})
	got := invitations()
	if len(got) != 1 || got[0].Room != room || got[0].Reason != "come in" || !strings.HasPrefix(got[0].Inviter, b.JID) {
		t.Fatalf("invitations %+v; want one to %s from %s", got, room, b.JID)
	}
}
