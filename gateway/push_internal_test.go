package gateway

import (
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/store"
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
		{"room-private-message", chatapi.Chat{Type: "chat", From: "room@conference.x/alice", Body: "psst"}, true, "chat", "room@conference.x/alice", "alice in room (private)", "chat room@conference.x/alice"},
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
		{"invitation-by-nick", chatapi.Invitation{Type: "invitationReceived", Room: "room@conference.x", Inviter: "room@conference.x/alice"}, true, "invitation", "room@conference.x", "Invitation to room", "invite room@conference.x"},
		{"invitation-forged-by-a-user", chatapi.Invitation{Type: "invitationReceived", Room: "alice@x", Inviter: "alice@x/phone", From: "alice@x/phone"}, true, "invitation", "alice@x", "Invitation to alice", "invite alice@x"},
		{"invitation-history", chatapi.Invitation{Type: "invitationReceived", Room: "room@conference.x", Inviter: "alice@x", Stamp: "2026-01-01T00:00:00Z"}, false, "", "", "", ""},
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
			// The person the strangers check asks about (strangers.go).
			wantSender := tt.from
			switch tt.typ {
			case "groupchat":
				wantSender = "" // a room's member: the room is no stranger
			case "invitation":
				wantSender = "alice@x" // the inviter
				if tt.name == "invitation-by-nick" {
					// named by the room only: no person's JID (strangers.go)
					wantSender = "room@conference.x"
				}
				if !strings.HasPrefix(deref(n.Body), "alice invites you to ") { // the nick or the JID's local part
					t.Errorf("body %q", deref(n.Body))
				}
			}
			if d.Sender != wantSender {
				t.Errorf("sender %q, want %q", d.Sender, wantSender)
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

// TestPerMinute: the push limits hold a burst to the limit wherever it
// falls on the clock (a window per clock minute let twice the limit through
// across a minute's end), earn calls back at limit a minute, keep users
// apart, tell how long to wait, and behave alike in memory and in a store
// that gateways share.
func TestPerMinute(t *testing.T) {
	db, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	// A minute's last half second: the old windows refused nothing here.
	t0 := time.Date(2026, 12, 6, 3, 59, 59, 500_000_000, time.UTC)
	type call struct {
		user string
		at   time.Duration // after t0
		ok   bool
		wait time.Duration // when refused
	}
	tests := []struct {
		name  string
		limit int
		calls []call
	}{
		{"burst-across-a-minute", 3, []call{
			{"a", 0, true, 0}, {"a", 0, true, 0}, {"a", 0, true, 0},
			{"a", time.Second, false, 19 * time.Second}, // 00:00.5 of the next minute
			{"b", time.Second, true, 0},                 // another user
			{"a", 20 * time.Second, true, 0},            // one earned back
			{"a", 20 * time.Second, false, 20 * time.Second},
		}},
		{"steady-flow", 2, []call{
			{"a", 0, true, 0}, {"a", 0, true, 0},
			{"a", 30 * time.Second, true, 0},
			{"a", 60 * time.Second, true, 0},
			{"a", 61 * time.Second, false, 29 * time.Second},
			{"a", 3 * time.Minute, true, 0}, {"a", 3 * time.Minute, true, 0},
			{"a", 3 * time.Minute, false, 30 * time.Second},
		}},
		{"off", -1, []call{{"a", 0, true, 0}, {"a", 0, true, 0}, {"a", 0, true, 0}}},
		{"zero-is-one", 0, []call{{"a", 0, true, 0}, {"a", 0, false, time.Minute}}},
	}
	for _, tt := range tests {
		for _, where := range []string{"memory", "store"} {
			t.Run(tt.name+"/"+where, func(t *testing.T) {
				var now time.Time
				clock := func() time.Time { return now }
				var st AttemptStore
				if where == "store" {
					st = db
				}
				l := perMinute(tt.limit, st, tt.name+":", clock, log, false)
				for i, c := range tt.calls {
					now = t0.Add(c.at)
					ok, wait := l.take(c.user)
					// x/time/rate works in float seconds: a nanosecond or so off.
					if ok != c.ok || (!ok && (wait-c.wait).Abs() > time.Millisecond) {
						t.Fatalf("call %d (%s at +%v): %v, wait %v; want %v, wait %v", i, c.user, c.at, ok, wait, c.ok, c.wait)
					}
				}
			})
		}
	}
}
