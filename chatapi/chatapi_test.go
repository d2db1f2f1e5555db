package chatapi_test

import (
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sparkgate/sparkgate/chatapi"
)

var (
	_ chatapi.Payload = chatapi.Chat{}
	_ chatapi.Payload = chatapi.ChatState{}
	_ chatapi.Payload = chatapi.GroupChat{}
	_ chatapi.Payload = chatapi.Invitation{}
	_ chatapi.Payload = chatapi.Presence{}
	_ chatapi.Payload = chatapi.XMPP{}
	_ chatapi.Payload = chatapi.Notify{}
	_ chatapi.Payload = chatapi.PubSub{}
	_ chatapi.Payload = chatapi.Receipt{}
	_ chatapi.Payload = chatapi.Connect{}
	_ chatapi.Payload = chatapi.Reset{}
	_ chatapi.Payload = chatapi.Close{}
	_ chatapi.Payload = chatapi.Error{}
	_ chatapi.Payload = chatapi.Session{}
	_ chatapi.Payload = chatapi.Roster{}
	_ chatapi.Payload = chatapi.Request{}
	_ chatapi.Payload = chatapi.Blocklist{}
)

func TestEncode(t *testing.T) {
	tests := []struct {
		in    chatapi.Payload
		event string
		want  string // golden JSON
	}{
		0: {
			in:    chatapi.Chat{Type: "chat", To: "bob@example.org", From: "alice@example.org/web", Body: "hello"},
			event: "chatapi.chat",
			want:  `{"type":"chat","to":"bob@example.org","from":"alice@example.org/web","data":null,"body":"hello"}`,
		},
		1: { // the reference dropped this message: quotes, newline, backslash, unicode
			in: chatapi.Chat{
				Type: "chat", To: "bob@example.org", From: "alice@example.org/web",
				Data: json.RawMessage(`{"k":1}`), Body: "He said \"hi\"\nC:\\ \u00e9\u2028<b>",
				ID: "m1", StanzaID: "1700000000000001", Stamp: "2026-01-02T03:04:05Z", Thread: "t1", Sent: true,
			},
			event: "chatapi.chat",
			want:  `{"type":"chat","to":"bob@example.org","from":"alice@example.org/web","data":{"k":1},"body":"He said \"hi\"\nC:\\ é\u2028\u003cb\u003e","id":"m1","stanzaId":"1700000000000001","stamp":"2026-01-02T03:04:05Z","thread":"t1","sent":true}`,
		},
		2: {
			in:    chatapi.ChatState{Type: chatapi.TypeChatState, To: "bob@example.org", From: "alice@example.org/web", State: chatapi.StateComposing},
			event: "chatapi.chat",
			want:  `{"type":"chatstate","to":"bob@example.org","from":"alice@example.org/web","state":"composing"}`,
		},
		3: {
			in:    chatapi.GroupChat{Type: "groupchat", To: "bob@example.org/web", From: "room@conference.example.org/alice", Body: "hello"},
			event: "chatapi.muc",
			want:  `{"type":"groupchat","to":"bob@example.org/web","from":"room@conference.example.org/alice","data":null,"body":"hello"}`,
		},
		4: {
			in:    chatapi.GroupChat{Type: "groupchat", To: "bob@example.org/web", From: "room@conference.example.org/alice", Body: "old", StanzaID: "s9", Stamp: "2026-01-02T03:04:05Z"},
			event: "chatapi.muc",
			want:  `{"type":"groupchat","to":"bob@example.org/web","from":"room@conference.example.org/alice","data":null,"body":"old","stanzaId":"s9","stamp":"2026-01-02T03:04:05Z"}`,
		},
		5: {
			in: chatapi.Invitation{
				Type: chatapi.TypeInvitationReceived, Password: "", Room: "room@conference.example.org",
				Inviter: "alice@example.org", To: "bob@example.org", From: "room@conference.example.org",
				URL: "https://meet.example.org/room", Reason: "Please join me",
			},
			event: "chatapi.muc",
			want:  `{"type":"invitationReceived","password":"","room":"room@conference.example.org","inviter":"alice@example.org","to":"bob@example.org","from":"room@conference.example.org","url":"https://meet.example.org/room","reason":"Please join me"}`,
		},
		6: {
			in:    chatapi.Invitation{Type: chatapi.TypeInvitationReceived, Room: "r@c.example.org", Inviter: "alice@example.org", From: "alice@example.org", To: "bob@example.org", Direct: true},
			event: "chatapi.muc",
			want:  `{"type":"invitationReceived","password":"","room":"r@c.example.org","inviter":"alice@example.org","to":"bob@example.org","from":"alice@example.org","url":"","reason":"","direct":true}`,
		},
		7: {
			in: chatapi.Presence{
				Type: chatapi.TypePresence, To: "bob@example.org/web", From: "alice@example.org/phone",
				Status: "I am busy right now", Show: "dnd", PresenceType: chatapi.PresenceAvailable, Priority: 5,
			},
			event: "chatapi.presence",
			want:  `{"type":"presence","to":"bob@example.org/web","from":"alice@example.org/phone","status":"I am busy right now","show":"dnd","presenceType":"available","priority":5}`,
		},
		8: {
			in: chatapi.Presence{
				Type: chatapi.TypePresence, To: "bob@example.org/web", From: "room@conference.example.org/alice",
				Show: "available", PresenceType: chatapi.PresenceUnavailable, Priority: -1,
				Nick: "alice", Role: "none", Affiliation: "member", JID: "alice@example.org/phone",
			},
			event: "chatapi.presence",
			want:  `{"type":"presence","to":"bob@example.org/web","from":"room@conference.example.org/alice","status":"","show":"available","presenceType":"unavailable","priority":-1,"nick":"alice","role":"none","affiliation":"member","jid":"alice@example.org/phone"}`,
		},
		9: {
			in:    chatapi.XMPP{XMPP: []byte(`<message xmlns="jabber:client"><body>hi</body></message>`)},
			event: "chatapi.xmpp",
			want:  `{"xmpp":"PG1lc3NhZ2UgeG1sbnM9ImphYmJlcjpjbGllbnQiPjxib2R5PmhpPC9ib2R5PjwvbWVzc2FnZT4="}`,
		},
		10: {
			in:    chatapi.Notify{Type: chatapi.TypeNotify, To: "bob@example.org", From: "alice@example.org", Data: json.RawMessage(`{"a":[1,2]}`)},
			event: "chatapi.notify",
			want:  `{"type":"notify","to":"bob@example.org","from":"alice@example.org","data":{"a":[1,2]}}`,
		},
		11: {
			in: chatapi.PubSub{
				Type: chatapi.TypePubSubItem, To: "bob@example.org", From: "pubsub.example.org", Node: "news",
				ItemID: "i1", Payload: `<json xmlns="urn:xmpp:json:0">{"x":1}</json>`, Data: json.RawMessage(`{"x":1}`),
			},
			event: "chatapi.pubsub",
			want:  `{"type":"item","to":"bob@example.org","from":"pubsub.example.org","node":"news","itemId":"i1","payload":"\u003cjson xmlns=\"urn:xmpp:json:0\"\u003e{\"x\":1}\u003c/json\u003e","data":{"x":1}}`,
		},
		12: {
			in:    chatapi.PubSub{Type: chatapi.TypePubSubPurge, To: "bob@example.org", From: "alice@example.org", Node: "urn:xmpp:microblog:0"},
			event: "chatapi.pubsub",
			want:  `{"type":"purge","to":"bob@example.org","from":"alice@example.org","node":"urn:xmpp:microblog:0"}`,
		},
		13: {
			in:    chatapi.Receipt{Type: chatapi.TypeReceived, To: "bob@example.org", From: "alice@example.org/phone", ID: "m1"},
			event: "chatapi.receipt",
			want:  `{"type":"received","to":"bob@example.org","from":"alice@example.org/phone","id":"m1"}`,
		},
		14: {
			in:    chatapi.Connect{Email: "bob@example.org", Name: "Bob", Username: "bob"},
			event: "onConnect",
			want:  `{"email":"bob@example.org","name":"Bob","username":"bob"}`,
		},
		15: {
			in:    chatapi.Connect{Email: "", Name: "Bob", Username: "bob", JID: "bob@example.org", Resumed: true},
			event: "onConnect",
			want:  `{"email":"","name":"Bob","username":"bob","jid":"bob@example.org","resumed":true}`,
		},
		16: {
			in:    chatapi.Reset{Reason: chatapi.ResetExpired, LastEventID: "1764000000000-12"},
			event: "chatapi.reset",
			want:  `{"reason":"expired","lastEventId":"1764000000000-12"}`,
		},
		17: {
			in:    chatapi.Close{Reason: chatapi.CloseSlow, Resume: true},
			event: "chatapi.close",
			want:  `{"reason":"slow","resume":true}`,
		},
		18: {
			in:    chatapi.Close{Reason: chatapi.CloseLogout},
			event: "chatapi.close",
			want:  `{"reason":"logout","resume":false}`,
		},
		19: {
			in:    chatapi.Error{Type: "error", To: "bob@example.org/web", From: "nobody@example.org", ID: "m2", Condition: "service-unavailable"},
			event: "chatapi.error",
			want:  `{"type":"error","to":"bob@example.org/web","from":"nobody@example.org","id":"m2","condition":"service-unavailable"}`,
		},
		20: {
			in:    chatapi.Session{State: chatapi.SessionReconnecting, Reason: "connection reset"},
			event: "chatapi.session",
			want:  `{"state":"reconnecting","reason":"connection reset"}`,
		},
		21: {
			in:    chatapi.Roster{JID: "alice@example.org", Name: "Alice", Subscription: "none", Ask: "subscribe", Groups: []string{"Friends"}},
			event: "chatapi.roster",
			want:  `{"jid":"alice@example.org","name":"Alice","subscription":"none","ask":"subscribe","groups":["Friends"],"removed":false}`,
		},
		22: {
			in:    chatapi.Roster{JID: "alice@example.org", Subscription: "remove", Groups: []string{}, Removed: true},
			event: "chatapi.roster",
			want:  `{"jid":"alice@example.org","name":"","subscription":"remove","groups":[],"removed":true}`,
		},
		23: {
			in:    chatapi.Request{JID: "alice@example.org", Answer: chatapi.RequestDeclined},
			event: "chatapi.request",
			want:  `{"jid":"alice@example.org","answer":"declined"}`,
		},
		24: {
			in:    chatapi.Blocklist{Action: chatapi.BlocklistBlock, JIDs: []string{"spam@example.org"}},
			event: "chatapi.blocklist",
			want:  `{"action":"block","jids":["spam@example.org"]}`,
		},
		25: {
			in:    chatapi.Blocklist{Action: chatapi.BlocklistUnblock, JIDs: []string{}},
			event: "chatapi.blocklist",
			want:  `{"action":"unblock","jids":[]}`,
		},
	}
	for i, tt := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			got, err := json.Marshal(tt.in)
			if err != nil {
				t.Fatalf("json.Marshal(%#v): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("json.Marshal(%T) mismatch (-want +got):\n%s", tt.in, diff)
			}
			if got := tt.in.EventName(); got != tt.event {
				t.Errorf("%T.EventName() = %q, want %q", tt.in, got, tt.event)
			}
			if strings.ContainsAny(string(got), "\r\n") {
				t.Errorf("json.Marshal(%T) contains a raw line break: %q", tt.in, got)
			}
		})
	}
}

// TestDecodeReferenceShapes checks that payloads shaped like the reference's
// (no sparkgate additions) decode into the types.
func TestDecodeReferenceShapes(t *testing.T) {
	var c chatapi.Chat
	if err := json.Unmarshal([]byte(`{"type":"chat","to":"a@x","from":"b@x","data":null,"body":"hi"}`), &c); err != nil {
		t.Fatal(err)
	}
	want := chatapi.Chat{Type: "chat", To: "a@x", From: "b@x", Data: json.RawMessage("null"), Body: "hi"}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("decode chat (-want +got):\n%s", diff)
	}
}

// TestDeps keeps chatapi a leaf: standard library only.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	got := strings.Fields(string(out))
	want := []string{"github.com/sparkgate/sparkgate/chatapi"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("chatapi imports outside the standard library (-want +got):\n%s", diff)
	}
}
