package xmppconn

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
	"unicode/utf8"

	"gosrc.io/xmpp/stanza"

	"github.com/sparkgate/sparkgate/chatapi"
)

// originIDExt is XEP-0359's origin-id as a gosrc extension, for the
// reference encodings below.
type originIDExt struct {
	stanza.MsgExtension
	XMLName xml.Name `xml:"urn:xmpp:sid:0 origin-id"`
	ID      string   `xml:"id,attr"`
}

// jsonExt is XEP-0335's container as a gosrc extension.
type jsonExt struct {
	stanza.MsgExtension
	XMLName xml.Name `xml:"urn:xmpp:json:0 json"`
	Text    string   `xml:",chardata"`
}

// marshalChat is xml.Marshal of the stanza.Message chatStanza stands for.
func marshalChat(t testing.TB, to, id, body string, data json.RawMessage) []byte {
	t.Helper()
	msg := stanza.Message{Attrs: stanza.Attrs{To: to, Type: stanza.MessageTypeChat, Id: id}, Body: body}
	msg.Extensions = append(msg.Extensions, &stanza.StateActive{}, &originIDExt{ID: id}, &stanza.ReceiptRequest{}, &stanza.Markable{})
	if data != nil {
		msg.Extensions = append(msg.Extensions, &jsonExt{Text: string(data)})
	}
	return marshal(t, msg)
}

// marshalGroupChat is xml.Marshal of the message groupChatStanza stands for.
func marshalGroupChat(t testing.TB, room, id, body string) []byte {
	t.Helper()
	msg := stanza.Message{Attrs: stanza.Attrs{To: room, Type: stanza.MessageTypeGroupchat, Id: id}, Body: body}
	msg.Extensions = append(msg.Extensions, &originIDExt{ID: id})
	return marshal(t, msg)
}

func marshal(t testing.TB, msg stanza.Message) []byte {
	t.Helper()
	b, err := xml.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var messageSeeds = []struct {
	name, to, body string
	data           json.RawMessage
}{
	{"plain", "bob@example.org", "hello", nil},
	{"markup", "bob@example.org", `<b>&amp; "quoted" 'single'</b>`, nil},
	{"whitespace", "bob@example.org", "line 1\nline 2\r\n\ttabbed", nil},
	{"unicode", "zoë@example.org", "grüße 🎉 日本語", nil},
	{"invalid-utf8", "bob@example.org", "bad \xff\xfe bytes", nil},
	{"control", "bob@example.org", "nul \x00 bell \x07 esc \x1b", nil},
	{"replacement-char", "bob@example.org", "\uFFFD literal", nil},
	{"to-with-quote", `o"brien@example.org`, "x", nil},
	{"empty-body", "bob@example.org", "", nil},
	{"empty-to", "", "x", nil},
	{"data", "bob@example.org", "card", json.RawMessage(`{"body":"card","n":1,"html":"<i>&</i>"}`)},
	{"data-only", "bob@example.org", "", json.RawMessage(`[1,2,3]`)},
}

// TestMessageWriters: the direct writers give xml.Marshal's bytes, the
// reader accepts them, and they decode back to what was sent.
func TestMessageWriters(t *testing.T) {
	for _, tt := range messageSeeds {
		t.Run(tt.name, func(t *testing.T) {
			id := "ID" + tt.name
			checkWriters(t, tt.to, id, tt.body, tt.data)
			// Through the stream's reader and the translation a receiver
			// runs, the message comes back as it was sent.
			raw := chatStanza(tt.to, id, tt.body, tt.data)
			st, err := decodeStanza(bytes.Replace(raw, []byte("<message "), []byte(`<message from="alice@example.org/r" `), 1))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			var body string
			var data json.RawMessage
			for _, p := range Translate(&st, tt.to, testMUCServices) {
				switch v := p.(type) {
				case chatapi.Chat:
					body, data = v.Body, v.Data
				case chatapi.Notify: // a message with data and no body
					data = v.Data
				}
			}
			// XML cannot carry invalid UTF-8 or most controls: those
			// arrive replaced, which the writers share with xml.Marshal.
			if xmlText(tt.body) && body != tt.body {
				t.Errorf("body read back %q, want %q", body, tt.body)
			}
			if string(data) != string(tt.data) {
				t.Errorf("data read back %s, want %s", data, tt.data)
			}
		})
	}
}

// xmlText reports whether s is text XML can carry unchanged.
func xmlText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool {
		return r < ' ' && r != '\t' && r != '\n' && r != '\r' || r == '\uFFFD'
	}) && !strings.Contains(s, "\r")
}

// checkWriters compares both writers with xml.Marshal and the reader.
func checkWriters(t *testing.T, to, id, body string, data json.RawMessage) {
	t.Helper()
	chat := chatStanza(to, id, body, data)
	if want := marshalChat(t, to, id, body, data); !bytes.Equal(chat, want) {
		t.Errorf("chatStanza =\n%s\nxml.Marshal =\n%s", chat, want)
	}
	group := groupChatStanza(to, id, body)
	if want := marshalGroupChat(t, to, id, body); !bytes.Equal(group, want) {
		t.Errorf("groupChatStanza =\n%s\nxml.Marshal =\n%s", group, want)
	}
	for _, raw := range [][]byte{chat, group} {
		if _, err := parseStanza(raw); err != nil {
			t.Errorf("the stanza check refuses %s: %v", raw, err)
		}
	}
}

func FuzzMessageWriters(f *testing.F) {
	for _, tt := range messageSeeds {
		f.Add(tt.to, tt.body, []byte(tt.data))
	}
	f.Fuzz(func(t *testing.T, to, body string, data []byte) {
		var d json.RawMessage
		if json.Valid(data) {
			d = data // SendChat refuses data that is not JSON
		}
		checkWriters(t, to, "ID", body, d)
	})
}

func BenchmarkChatStanza(b *testing.B) {
	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			chatStanza("bob@example.org", "IDIDIDIDIDIDIDIDIDIDIDIDID", "lat 1234", nil)
		}
	})
	b.Run("xml.Marshal", func(b *testing.B) {
		for b.Loop() {
			marshalChat(b, "bob@example.org", "IDIDIDIDIDIDIDIDIDIDIDIDID", "lat 1234", nil)
		}
	})
}
