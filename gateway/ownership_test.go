package gateway_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
	"github.com/sparkgate/sparkgate/internal/natstest"
	"github.com/sparkgate/sparkgate/internal/pgtest"
	"github.com/sparkgate/sparkgate/lease"
)

// withOwnership returns a Config mod that keeps the event logs in the NATS
// at url and makes the node own its users by leases of ttl, as
// cmd/sparkgate does with -nats-url; *nc is the node's connection, which
// a test closes to cut the node off NATS.
func withOwnership(t *testing.T, url string, ttl time.Duration, nc **nats.Conn) func(*gateway.Config) {
	return func(c *gateway.Config) {
		conn, l := connectLog(t, url)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ls, err := lease.Open(ctx, conn, lease.Config{TTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		c.Events.Remote, c.EventLog = l, l
		c.Ownership = lease.Owner{Leases: ls, Log: l, Elsewhere: gateway.ErrOwnedElsewhere}
		*nc = conn
	}
}

// ownerNodes starts two nodes on one NATS of their own and one store,
// owning users by leases of ttl; nc1 is node 1's NATS connection.
func ownerNodes(t *testing.T, ttl time.Duration) (n1, n2 *env, nc1 *nats.Conn) {
	t.Helper()
	ns := natstest.Start(t)
	o := gatewayenv.Options{Plain: true, Dir: t.TempDir(), Store: pgtest.DSN(t)}
	var nc2 *nats.Conn
	o.Config = withOwnership(t, ns.URL, ttl, &nc1)
	n1 = startEnv(t, o)
	o.Config = withOwnership(t, ns.URL, ttl, &nc2)
	n2 = startEnv(t, o)
	return n1, n2, nc1
}

// TestIntegrationOwnershipTakeover: two nodes on one NATS and one store.
// A login on node 1 opens the user's session there; a stream for the
// user on node 2 is refused with 503 and Retry-After while node 1 holds
// the lease. Node 1 then loses NATS (as a crashed node stops renewing):
// its session closes, and within the lease TTL node 2 takes the user
// over; its stream receives a message sent afterwards.
func TestIntegrationOwnershipTakeover(t *testing.T) {
	const ttl = 2 * time.Second
	n1, n2, nc1 := ownerNodes(t, ttl)
	sender := newGateway(t, nil)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta := sender.Login(t, a.Name, a.Password)

	tb := n1.Login(t, b.Name, b.Password)
	s1, r := n1.Open(t, tb, "")
	if r.Status != http.StatusOK {
		t.Fatalf("stream on node 1: %d %s", r.Status, r.Body)
	}
	s1.NextNamed(t, chatapi.EventConnect, 5*time.Second, nil)

	// Node 2 refuses, for the stream and for a login with the password;
	// a wrong password is still a 401 there.
	if _, r := n2.Open(t, tb, ""); r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
		t.Fatalf("stream on node 2 while node 1 owns: %d %s (Retry-After %q), want 503 with Retry-After",
			r.Status, r.Body, r.Header.Get("Retry-After"))
	}
	if r := n2.Do(t, "POST", api+"/login/"+b.Name, "", "text/plain", b.Password); r.Status != http.StatusServiceUnavailable {
		t.Fatalf("login on node 2 while node 1 owns: %d %s, want 503", r.Status, r.Body)
	}
	if r := n2.Do(t, "POST", api+"/login/"+b.Name, "", "text/plain", "wrong password"); r.Status != http.StatusUnauthorized {
		t.Fatalf("wrong password on node 2: %d %s, want 401", r.Status, r.Body)
	}

	nc1.Close() // node 1 is cut off: its lease is no longer renewed
	cut := time.Now()
	// Node 1 learns it lost the lease, and ends the user's streams.
	var closed chatapi.Close
	s1.NextNamed(t, chatapi.EventClose, 2*ttl, &closed)
	if closed.Reason != chatapi.CloseShutdown || !closed.Resume {
		t.Errorf("node 1's stream closed with %+v, want a resumable shutdown", closed)
	}
	s2 := openWhenOwned(t, n2, tb, "", cut, ttl+2*time.Second)
	t.Logf("node 2 took the user over %v after node 1 was cut off", time.Since(cut))
	s2.NextNamed(t, chatapi.EventConnect, 5*time.Second, nil)
	if r := sender.Do(t, "POST", api+"/chat/message/"+b.Name, ta, "text/plain", "after the takeover"); r.Status != 200 {
		t.Fatalf("send: %d %s", r.Status, r.Body)
	}
	nextMessage(t, s2, "after the takeover")
}

// openWhenOwned opens a stream of tok on e (resumed from lastID, when
// set), again and again while e answers 503 because another node holds
// the user, until limit after since.
func openWhenOwned(t *testing.T, e *env, tok, lastID string, since time.Time, limit time.Duration) *gatewaytest.Stream {
	t.Helper()
	for {
		s, r := e.Open(t, tok, lastID)
		switch {
		case r.Status == http.StatusOK:
			return s
		case r.Status != http.StatusServiceUnavailable:
			t.Fatalf("stream on the new owner: %d %s", r.Status, r.Body)
		case time.Since(since) > limit:
			t.Fatalf("the new owner still refuses %v later: %s", time.Since(since), r.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fakeOwnership owns every user but those in elsewhere, and records what
// the gateway asks of it. Like the NATS lease, it refuses a user whose
// last ownership has not been released yet (the key still holds the old
// token), and a release takes a while.
type fakeOwnership struct {
	elsewhere string

	mu       sync.Mutex
	owns     map[string]int // Own calls that succeeded, per user
	releases map[string]int
	lost     map[string]func()
	held     map[string]bool // owned and not released
}

func newFakeOwnership(elsewhere string) *fakeOwnership {
	return &fakeOwnership{elsewhere: elsewhere, owns: map[string]int{}, releases: map[string]int{}, lost: map[string]func(){}, held: map[string]bool{}}
}

func (f *fakeOwnership) Own(_ context.Context, user string, lost func()) (func(), error) {
	if user == f.elsewhere {
		return nil, fmt.Errorf("%w: node x", gateway.ErrOwnedElsewhere)
	}
	time.Sleep(50 * time.Millisecond) // a NATS round trip, so that callers overlap
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.held[user] {
		return nil, fmt.Errorf("%w: this node's last ownership, not released yet", gateway.ErrOwnedElsewhere)
	}
	f.held[user] = true
	f.owns[user]++
	f.lost[user] = lost
	return func() {
		time.Sleep(100 * time.Millisecond) // the round trip that deletes the key
		f.mu.Lock()
		defer f.mu.Unlock()
		f.releases[user]++
		f.held[user] = false
	}, nil
}

func (f *fakeOwnership) count(m map[string]int, user string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return m[user]
}

// TestIntegrationOwnershipHook: the gateway's side of the ownership, with
// a fake: concurrent streams of a user share one Own; a user owned
// elsewhere gets 503 with Retry-After; a logout releases the ownership
// once; a loss ends the session and its streams with resume true, and
// the ownership is taken again, once, by the next request, which waits
// for the lost one's release.
func TestIntegrationOwnershipHook(t *testing.T) {
	other := ejabberdtest.NewUser(t)
	f := newFakeOwnership(other.JID)
	e := newGateway(t, func(c *gateway.Config) { c.Ownership = f })
	u := ejabberdtest.NewUser(t)
	user := u.JID

	tok := e.Login(t, u.Name, u.Password)
	// The login's session stays open: end it, so that the streams open
	// the session again, all at once.
	if r := e.Do(t, "POST", api+"/logout", tok, "", ""); r.Status != 200 {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	waitCount(t, func() int { return f.count(f.releases, user) }, 1)
	tok = e.Login(t, u.Name, u.Password)
	if got := f.count(f.owns, user); got != 2 {
		t.Fatalf("Own called %d times for two logins, want 2", got)
	}
	streams := openStreams(t, e, tok, 3)

	r := e.Do(t, "POST", api+"/login/"+other.Name, "", "text/plain", other.Password)
	if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
		t.Errorf("login of a user owned elsewhere: %d %s (Retry-After %q)", r.Status, r.Body, r.Header.Get("Retry-After"))
	}

	f.mu.Lock()
	lost := f.lost[user]
	f.mu.Unlock()
	lost()
	for _, s := range streams {
		var c chatapi.Close
		s.NextNamed(t, chatapi.EventClose, 10*time.Second, &c)
		if c.Reason != chatapi.CloseShutdown || !c.Resume {
			t.Errorf("stream closed with %+v, want a resumable shutdown", c)
		}
	}
	// A request at once, while the lost ownership is being released: it
	// waits for the release and takes the user afresh. (When the entry
	// went before the release, its Own found the old ownership still
	// held: 503.)
	if r := e.Do(t, "GET", api+"/roster", tok, "", ""); r.Status != http.StatusOK {
		t.Errorf("request right after the loss: %d %s, want 200", r.Status, r.Body)
	}
	waitCount(t, func() int { return f.count(f.releases, user) }, 2)
	// The token is still good: the next streams, together, join the
	// session that request opened; Own was called once for it.
	for _, s := range openStreams(t, e, tok, 3) {
		s.NextNamed(t, chatapi.EventConnect, 5*time.Second, nil)
	}
	if got := f.count(f.owns, user); got != 3 {
		t.Errorf("Own called %d times after the loss, want 3", got)
	}
}

// openStreams opens n streams of tok at once.
func openStreams(t *testing.T, e *env, tok string, n int) []*gatewaytest.Stream {
	t.Helper()
	var wg sync.WaitGroup
	streams := make([]*gatewaytest.Stream, n)
	for i := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, r := e.Open(t, tok, "")
			if r.Status != http.StatusOK {
				t.Errorf("stream %d: %d %s", i, r.Status, r.Body)
				return
			}
			streams[i] = s
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return streams
}

// waitCount waits until get returns want, for a few seconds.
func waitCount(t *testing.T, get func() int, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for get() != want {
		if time.Now().After(deadline) {
			t.Fatalf("count %d, want %d", get(), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestIntegrationOwnershipHandOver: a node that shuts down releases its
// users' leases, so another node opens their sessions at once, well
// within the lease TTL.
func TestIntegrationOwnershipHandOver(t *testing.T) {
	const ttl = 10 * time.Second
	n1, n2, _ := ownerNodes(t, ttl)
	u := ejabberdtest.NewUser(t)
	tok := n1.Login(t, u.Name, u.Password)
	if _, r := n2.Open(t, tok, ""); r.Status != http.StatusServiceUnavailable {
		t.Fatalf("stream on node 2 while node 1 owns: %d %s, want 503", r.Status, r.Body)
	}
	n1.Kill() // a clean shutdown: sessions end, leases are released
	stopped := time.Now()
	for {
		s, r := n2.Open(t, tok, "")
		if r.Status == http.StatusOK {
			s.NextNamed(t, chatapi.EventConnect, 5*time.Second, nil)
			break
		}
		if time.Since(stopped) > ttl/2 {
			t.Fatalf("node 2 still refuses %v after node 1 shut down: %d %s", time.Since(stopped), r.Status, r.Body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("node 2 opened the session %v after node 1 shut down", time.Since(stopped))
}
