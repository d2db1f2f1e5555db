package natslog_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sparkgate/sparkgate/internal/natstest"
	"github.com/sparkgate/sparkgate/natslog"
	"github.com/sparkgate/sparkgate/sse"
	"github.com/sparkgate/sparkgate/sse/ssetest"
)

func TestMain(m *testing.M) { natstest.Main(m) }

// node is one gateway node: a connection to NATS, the log, a hub whose
// Remote it is, and an HTTP server streaming ?user= (503 when the log
// cannot answer).
type node struct {
	log *natslog.Log
	hub *sse.Hub
	ts  *httptest.Server
}

func newNode(t *testing.T, url string, cfg natslog.Config) *node {
	t.Helper()
	nc, err := nats.Connect(url, nats.Timeout(2*time.Second), nats.ReconnectWait(50*time.Millisecond), nats.MaxReconnects(-1), nats.ReconnectBufSize(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := natslog.Open(ctx, nc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	h, err := sse.New(sse.Config{Remote: l})
	if err != nil {
		t.Fatal(err)
	}
	n := &node{log: l, hub: h}
	n.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user := r.URL.Query().Get("user")
		// Subscribe before the replay; the hub drops what both give.
		stop, err := l.Follow(user, func(seq uint64, name string, data []byte) { h.PublishSeq(user, name, data, seq) })
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		defer stop()
		err = h.ServeStream(w, r, user, sse.Event{Name: "hello"})
		if errors.Is(err, sse.ErrUnavailable) {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(func() {
		h.EndStreams()
		n.ts.Close()
		h.Close()
	})
	return n
}

// append appends as the user's owner and gives the event to the owner's hub.
func (n *node) append(t *testing.T, user, data string) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	seq, err := n.log.Append(ctx, user, "msg", []byte(data), "")
	if err != nil {
		t.Fatalf("Append %s: %v", data, err)
	}
	n.hub.PublishSeq(user, "msg", []byte(data), seq)
	return seq
}

type stream struct {
	*ssetest.Reader
	resp *http.Response
}

func (n *node) open(t *testing.T, user, lastID string) *stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", n.ts.URL+"/?user="+user, nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := n.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	st := &stream{Reader: ssetest.NewReader(resp.Body), resp: resp}
	st.expect(t, "hello", "")
	return st
}

func (st *stream) expect(t *testing.T, name, data string) ssetest.Event {
	t.Helper()
	ev, err := st.Next()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if ev.Name != name || ev.Data != data {
		t.Fatalf("got %q %q (id %q), want %q %q", ev.Name, ev.Data, ev.ID, name, data)
	}
	return ev
}

func id(l *natslog.Log, seq uint64) string {
	return strconv.FormatUint(l.Gen(), 10) + "-" + strconv.FormatUint(seq, 10)
}

// TestIntegrationTwoNodes: an event the owner (node 1) appends reaches a
// stream held on node 2, with the same id.
func TestIntegrationTwoNodes(t *testing.T) {
	s := natstest.Shared(t)
	cfg := natslog.Config{Stream: "TWO", Subject: "two"}
	n1, n2 := newNode(t, s.URL, cfg), newNode(t, s.URL, cfg)
	user := "alice@localhost"
	st := n2.open(t, user, "")
	for i := 1; i <= 3; i++ {
		seq := n1.append(t, user, strconv.Itoa(i))
		if ev := st.expect(t, "msg", strconv.Itoa(i)); ev.ID != id(n1.log, seq) {
			t.Fatalf("id %q, want %q", ev.ID, id(n1.log, seq))
		}
	}
}

// TestIntegrationRestartReplays: a new node (the gateway restarted)
// resumes a stream by Last-Event-ID with exactly the missed events, no
// reset and no duplicate; an id older than the kept window gets
// chatapi.reset; the old owner's append is refused once the new one
// appended.
func TestIntegrationRestartReplays(t *testing.T) {
	s := natstest.Shared(t)
	cfg := natslog.Config{Stream: "RESTART", Subject: "restart", MaxEvents: 5}
	user := "bob@localhost"
	old := newNode(t, s.URL, cfg)
	st := old.open(t, user, "")
	old.append(t, user, "1")
	seen := st.expect(t, "msg", "1")
	st.resp.Body.Close()
	old.append(t, user, "2")
	old.append(t, user, "3")

	restarted := newNode(t, s.URL, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := restarted.log.Claim(ctx, user); err != nil { // took the lease
		t.Fatal(err)
	}
	st = restarted.open(t, user, seen.ID)
	st.expect(t, "msg", "2")
	st.expect(t, "msg", "3")
	restarted.append(t, user, "4")
	if ev := st.expect(t, "msg", "4"); ev.ID != id(restarted.log, 4) {
		t.Fatalf("id %q, want %q", ev.ID, id(restarted.log, 4))
	}

	// The old owner did not learn it lost the user: its append is fenced.
	if _, err := old.log.Append(ctx, user, "msg", []byte("stale"), ""); !errors.Is(err, natslog.ErrFenced) {
		t.Fatalf("stale owner's Append: %v, want ErrFenced", err)
	}
	restarted.append(t, user, "5")
	st.expect(t, "msg", "5") // and nothing of the stale owner came between

	// 5 kept per user: after 6 and 7, 1 is gone, and seq 1 resumes with a reset.
	restarted.append(t, user, "6")
	restarted.append(t, user, "7")
	third := newNode(t, s.URL, cfg)
	st2 := third.open(t, user, id(third.log, 1))
	if ev, err := st2.Next(); err != nil || ev.Name != "chatapi.reset" {
		t.Fatalf("got %+v, %v; want chatapi.reset", ev, err)
	}
	restarted.append(t, user, "8")
	st2.expect(t, "msg", "8")
}

// TestIntegrationNATSDown: with NATS stopped, a resume answers 503 and an
// append fails with ErrUnavailable; when NATS is back both work again.
func TestIntegrationNATSDown(t *testing.T) {
	s := natstest.Start(t)
	cfg := natslog.Config{Stream: "DOWN", Subject: "down"}
	user := "carol@localhost"
	n := newNode(t, s.URL, cfg)
	n.append(t, user, "1")
	n.append(t, user, "2")

	other := newNode(t, s.URL, cfg) // its memory lacks the events: a resume needs the log

	s.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := n.log.Append(ctx, user, "msg", []byte("lost"), ""); !errors.Is(err, natslog.ErrUnavailable) {
		t.Fatalf("Append with NATS down: %v, want ErrUnavailable", err)
	}
	req, _ := http.NewRequest("GET", other.ts.URL+"/?user="+user, nil)
	req.Header.Set("Last-Event-ID", id(n.log, 1))
	resp, err := other.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("resume with NATS down: status %d, want 503", resp.StatusCode)
	}

	s.Restart(t)
	deadline := time.Now().Add(15 * time.Second)
	var seq uint64
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		seq, err = n.log.Append(ctx, user, "msg", []byte("3"), "")
		cancel()
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil || seq != 3 {
		t.Fatalf("Append after NATS came back: %d, %v; want 3", seq, err)
	}
	st := other.open(t, user, id(n.log, 1))
	st.expect(t, "msg", "2")
	st.expect(t, "msg", "3")
}

// TestIntegrationMarks: the newest event holds the user's mark; an append
// without one carries the last on, on the same node and after another
// node claimed the log; the mark is per user and fenced with the events.
func TestIntegrationMarks(t *testing.T) {
	s := natstest.Shared(t)
	cfg := natslog.Config{Stream: "MARKS", Subject: "marks"}
	user, other := "dave@localhost", "erin@localhost"
	a := newNode(t, s.URL, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	mark := func(n *node, user, want string) {
		t.Helper()
		got, err := n.log.Mark(ctx, user)
		if err != nil || got != want {
			t.Fatalf("Mark(%s) = %q, %v; want %q", user, got, err, want)
		}
	}
	appendMark := func(n *node, user, m string) error {
		_, err := n.log.Append(ctx, user, "msg", []byte("x"), m)
		return err
	}
	mark(a, user, "") // an empty log
	for _, step := range []struct{ mark, want string }{
		{"", ""}, {"m1", "m1"}, {"", "m1"}, {"m2", "m2"},
	} {
		if err := appendMark(a, user, step.mark); err != nil {
			t.Fatal(err)
		}
		mark(a, user, step.want)
	}
	mark(a, other, "")

	// Another node takes the user over: it reads the mark and carries it.
	b := newNode(t, s.URL, cfg)
	if err := b.log.Claim(ctx, user); err != nil {
		t.Fatal(err)
	}
	if err := appendMark(b, user, ""); err != nil {
		t.Fatal(err)
	}
	mark(a, user, "m2")
	// The stale owner's mark is fenced out with its event.
	if err := appendMark(a, user, "stale"); !errors.Is(err, natslog.ErrFenced) {
		t.Fatalf("stale owner's Append: %v, want ErrFenced", err)
	}
	mark(b, user, "m2")
	if err := appendMark(b, user, "m3"); err != nil {
		t.Fatal(err)
	}
	mark(a, user, "m3")
}
