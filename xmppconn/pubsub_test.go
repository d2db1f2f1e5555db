package xmppconn

import (
	"encoding/xml"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseUploadSlot(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want UploadSlot
		ok   bool
	}{
		{"headers", `<iq type='result' id='1'><slot xmlns='urn:xmpp:http:upload:0'><put url='https://u/p'>` +
			`<header name='Authorization'>Basic x</header><header name='cookie'>c=1</header>` +
			`<header name='X-Evil'>1</header><header name='Expires'>a
b</header></put><get url='https://u/g'/></slot></iq>`,
			UploadSlot{PutURL: "https://u/p", GetURL: "https://u/g", Headers: map[string]string{"Authorization": "Basic x", "Cookie": "c=1"}}, true},
		{"no-headers", `<iq type='result' id='1'><slot xmlns='urn:xmpp:http:upload:0'><put url='p'/><get url='g'/></slot></iq>`,
			UploadSlot{PutURL: "p", GetURL: "g"}, true},
		{"no-get", `<iq type='result' id='1'><slot xmlns='urn:xmpp:http:upload:0'><put url='p'/></slot></iq>`, UploadSlot{}, false},
		{"old-namespace", `<iq type='result' id='1'><slot xmlns='urn:xmpp:http:upload'><put>p</put><get>g</get></slot></iq>`, UploadSlot{}, false},
		{"empty", `<iq type='result' id='1'/>`, UploadSlot{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseUploadSlot([]byte(tt.raw))
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok %v", err, tt.ok)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Fatalf("slot (-want +got):\n%s", d)
			}
		})
	}
}

func TestJSONPayloadRoundTrip(t *testing.T) {
	js := `{"a":"<b> & ]]> \"c\""}`
	raw, err := JSONPayload([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	back, ok := ParseJSONPayload(raw)
	if !ok || back != js {
		t.Fatalf("round trip %q -> %s -> %q, %v", js, raw, back, ok)
	}
	if _, ok := ParseJSONPayload([]byte(`<json xmlns='urn:other'>{}</json>`)); ok {
		t.Fatal("accepted another namespace")
	}
}

func TestPublishMarshal(t *testing.T) {
	req := &pubsubRequest{
		Publish:        &publishReq{Node: "n", Items: []Item{{ID: "room@muc", Payload: []byte(`<conference xmlns='urn:xmpp:bookmarks:1' autojoin='true'/>`)}}},
		PublishOptions: &formWrap{Form: SubmitForm("http://jabber.org/protocol/pubsub#publish-options", []string{"pubsub#persist_items"}, map[string]string{"pubsub#persist_items": "true"})},
	}
	b, err := xml.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<pubsub xmlns="http://jabber.org/protocol/pubsub"><publish node="n"><item id="room@muc"><conference`,
		`<publish-options><x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE" type="hidden"><value>http://jabber.org/protocol/pubsub#publish-options</value></field><field var="pubsub#persist_items"><value>true</value></field></x></publish-options>`} {
		if !strings.Contains(string(b), want) {
			t.Fatalf("%s\nlacks %s", b, want)
		}
	}
	if strings.Contains(string(b), "<create") || strings.Contains(string(b), "<subscribe") {
		t.Fatalf("unset operations marshalled: %s", b)
	}
}

// FuzzParseUploadSlot: a slot from the server is untrusted; whatever it
// holds, only the three allowed headers come out, without line breaks.
func FuzzParseUploadSlot(f *testing.F) {
	f.Add(`<iq><slot xmlns='urn:xmpp:http:upload:0'><put url='p'><header name='Cookie'>a</header></put><get url='g'/></slot></iq>`)
	f.Add(`<iq><slot xmlns='urn:xmpp:http:upload:0'><put url='p'><header name='Host'>x&#13;&#10;y</header></put><get url='g'/></slot></iq>`)
	f.Fuzz(func(t *testing.T, raw string) {
		slot, err := ParseUploadSlot([]byte(raw))
		if err != nil {
			return
		}
		if slot.PutURL == "" || slot.GetURL == "" {
			t.Fatalf("slot without URLs: %+v", slot)
		}
		for k, v := range slot.Headers {
			if k != "Authorization" && k != "Cookie" && k != "Expires" {
				t.Fatalf("header %q let through", k)
			}
			if strings.ContainsAny(v, "\r\n") {
				t.Fatalf("header value %q has a line break", v)
			}
		}
	})
}
