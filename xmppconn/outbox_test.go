package xmppconn

import (
	"context"
	"errors"
	"testing"
	"time"

	"gosrc.io/xmpp/stanza"

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
}

func TestUserMessage(t *testing.T) {
	tests := []struct {
		v    any
		want bool
	}{
		{stanza.Message{Attrs: stanza.Attrs{Id: "1"}, Body: "hi"}, true},
		{&stanza.Message{Attrs: stanza.Attrs{Id: "1"}, Body: "hi"}, true},
		{stanza.Message{Body: "no id"}, false},
		{stanza.Message{Attrs: stanza.Attrs{Id: "1"}}, false}, // a chat state
		{(*stanza.Message)(nil), false},
		{stanza.Presence{}, false},
	}
	for i, tt := range tests {
		if _, got := userMessage(tt.v); got != tt.want {
			t.Errorf("%d: userMessage(%T) = %v, want %v", i, tt.v, got, tt.want)
		}
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

// TestIntegrationSendMessageRaw: a message given as XML text is kept for
// sending again exactly as the same message given to Send is.
func TestIntegrationSendMessageRaw(t *testing.T) {
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	m := newTestManager(t, newEvents(), nil)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	s, err := m.Open(ctx, a.Name, Credentials{Password: a.Password})
	if err != nil {
		t.Fatal(err)
	}
	viaSend := stanza.Message{Attrs: stanza.Attrs{To: b.JID, Type: stanza.MessageTypeChat, Id: "m1"}, Body: "one"}
	if err := s.Send(ctx, viaSend); err != nil {
		t.Fatal(err)
	}
	raw := []byte(`<message type="chat" id="m2" to="` + b.JID + `"><body>two</body></message>`)
	if err := s.SendMessageRaw(ctx, raw, "m2"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct {
		name string
		raw  string
		id   string
	}{
		{"no-id", `<message to="x@y"><body>x</body></message>`, ""},
		{"two-elements", `<message/><message/>`, "m3"},
		{"not-a-stanza", `<stream:stream xmlns:stream="http://etherx.jabber.org/streams"/>`, "m4"},
	} {
		if err := s.SendMessageRaw(ctx, []byte(bad.raw), bad.id); !errors.Is(err, ErrInvalidStanza) {
			t.Errorf("%s: %v, want ErrInvalidStanza", bad.name, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.out.msgs) != 2 {
		t.Fatalf("outbox holds %d messages, want 2 (the invalid ones are never kept)", len(s.out.msgs))
	}
	for i, want := range []struct{ id, raw string }{{"m1", ""}, {"m2", string(raw)}} {
		got := s.out.msgs[i]
		if got.id != want.id || got.room != "" || got.conn == nil || got.at.IsZero() || (want.raw != "" && string(got.raw) != want.raw) {
			t.Errorf("outbox[%d] = %+v, want id %s", i, got, want.id)
		}
	}
}
