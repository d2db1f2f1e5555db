package xmppconn

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sparkgate/sparkgate/chatapi"
)

func TestTranslateModern(t *testing.T) {
	const self = "alice@localhost"
	from := `from='bob@localhost/r' to='alice@localhost/w' type='chat' id='m2'`
	const u = "https://upload.localhost/a/cat.png" // a file (XEP-0066, oob.go)
	tests := []struct {
		name, raw string
		want      []chatapi.Payload
	}{
		{"correction", `<message ` + from + `><body>fixed</body><replace xmlns='urn:xmpp:message-correct:0' id='m1'/></message>`,
			[]chatapi.Payload{chatapi.Chat{Type: "chat", To: "alice@localhost/w", From: "bob@localhost/r", Body: "fixed", ID: "m2", Replace: "m1"}}},
		{"retraction", `<message ` + from + `><body>This person attempted to retract</body><retract xmlns='urn:xmpp:message-retract:1' id='m1'/><fallback xmlns='urn:xmpp:fallback:0'/></message>`,
			[]chatapi.Payload{chatapi.Chat{Type: "chat", To: "alice@localhost/w", From: "bob@localhost/r", ID: "m2", Retract: "m1"}}},
		{"retraction as older clients send it", `<message ` + from + `><body>fallback</body><apply-to xmlns='urn:xmpp:fasten:0' id='m1'><retract xmlns='urn:xmpp:message-retract:0'/></apply-to></message>`,
			[]chatapi.Payload{chatapi.Chat{Type: "chat", To: "alice@localhost/w", From: "bob@localhost/r", ID: "m2", Retract: "m1"}}},
		{"reactions", `<message ` + from + `><reactions xmlns='urn:xmpp:reactions:0' id='m1'><reaction>👍</reaction><reaction>🎉</reaction><reaction></reaction></reactions></message>`,
			[]chatapi.Payload{chatapi.Reactions{Type: "reactions", To: "alice@localhost/w", From: "bob@localhost/r", ID: "m1", Reactions: []string{"👍", "🎉"}}}},
		{"reactions withdrawn", `<message ` + from + `><reactions xmlns='urn:xmpp:reactions:0' id='m1'/></message>`,
			[]chatapi.Payload{chatapi.Reactions{Type: "reactions", To: "alice@localhost/w", From: "bob@localhost/r", ID: "m1", Reactions: []string{}}}},
		{"too large a reaction", `<message ` + from + `><reactions xmlns='urn:xmpp:reactions:0' id='m1'><reaction>` + strings.Repeat("x", 65) + `</reaction></reactions></message>`,
			[]chatapi.Payload{chatapi.Reactions{Type: "reactions", To: "alice@localhost/w", From: "bob@localhost/r", ID: "m1", Reactions: []string{}}}},
		{"reactions without an id are nothing", `<message ` + from + `><reactions xmlns='urn:xmpp:reactions:0'><reaction>👍</reaction></reactions></message>`, nil},
		{"reply", `<message ` + from + `><body>> hi\nyes</body><reply xmlns='urn:xmpp:reply:0' to='alice@localhost/w' id='m1'/></message>`,
			[]chatapi.Payload{chatapi.Chat{Type: "chat", To: "alice@localhost/w", From: "bob@localhost/r", Body: `> hi\nyes`, ID: "m2", ReplyTo: "m1"}}},
		{"file with a description", `<message ` + from + `><body>` + u + `</body><x xmlns='jabber:x:oob'><url>` + u + `</url><desc>a cat</desc></x></message>`,
			[]chatapi.Payload{chatapi.Chat{Type: "chat", To: "alice@localhost/w", From: "bob@localhost/r", Body: u, ID: "m2", File: &chatapi.File{URL: u, Desc: "a cat"}}}},
		{"file alone", `<message ` + from + `><body>` + u + `</body><x xmlns='jabber:x:oob'><url>` + u + `</url></x></message>`,
			[]chatapi.Payload{chatapi.Chat{Type: "chat", To: "alice@localhost/w", From: "bob@localhost/r", Body: u, ID: "m2", File: &chatapi.File{URL: u}}}},
		{"no url is no file", `<message ` + from + `><body>hi</body><x xmlns='jabber:x:oob'/></message>`,
			[]chatapi.Payload{chatapi.Chat{Type: "chat", To: "alice@localhost/w", From: "bob@localhost/r", Body: "hi", ID: "m2"}}},
		{"too long a url is no file", `<message ` + from + `><body>hi</body><x xmlns='jabber:x:oob'><url>https://x/` + strings.Repeat("a", maxFileURL) + `</url></x></message>`,
			[]chatapi.Payload{chatapi.Chat{Type: "chat", To: "alice@localhost/w", From: "bob@localhost/r", Body: "hi", ID: "m2"}}},
		{"room file", `<message from='r@conference.localhost/bob' to='alice@localhost/w' type='groupchat' id='g1'><body>` + u + `</body><x xmlns='jabber:x:oob'><url>` + u + `</url></x></message>`,
			[]chatapi.Payload{chatapi.GroupChat{Type: "groupchat", To: "alice@localhost/w", From: "r@conference.localhost/bob", Body: u, ID: "g1", File: &chatapi.File{URL: u}}}},
		{"avatar (XEP-0084)", `<message from='bob@localhost' to='alice@localhost/w' id='p1'><event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:avatar:metadata'><item id='abc'><metadata xmlns='urn:xmpp:avatar:metadata'><info id='elsewhere' bytes='9' type='image/gif' url='https://x/a.gif'/><info id='abc' bytes='1234' type='image/png' width='64' height='64'/></metadata></item></items></event></message>`,
			[]chatapi.Payload{
				chatapi.PubSub{Type: "item", To: "alice@localhost/w", From: "bob@localhost", Node: "urn:xmpp:avatar:metadata", ItemID: "abc", Payload: `<metadata xmlns='urn:xmpp:avatar:metadata'><info id='elsewhere' bytes='9' type='image/gif' url='https://x/a.gif'/><info id='abc' bytes='1234' type='image/png' width='64' height='64'/></metadata>`},
				chatapi.Avatar{JID: "bob@localhost", ID: "abc", Type: "image/png", Size: 1234, Width: 64, Height: 64},
			}},
		{"avatar removed", `<message from='bob@localhost' to='alice@localhost/w' id='p2'><event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:avatar:metadata'><item id='current'><metadata xmlns='urn:xmpp:avatar:metadata'/></item></items></event></message>`,
			[]chatapi.Payload{
				chatapi.PubSub{Type: "item", To: "alice@localhost/w", From: "bob@localhost", Node: "urn:xmpp:avatar:metadata", ItemID: "current", Payload: `<metadata xmlns='urn:xmpp:avatar:metadata'/>`},
				chatapi.Avatar{JID: "bob@localhost"},
			}},
		{"nick (XEP-0172)", `<message from='bob@localhost' to='alice@localhost/w' id='p3'><event xmlns='http://jabber.org/protocol/pubsub#event'><items node='http://jabber.org/protocol/nick'><item id='current'><nick xmlns='http://jabber.org/protocol/nick'> Bobby </nick></item></items></event></message>`,
			[]chatapi.Payload{
				chatapi.PubSub{Type: "item", To: "alice@localhost/w", From: "bob@localhost", Node: "http://jabber.org/protocol/nick", ItemID: "current", Payload: `<nick xmlns='http://jabber.org/protocol/nick'> Bobby </nick>`},
				chatapi.Nick{JID: "bob@localhost", Nick: "Bobby"},
			}},
		{"nick of the wrong namespace", `<message from='bob@localhost' to='alice@localhost/w' id='p4'><event xmlns='http://jabber.org/protocol/pubsub#event'><items node='http://jabber.org/protocol/nick'><item id='current'><nick xmlns='urn:other'>B</nick></item></items></event></message>`,
			[]chatapi.Payload{
				chatapi.PubSub{Type: "item", To: "alice@localhost/w", From: "bob@localhost", Node: "http://jabber.org/protocol/nick", ItemID: "current", Payload: `<nick xmlns='urn:other'>B</nick>`},
			}},
		{"a plain message", `<message ` + from + `><body>hi</body></message>`,
			[]chatapi.Payload{chatapi.Chat{Type: "chat", To: "alice@localhost/w", From: "bob@localhost/r", Body: "hi", ID: "m2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := decodeStanza([]byte(tt.raw))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, Translate(&st, self, nil)); diff != "" {
				t.Errorf("Translate (-want +got):\n%s", diff)
			}
		})
	}
}

// TestModernStanzas: what the verbs write is read back by a receiver as
// the event they mean.
func TestModernStanzas(t *testing.T) {
	tests := []struct {
		name string
		raw  []byte
		want chatapi.Payload
	}{
		{"correction", modernStanza("chat", "bob@localhost", "n1", "fixed", []byte(`<replace xmlns="urn:xmpp:message-correct:0" id="m&lt;1"></replace>`)),
			chatapi.Chat{Type: "chat", To: "bob@localhost", From: "alice@localhost/w", Body: "fixed", ID: "n1", Replace: "m<1"}},
		{"retraction", modernStanza("chat", "bob@localhost", "n2", retractFallback, []byte(`<retract xmlns="urn:xmpp:message-retract:1" id="m1"></retract>`)),
			chatapi.Chat{Type: "chat", To: "bob@localhost", From: "alice@localhost/w", ID: "n2", Retract: "m1"}},
		{"reactions", modernStanza("chat", "bob@localhost", "n3", "", []byte(`<reactions xmlns="urn:xmpp:reactions:0" id="m1"><reaction>👍</reaction></reactions>`)),
			chatapi.Reactions{Type: "reactions", To: "bob@localhost", From: "alice@localhost/w", ID: "m1", Reactions: []string{"👍"}}},
		// In a room, as the room passes them on (from the occupant).
		{"room correction", modernStanza("groupchat", "r@conf.localhost", "n4", "fixed", correctionExt("m1")),
			chatapi.GroupChat{Type: "groupchat", To: "r@conf.localhost", From: "alice@localhost/w", Body: "fixed", ID: "n4", Replace: "m1"}},
		{"room retraction", modernStanza("groupchat", "r@conf.localhost", "n5", retractFallback, retractionExt("s1")),
			chatapi.GroupChat{Type: "groupchat", To: "r@conf.localhost", From: "alice@localhost/w", ID: "n5", Retract: "s1"}},
		{"room reactions", modernStanza("groupchat", "r@conf.localhost", "n6", "", mustReactions(t, "s1", "🎉", "👍")),
			chatapi.Reactions{Type: "reactions", To: "r@conf.localhost", From: "alice@localhost/w", ID: "s1", Reactions: []string{"🎉", "👍"}}},
		{"room reply", modernStanza("groupchat", "r@conf.localhost", "n7", "yes", replyExt("r@conf.localhost/bob", "s1")),
			chatapi.GroupChat{Type: "groupchat", To: "r@conf.localhost", From: "alice@localhost/w", Body: "yes", ID: "n7", ReplyTo: "s1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := decodeStanza([]byte(strings.Replace(string(tt.raw), "<message ", `<message from="alice@localhost/w" `, 1)))
			if err != nil {
				t.Fatalf("%s: %v", tt.raw, err)
			}
			got := Translate(&st, "bob@localhost", nil)
			if len(got) != 1 {
				t.Fatalf("Translate(%s) = %+v", tt.raw, got)
			}
			if diff := cmp.Diff(tt.want, got[0]); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func mustReactions(t *testing.T, id string, reactions ...string) []byte {
	t.Helper()
	ext, err := reactionsExt(id, reactions)
	if err != nil {
		t.Fatal(err)
	}
	return ext
}

// TestReactionsExtRefuses: a set the verbs refuse before writing anything.
func TestReactionsExtRefuses(t *testing.T) {
	many := make([]string, maxReactions+1)
	for i := range many {
		many[i] = "👍"
	}
	for i, tt := range []struct {
		id        string
		reactions []string
	}{
		{"", []string{"👍"}},
		{"s1", many},
		{"s1", []string{""}},
		{"s1", []string{strings.Repeat("x", maxReactionBytes+1)}},
		{"s1", []string{"\xff"}},
	} {
		if _, err := reactionsExt(tt.id, tt.reactions); !errors.Is(err, ErrInvalidStanza) {
			t.Errorf("%d: reactionsExt(%q, %d reactions) = %v, want ErrInvalidStanza", i, tt.id, len(tt.reactions), err)
		}
	}
}
