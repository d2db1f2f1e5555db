package gateway

import (
	"bytes"
	"encoding/xml"
	"testing"

	"gosrc.io/xmpp/stanza"
)

// marshalChat is what SendChatMessage wrote before chatMessage: the
// stanza.Message through encoding/xml.
func marshalChat(t testing.TB, to, id, body string) []byte {
	t.Helper()
	msg := stanza.Message{Attrs: stanza.Attrs{To: to, Type: stanza.MessageTypeChat, Id: id}, Body: body}
	msg.Extensions = append(msg.Extensions, &stanza.StateActive{}, &originID{ID: id})
	b, err := xml.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var chatMessageSeeds = []struct{ name, to, body string }{
	{"plain", "bob@example.org", "hello"},
	{"markup", "bob@example.org", `<b>&amp; "quoted" 'single'</b>`},
	{"whitespace", "bob@example.org", "line 1\nline 2\r\n\ttabbed"},
	{"unicode", "zoë@example.org", "grüße 🎉 日本語"},
	{"invalid-utf8", "bob@example.org", "bad \xff\xfe bytes"},
	{"control", "bob@example.org", "nul \x00 bell \x07 esc \x1b"},
	{"replacement-char", "bob@example.org", "\uFFFD literal"},
	{"to-with-quote", `o"brien@example.org`, "x"},
	{"empty-body", "bob@example.org", ""},
	{"empty-to", "", "x"},
}

func TestChatMessage(t *testing.T) {
	for _, tt := range chatMessageSeeds {
		t.Run(tt.name, func(t *testing.T) {
			id := "ID" + tt.name
			got, want := chatMessage(tt.to, id, tt.body), marshalChat(t, tt.to, id, tt.body)
			if !bytes.Equal(got, want) {
				t.Errorf("chatMessage =\n%s\nxml.Marshal =\n%s", got, want)
			}
			// And it decodes back to what was sent (less what XML cannot carry).
			var m stanza.Message
			if err := xml.Unmarshal(got, &m); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if m.To != tt.to || m.Id != id || m.Type != stanza.MessageTypeChat {
				t.Errorf("decoded attributes %+v", m.Attrs)
			}
		})
	}
}

func FuzzChatMessage(f *testing.F) {
	for _, tt := range chatMessageSeeds {
		f.Add(tt.to, tt.body)
	}
	f.Fuzz(func(t *testing.T, to, body string) {
		if got, want := chatMessage(to, "ID", body), marshalChat(t, to, "ID", body); !bytes.Equal(got, want) {
			t.Errorf("chatMessage(%q, %q) =\n%s\nxml.Marshal =\n%s", to, body, got, want)
		}
	})
}

func BenchmarkChatMessage(b *testing.B) {
	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			chatMessage("bob@example.org", "IDIDIDIDIDIDIDIDIDIDIDIDID", "lat 1234")
		}
	})
	b.Run("xml.Marshal", func(b *testing.B) {
		for b.Loop() {
			marshalChat(b, "bob@example.org", "IDIDIDIDIDIDIDIDIDIDIDIDID", "lat 1234")
		}
	})
}
