package xmppconn

import (
	"bytes"
	"encoding/xml"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// notification is what ejabberd 23.01's mod_push sends (include_sender
// and include_body), as read on its component stream.
const notification = `<iq type='set' id='p1' from='localhost' to='push.localhost'>` +
	`<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='N1'><item>` +
	`<notification xmlns='urn:xmpp:push:0'><x xmlns='jabber:x:data' type='submit'>` +
	`<field var='FORM_TYPE'><value>urn:xmpp:push:summary</value></field>` +
	`<field var='last-message-sender'><value>bob@localhost/phone</value></field>` +
	`<field var='last-message-body'><value>hi &lt;there&gt;</value></field></x></notification></item></publish>` +
	`<publish-options><x xmlns='jabber:x:data' type='submit'>` +
	`<field var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>` +
	`<field var='secret'><value>S3</value></field></x></publish-options></pubsub></iq>`

func TestComponentIQ(t *testing.T) {
	tests := []struct {
		name, in string
		reply    string // a substring of the reply; "" means no reply
		queued   *PushNotification
		full     bool // the queue has no room
	}{
		{"notification", notification, `type='result' id='p1' from='push.localhost' to='localhost'/>`,
			&PushNotification{From: "localhost", Node: "N1", Secret: "S3", Sender: "bob@localhost/phone", Body: "hi <there>"}, false},
		{"overloaded", notification, `<error type='wait'><resource-constraint`, nil, true},
		{"no summary", `<iq type='set' id='p2' from='localhost'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='N2'/></pubsub></iq>`,
			`type='result'`, &PushNotification{From: "localhost", Node: "N2"}, false},
		{"disco#info", `<iq type='get' id='d1' from='alice@localhost/r'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`,
			`<identity category='pubsub' type='push' name='sparkgate'/><feature var='urn:xmpp:push:0'/>`, nil, false},
		{"disco#info of a node", `<iq type='get' id='d2' from='a@b'><query xmlns='http://jabber.org/protocol/disco#info' node='x'/></iq>`,
			`<service-unavailable`, nil, false},
		{"other get", `<iq type='get' id='v1' from='a@b'><query xmlns='jabber:iq:version'/></iq>`, `<service-unavailable`, nil, false},
		{"publish without node", `<iq type='set' id='x' from='a'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish/></pubsub></iq>`,
			`<service-unavailable`, nil, false},
		{"a result", `<iq type='result' id='r1' from='localhost'/>`, "", nil, false},
		{"an error", `<iq type='error' id='r2' from='localhost'/>`, "", nil, false},
		{"not XML", `<iq type='set'`, "", nil, false},
		{"escaped id", `<iq type='get' id="a'b&lt;" from='x'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`,
			`id='a&#39;b&lt;'`, nil, false},
	}
	log := slog.New(slog.DiscardHandler)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := make(chan PushNotification, 1)
			if tt.full {
				q <- PushNotification{}
			}
			reply := componentIQ([]byte(tt.in), "push.localhost", q, log)
			if tt.reply == "" {
				if reply != nil {
					t.Fatalf("reply %s, want none", reply)
				}
			} else if !strings.Contains(string(reply), tt.reply) {
				t.Fatalf("reply %s, want it to contain %s", reply, tt.reply)
			}
			if reply != nil {
				wellFormed(t, reply)
			}
			if tt.queued != nil {
				if len(q) != 1 {
					t.Fatal("nothing queued")
				}
				if n := <-q; n != *tt.queued {
					t.Fatalf("queued %+v, want %+v", n, *tt.queued)
				}
			} else if !tt.full && len(q) != 0 {
				t.Fatalf("queued %+v", <-q)
			}
		})
	}
}

// wellFormed fails t unless b is one well-formed XML element.
func wellFormed(t testing.TB, b []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("reply %q is not well-formed: %v", b, err)
		}
		switch tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
	if roots != 1 || depth != 0 {
		t.Fatalf("reply %q is not one element", b)
	}
}

// FuzzComponentIQ: whatever arrives on the component stream, componentIQ
// never panics, and what it answers is one well-formed element.
func FuzzComponentIQ(f *testing.F) {
	f.Add(notification)
	f.Add(`<iq type='get' id='d1' from='a'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	f.Add(`<iq type='set' id='&quot;' from='&lt;'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='n'/></pubsub></iq>`)
	log := slog.New(slog.DiscardHandler)
	f.Fuzz(func(t *testing.T, in string) {
		q := make(chan PushNotification, 1)
		if reply := componentIQ([]byte(in), "push.localhost", q, log); reply != nil {
			wellFormed(t, reply)
		}
	})
}
