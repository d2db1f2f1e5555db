package gateway

import (
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
)

func TestOfflineNotification(t *testing.T) {
	rooms := func() map[string]string { return map[string]string{"room@conference.x": "Bob"} }
	tests := []struct {
		name      string
		p         chatapi.Payload
		push      bool
		typ, from string
		subject   string
		topic     string
	}{
		{"chat", chatapi.Chat{Type: "chat", From: "Alice@X/phone", To: "bob@x", Body: "hi"}, true, "chat", "alice@x", "alice@x", "chat alice@x"},
		{"chat-pointer", &chatapi.Chat{Type: "chat", From: "alice@x/phone", Body: "hi"}, true, "chat", "alice@x", "alice@x", "chat alice@x"},
		{"normal", chatapi.Chat{Type: "normal", From: "alice@x", Body: "hi"}, true, "chat", "alice@x", "alice@x", "chat alice@x"},
		{"sent-by-me", chatapi.Chat{Type: "chat", From: "bob@x", Body: "hi", Sent: true}, false, "", "", "", ""},
		{"from-myself", chatapi.Chat{Type: "chat", From: "bob@x/other", Body: "hi"}, false, "", "", "", ""},
		{"no-body", chatapi.Chat{Type: "chat", From: "alice@x"}, false, "", "", "", ""},
		{"delayed", chatapi.Chat{Type: "chat", From: "alice@x", Body: "old", Stamp: "2026-01-01T00:00:00Z"}, false, "", "", "", ""},
		{"from-a-room", chatapi.Chat{Type: "normal", From: "room@conference.x", Body: "alice invites you to the room"}, false, "", "", "", ""},
		{"room-private-message", chatapi.Chat{Type: "chat", From: "room@conference.x/alice", Body: "psst"}, true, "chat", "room@conference.x/alice", "room@conference.x/alice", "chat room@conference.x/alice"},
		{"headline", chatapi.Chat{Type: "headline", From: "x", Body: "news"}, false, "", "", "", ""},
		{"chat-state", chatapi.ChatState{Type: "chatstate", From: "alice@x", State: "composing"}, false, "", "", "", ""},
		{"mention", chatapi.GroupChat{Type: "groupchat", From: "room@conference.x/alice", Body: "hey bob, look"}, true, "groupchat", "room@conference.x", "alice in room", "muc room@conference.x"},
		{"mention-case", chatapi.GroupChat{Type: "groupchat", From: "Room@conference.x/alice", Body: "@BOB:"}, true, "groupchat", "room@conference.x", "alice in room", "muc room@conference.x"},
		{"no-mention", chatapi.GroupChat{Type: "groupchat", From: "room@conference.x/alice", Body: "hello all"}, false, "", "", "", ""},
		{"inside-a-word", chatapi.GroupChat{Type: "groupchat", From: "room@conference.x/alice", Body: "bobcat"}, false, "", "", "", ""},
		{"own-message", chatapi.GroupChat{Type: "groupchat", From: "room@conference.x/Bob", Body: "I am bob"}, false, "", "", "", ""},
		{"room-history", chatapi.GroupChat{Type: "groupchat", From: "room@conference.x/alice", Body: "bob!", Stamp: "2026-01-01T00:00:00Z"}, false, "", "", "", ""},
		{"other-room", chatapi.GroupChat{Type: "groupchat", From: "elsewhere@conference.x/alice", Body: "bob"}, false, "", "", "", ""},
		{"invitation", chatapi.Invitation{Type: "invitationReceived", Room: "room@conference.x", Inviter: "alice@x", Reason: "join us"}, true, "invitation", "room@conference.x", "Invitation to room", "invite room@conference.x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, d, topic, ok := offlineNotification("bob@x", "conference.x", tt.p, rooms)
			if ok != tt.push {
				t.Fatalf("push = %v, want %v", ok, tt.push)
			}
			if !ok {
				return
			}
			if d.Type != tt.typ || d.From != tt.from || deref(n.Subject) != tt.subject || topic != tt.topic {
				t.Errorf("got type %q from %q subject %q topic %q", d.Type, d.From, deref(n.Subject), topic)
			}
			if deref(n.Body) == "" || n.Actions == nil || len(*n.Actions) == 0 {
				t.Errorf("notification without body or actions: %+v", n)
			}
			if (tt.typ == "invitation") != (len(*n.Actions) == 1) {
				t.Errorf("actions %d for %s", len(*n.Actions), tt.typ)
			}
		})
	}
}

func TestMentions(t *testing.T) {
	tests := []struct {
		body, nick string
		want       bool
	}{
		{"bob", "bob", true},
		{"hi bob", "bob", true},
		{"bob: hi", "Bob", true},
		{"@bob", "bob", true},
		{"bobcat bob", "bob", true},
		{"bobcat", "bob", false},
		{"kabob", "bob", false},
		{"bob_x", "bob", false},
		{"héllo zoë!", "zoë", true},
		{"zoëlle", "zoë", false},
		{"anything", "", false},
		{"Dr. Who?", "dr. who", true},
	}
	for _, tt := range tests {
		if got := mentions(tt.body, tt.nick); got != tt.want {
			t.Errorf("mentions(%q, %q) = %v, want %v", tt.body, tt.nick, got, tt.want)
		}
	}
}

func TestCutBody(t *testing.T) {
	long := ""
	for range maxPushBody {
		long += "é"
	}
	got := cutBody(long)
	if len(got) > maxPushBody+len("…") {
		t.Errorf("cut to %d bytes", len(got))
	}
	if got[len(got)-len("…"):] != "…" {
		t.Error("no ellipsis")
	}
	if cutBody("short") != "short" {
		t.Error("short body changed")
	}
}

// FuzzMentions: room message bodies are untrusted; mentions never panics
// and only finds nicks the body contains.
func FuzzMentions(f *testing.F) {
	f.Add("hey bob, look", "bob")
	f.Add("bobcat", "bob")
	f.Add("zoë zoëlle", "zoë")
	f.Add("\xff\xfebob\x00", "bob")
	f.Fuzz(func(t *testing.T, body, nick string) {
		if mentions(body, nick) && !strings.Contains(strings.ToLower(body), strings.ToLower(nick)) {
			t.Fatalf("mentions(%q, %q) without the nick in the body", body, nick)
		}
	})
}

func TestPushLimiter(t *testing.T) {
	var l pushLimiter
	t0 := time.Date(2026, 11, 24, 4, 0, 10, 0, time.UTC)
	for i := range 3 {
		if ok, _ := l.allow("a@x", 3, t0); !ok {
			t.Fatalf("call %d refused", i)
		}
	}
	ok, wait := l.allow("a@x", 3, t0.Add(time.Second))
	if ok || wait != 49*time.Second {
		t.Errorf("fourth call: ok %v, wait %v; want refused, 49s", ok, wait)
	}
	if ok, _ := l.allow("b@x", 3, t0); !ok {
		t.Error("another user refused")
	}
	if ok, _ := l.allow("a@x", 3, t0.Add(50*time.Second)); !ok {
		t.Error("refused in the next window")
	}
	if len(l.counts) != 1 {
		t.Errorf("%d users counted, want only the new window's", len(l.counts))
	}
	if ok, _ := l.allow("a@x", -1, t0); !ok {
		t.Error("a negative limit refused")
	}
}
