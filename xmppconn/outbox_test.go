package xmppconn

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"

	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

func TestOutboxKeepsTheResendWindow(t *testing.T) {
	var o outbox
	t0 := time.Unix(1_000_000, 0)
	for i := range 5 {
		o.add(&outMsg{id: string(rune('a' + i)), at: t0.Add(time.Duration(i) * 4 * time.Second)})
	}
	// At t0+16s the window reaches back to t0+6s: a (0s) and b (4s) go.
	var ids string
	for _, m := range o.msgs {
		ids += m.id
	}
	if ids != "cde" {
		t.Fatalf("kept %q, want cde", ids)
	}
	o.remove(func(m *outMsg) bool { return m.id == "d" })
	ids = ""
	for _, m := range o.msgs {
		ids += m.id
	}
	if ids != "ce" {
		t.Fatalf("after remove: %q, want ce", ids)
	}
}

func TestOutboxBounded(t *testing.T) {
	var o outbox
	now := time.Now()
	for range maxOutbox + 10 {
		o.add(&outMsg{at: now})
	}
	if len(o.msgs) != maxOutbox {
		t.Fatalf("%d kept, want %d", len(o.msgs), maxOutbox)
	}
	// A full outbox takes a message without copying itself each time:
	// the live messages move to a new array only when the slice is at
	// its capacity, a few times per thousand messages.
	more := make([]*outMsg, 2000)
	for i := range more {
		more[i] = &outMsg{at: now}
	}
	i := 0
	if n := testing.AllocsPerRun(len(more)-1, func() { o.add(more[i]); i++ }); n >= 0.5 {
		t.Errorf("%.2f allocations per message at the bound; want the copy amortized", n)
	}
	if len(o.msgs) != maxOutbox || o.msgs[maxOutbox-1] != more[i-1] {
		t.Fatalf("%d kept, the newest last: %v", len(o.msgs), o.msgs[len(o.msgs)-1] == more[i-1])
	}
}

func TestOriginKey(t *testing.T) {
	tests := []struct {
		st   *Stanza
		want string
	}{
		{nil, ""},
		{&Stanza{Type: "chat", From: "a@x/r1"}, ""},
		{&Stanza{Type: "chat", From: "a@x/r1", OriginID: "o1"}, "origin a@x o1"},
		// The same message sent again from another resource of a.
		{&Stanza{Type: "chat", From: "a@x/r2", OriginID: "o1"}, "origin a@x o1"},
		// In a room the occupant is the sender.
		{&Stanza{Type: "groupchat", From: "room@muc.x/alice", OriginID: "o1"}, "origin room@muc.x/alice o1"},
	}
	for _, tt := range tests {
		if got := originKey(tt.st); got != tt.want {
			t.Errorf("originKey(%+v) = %q, want %q", tt.st, got, tt.want)
		}
	}
}

// TestIntegrationSendKeeps: the verbs keep what the user writes in the
// outbox (one-to-one messages under their id, room messages with their
// room too); a refused message is never kept; a chat state is not kept;
// a one-to-one message reaches the user's other tabs with its data, and a
// room message does not (the room's reflection does).
func TestIntegrationSendKeeps(t *testing.T) {
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ev := newEvents()
	m := newTestManager(t, ev, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	s, err := m.Open(ctx, a.Name, Credentials{Password: a.Password})
	if err != nil {
		t.Fatal(err)
	}
	data := json.RawMessage(`{"body":"one","kind":"test"}`)
	id1, err := s.SendChat(ctx, b.JID, "one", data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SendChat(ctx, b.JID, "bad", json.RawMessage(`{"unterminated"`)); !errors.Is(err, ErrInvalidStanza) {
		t.Errorf("SendChat with data that is not JSON: %v, want ErrInvalidStanza", err)
	}
	if err := s.SendChatState(ctx, b.JID, "composing"); err != nil {
		t.Fatal(err)
	}
	if err := s.SendChatState(ctx, b.JID, "shouting"); !errors.Is(err, ErrInvalidStanza) {
		t.Errorf("SendChatState with an unknown state: %v, want ErrInvalidStanza", err)
	}
	room := "k" + a.Name[1:9] + "@" + ejabberdtest.Shared(t).MUCService()
	if _, err := s.EnterRoom(ctx, room, "alice", "", nil); err != nil {
		t.Fatal(err)
	}
	id2, err := s.SendGroupChat(ctx, room, "to the room")
	if err != nil {
		t.Fatal(err)
	}
	// The room's reflection takes the room message out of the outbox (a
	// wrong room or id would leave it there); the chat message stays for
	// the resend window.
	kept := func() []string {
		s.mu.Lock()
		defer s.mu.Unlock()
		var ids []string
		for _, m := range s.out.msgs {
			ids = append(ids, m.id+" "+m.room)
		}
		return ids
	}
	ev.waitFor(t, 10*time.Second, "the room's reflection", func() bool {
		return slices.Contains(ev.groupBodies(a.JID), "to the room")
	})
	deadline := time.Now().Add(5 * time.Second)
	for slices.Contains(kept(), id2+" "+room) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := kept(); !slices.Equal(got, []string{id1 + " "}) {
		t.Errorf("outbox %q, want only the chat message %s", got, id1)
	}
	// The user's other tabs got the chat message, with its data, once
	// live. (A message sent while the session still catches up with the
	// archive after login comes again from there, stamped as history.)
	var echoes []chatapi.Chat
	ev.mu.Lock()
	for _, p := range ev.byUser[a.JID] {
		if c, ok := p.(chatapi.Chat); ok && c.Sent && c.Stamp == "" {
			echoes = append(echoes, c)
		}
	}
	ev.mu.Unlock()
	if len(echoes) != 1 || echoes[0].ID != id1 || echoes[0].To != b.JID || string(echoes[0].Data) != string(data) {
		t.Errorf("echoes %+v, want one of %s with its data", echoes, id1)
	}
}

// TestKeepOnEndedConnection: a message written while the session still
// holds a connection that has ended (its reader saw the server hang up;
// the session has not taken it down yet) is refused with ErrOffline (502
// to the client), not kept and answered as sent.
func TestKeepOnEndedConnection(t *testing.T) {
	fs := newFakeServer(t, fakeOpts{session: func(*serverConn) {}}) // hangs up after bind
	c := dialFake(t, fs, nil)
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the connection did not end when the server hung up")
	}
	s := &Session{conn: c}
	if err := s.keep(t.Context(), c, []byte("<message to='b@localhost'><body>x</body></message>"), "m1", ""); !errors.Is(err, ErrOffline) {
		t.Fatalf("keep on an ended connection = %v, want ErrOffline", err)
	}
	if len(s.out.msgs) != 0 {
		t.Fatalf("%d messages kept for a connection that had ended", len(s.out.msgs))
	}
}
