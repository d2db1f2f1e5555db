package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/natstest"
	"github.com/sparkgate/sparkgate/natslog"
	"github.com/sparkgate/sparkgate/sse/ssetest"
)

// withNATS returns a Config mod that keeps the event logs in the NATS at url.
func withNATS(t *testing.T, url string) func(*gateway.Config) {
	return func(c *gateway.Config) {
		_, l := connectLog(t, url)
		c.Events.Remote, c.EventLog = l, l
	}
}

// connectLog connects to the NATS at url as cmd/sparkgate does (closed at
// the test's end) and opens the event log there.
func connectLog(t *testing.T, url string) (*nats.Conn, *natslog.Log) {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectBufSize(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := natslog.Open(ctx, nc, natslog.Config{Fenced: gateway.ErrOwnedElsewhere})
	if err != nil {
		t.Fatal(err)
	}
	return nc, l
}

// TestIntegrationNATSRestartReplays: with the event logs in JetStream, a
// gateway killed after appending events its user's stream had not read
// yet is replaced by a new one, and the stream resumed there with its
// Last-Event-ID gets exactly those events: no chatapi.reset, no duplicate;
// the new gateway's session resumes the archive where the log ends, so
// the next message follows with nothing delivered again.
func TestIntegrationNATSRestartReplays(t *testing.T) {
	ns := natstest.Start(t)
	dir := t.TempDir()
	sender := newGateway(t, nil)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta := sender.Login(t, a.Name, a.Password)

	first := startNode(t, dir, withNATS(t, ns.URL))
	tb := first.Login(t, b.Name, b.Password)
	s1, _ := first.Open(t, tb, "")
	s1.NextNamed(t, chatapi.EventConnect, 5*time.Second, nil)
	send := func(body string) {
		t.Helper()
		if r := sender.Do(t, "POST", api+"/chat/message/"+b.Name, ta, "text/plain", body); r.Status != 200 {
			t.Fatalf("send %s: %d %s", body, r.Status, r.Body)
		}
	}
	send("m-0")
	last := nextMessage(t, s1, "m-0").ID
	s1.Close()
	for i := 1; i <= 3; i++ {
		send(fmt.Sprintf("m-%d", i))
	}
	// The first gateway appended them (its stream was closed): a stream
	// resumed there shows they are in, then the gateway dies.
	check, _ := first.Open(t, tb, last)
	for i := 1; i <= 3; i++ {
		nextMessage(t, check, fmt.Sprintf("m-%d", i))
	}
	check.Close()
	first.Kill()

	second := startNode(t, dir, withNATS(t, ns.URL))
	s2, r := second.Open(t, tb, last)
	if r.Status != 200 {
		t.Fatalf("resume: %d %s", r.Status, r.Body)
	}
	s2.NextNamed(t, chatapi.EventConnect, 5*time.Second, nil)
	for i := 1; i <= 3; i++ {
		nextMessage(t, s2, fmt.Sprintf("m-%d", i))
	}
	// Live after the replay. The new gateway's session caught up from
	// the archive after the position the event log carries: m-0..m-3
	// are not delivered again, and m-4 is the next message.
	send("m-4")
	nextMessage(t, s2, "m-4")
}

// nextMessage reads events until a chat message with a body and checks
// the body; a reset fails the test.
func nextMessage(t *testing.T, s *gatewaytest.Stream, body string) ssetest.Event {
	t.Helper()
	for range 50 {
		ev := s.Next(t, 10*time.Second)
		if ev.Name == "chatapi.reset" {
			t.Fatalf("reset %s while waiting for %s", ev.Data, body)
		}
		if ev.Name != chatapi.EventChat {
			continue
		}
		var c chatapi.Chat
		if err := json.Unmarshal([]byte(ev.Data), &c); err != nil {
			t.Fatalf("chat event %q: %v", ev.Data, err)
		}
		if c.Body == "" { // a chat state
			continue
		}
		if c.Body != body {
			t.Fatalf("message %q (id %s), want %q", c.Body, ev.ID, body)
		}
		return ev
	}
	t.Fatalf("no message %q", body)
	return ssetest.Event{}
}
