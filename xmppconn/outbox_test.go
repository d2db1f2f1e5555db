package xmppconn

import (
	"testing"
	"time"

	"gosrc.io/xmpp/stanza"
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
