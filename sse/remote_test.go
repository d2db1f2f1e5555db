package sse_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/sparkgate/sparkgate/sse"
)

// memRemote is a Remote log in memory, shared by hubs that play gateway
// nodes or restarts: it keeps the last keep events of each user.
type memRemote struct {
	mu   sync.Mutex
	keep int
	down bool
	evs  map[string][]remoteEvent
	last map[string]uint64
}

type remoteEvent struct {
	seq  uint64
	name string
	data []byte
}

func newMemRemote(keep int) *memRemote {
	return &memRemote{keep: keep, evs: map[string][]remoteEvent{}, last: map[string]uint64{}}
}

func (m *memRemote) Gen() uint64 { return 42 }

// add appends an event, as an owner would, and returns its seq.
func (m *memRemote) add(user, name, data string) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.last[user]++
	evs := append(m.evs[user], remoteEvent{m.last[user], name, []byte(data)})
	m.evs[user] = evs[max(len(evs)-m.keep, 0):]
	return m.last[user]
}

func (m *memRemote) Replay(_ context.Context, user string, after uint64, fn func(uint64, string, []byte)) (uint64, uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return 0, 0, errors.New("down")
	}
	evs := m.evs[user]
	if len(evs) == 0 {
		return 0, m.last[user], nil
	}
	for _, e := range evs {
		if e.seq > after {
			fn(e.seq, e.name, e.data)
		}
	}
	return evs[0].seq, evs[len(evs)-1].seq, nil
}

// publish appends to the remote log and gives the event to each hub, as
// the owner node and the nodes that follow the user's subject do.
func (m *memRemote) publish(user, data string, hubs ...*sse.Hub) {
	seq := m.add(user, "msg", data)
	for _, h := range hubs {
		h.PublishSeq(user, "msg", []byte(data), seq)
	}
}

// TestRemoteResumeAfterRestart: a new hub (a restarted gateway) resumes a
// stream from the Remote log: exactly the missed events, no reset, then
// live events; an id older than the Remote keeps gets the reset.
func TestRemoteResumeAfterRestart(t *testing.T) {
	remote := newMemRemote(5)
	before := newServer(t, sse.Config{Remote: remote})
	st := before.open(t, "alice", "")
	st.expect(t, "onConnect", `{"username":"alice"}`)
	for i := 1; i <= 2; i++ {
		remote.publish("alice", strconv.Itoa(i), before.hub)
	}
	st.expect(t, "msg", "1")
	seen := st.expect(t, "msg", "2")
	if seen.ID != "42-2" {
		t.Fatalf("id %q, want 42-2", seen.ID)
	}
	st.close()
	for i := 3; i <= 4; i++ { // published while the gateway restarts
		remote.add("alice", "msg", strconv.Itoa(i))
	}

	after := newServer(t, sse.Config{Remote: remote})
	st = after.open(t, "alice", seen.ID)
	st.expect(t, "onConnect", `{"username":"alice"}`)
	st.expect(t, "msg", "3")
	if ev := st.expect(t, "msg", "4"); ev.ID != "42-4" {
		t.Fatalf("id %q, want 42-4", ev.ID)
	}
	remote.publish("alice", "5", after.hub)
	if ev := st.expect(t, "msg", "5"); ev.ID != "42-5" {
		t.Fatalf("live id %q, want 42-5", ev.ID)
	}

	// A duplicate (the same seq again) is dropped.
	if n := after.hub.PublishSeq("alice", "msg", []byte("5"), 5); n != 0 {
		t.Fatalf("duplicate reached %d streams", n)
	}
	remote.publish("alice", "6", after.hub)
	st.expect(t, "msg", "6")

	// Remote keeps 2..6 now, after a few more 4..8: an id of 2 is too old.
	remote.publish("alice", "7", after.hub)
	remote.publish("alice", "8", after.hub)
	third := newServer(t, sse.Config{Remote: remote})
	old := third.open(t, "alice", "42-2")
	old.expect(t, "onConnect", `{"username":"alice"}`)
	if ev := old.next(t); ev.Name != "chatapi.reset" {
		t.Fatalf("got %q %q, want chatapi.reset", ev.Name, ev.Data)
	}
	fresh := third.open(t, "alice", "") // no Last-Event-ID: live events
	fresh.expect(t, "onConnect", `{"username":"alice"}`)
	remote.publish("alice", "9", third.hub)
	old.expect(t, "msg", "9")
	fresh.expect(t, "msg", "9")

	// A node that has seen no event of alice yet: a stream without
	// Last-Event-ID follows live events from the first one it learns of.
	fourth := newServer(t, sse.Config{Remote: remote})
	live := fourth.open(t, "alice", "")
	live.expect(t, "onConnect", `{"username":"alice"}`)
	remote.publish("alice", "10", fourth.hub)
	if ev := live.expect(t, "msg", "10"); ev.ID != "42-10" {
		t.Fatalf("id %q, want 42-10", ev.ID)
	}
}

// TestRemoteUnavailable: a resume that needs the Remote log while it is
// down fails before any header (the caller answers 503), and works when the
// log is back.
func TestRemoteUnavailable(t *testing.T) {
	remote := newMemRemote(10)
	remote.add("bob", "msg", "1")
	remote.add("bob", "msg", "2")
	srv := newServer(t, sse.Config{Remote: remote})
	remote.mu.Lock()
	remote.down = true
	remote.mu.Unlock()

	rec := newRecorder()
	req, _ := http.NewRequest("GET", "/sse", nil)
	req.Header.Set("Last-Event-ID", "42-1")
	if err := srv.hub.ServeStream(rec, req, "bob", sse.Event{}); !errors.Is(err, sse.ErrUnavailable) {
		t.Fatalf("ServeStream with the log down: %v, want ErrUnavailable", err)
	}
	if out := rec.output(); out != "" || srv.hub.Count() != 0 {
		t.Fatalf("wrote %q, %d streams left", out, srv.hub.Count())
	}

	remote.mu.Lock()
	remote.down = false
	remote.mu.Unlock()
	st := srv.open(t, "bob", "42-1")
	st.expect(t, "onConnect", `{"username":"bob"}`)
	if ev := st.expect(t, "msg", "2"); ev.ID != "42-2" {
		t.Fatalf("id %q, want 42-2", ev.ID)
	}
}
