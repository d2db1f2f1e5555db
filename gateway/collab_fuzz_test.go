package gateway

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"testing"

	"github.com/sparkgate/sparkgate/xmppconn"
)

func TestJSONItemPayload(t *testing.T) {
	tests := []struct {
		name, ct, body string
		status         int    // 0: accepted
		want           string // the container, when accepted
	}{
		{"object", "application/json", `{"a": 1}`, 0, `<json xmlns="urn:xmpp:json:0">{&#34;a&#34;:1}</json>`},
		{"text-plain", "text/plain; charset=utf-8", " {\"x\":\"<&>\"} \n", 0, `<json xmlns="urn:xmpp:json:0">{&#34;x&#34;:&#34;&lt;&amp;&gt;&#34;}</json>`},
		{"no-content-type", "", `{}`, 0, `<json xmlns="urn:xmpp:json:0">{}</json>`},
		{"array", "application/json", `[1]`, http.StatusBadRequest, ""},
		{"string", "text/plain", `"s"`, http.StatusBadRequest, ""},
		{"truncated", "text/plain", `{"a":`, http.StatusBadRequest, ""},
		{"two-values", "text/plain", `{} {}`, http.StatusBadRequest, ""},
		{"bad-utf8", "text/plain", "{\"a\":\"\xff\"}", http.StatusBadRequest, ""},
		{"noncharacter", "text/plain", "{\"a\":\"\uffff\"}", http.StatusBadRequest, ""},
		{"xml-type", "application/xml", `{}`, http.StatusUnsupportedMediaType, ""},
		{"bad-type", "text/", `{}`, http.StatusBadRequest, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := jsonItemPayload(tt.ct, []byte(tt.body))
			if tt.status != 0 {
				var e *Error
				if !errors.As(err, &e) || e.Status != tt.status {
					t.Fatalf("err = %v, want status %d", err, tt.status)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("got %s, %v; want %s", got, err, tt.want)
			}
		})
	}
}

// FuzzJSONItemPayload: whatever the body, an accepted payload is one
// well-formed XEP-0335 element whose text is the body's JSON object,
// compacted; xmppconn reads it back to the same JSON.
func FuzzJSONItemPayload(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"s":"<\u0000>&]]>"}`, `[1]`, `{"a":"` + "\u2028" + `"}`, "{\"\xed\xa0\x80\":1}", `{}}`} {
		f.Add("application/json", []byte(s))
		f.Add("text/plain", []byte(s))
	}
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		out, err := jsonItemPayload(ct, body)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status < 400 || e.Status >= 500 {
				t.Fatalf("error %v is not a 4xx *Error", err)
			}
			return
		}
		d := xml.NewDecoder(bytes.NewReader(out))
		d.Strict = true
		var c struct {
			XMLName xml.Name
			Text    string `xml:",chardata"`
		}
		if err := d.Decode(&c); err != nil {
			t.Fatalf("container %q is not XML: %v", out, err)
		}
		if c.XMLName.Space != xmppconn.NSJSON || c.XMLName.Local != "json" {
			t.Fatalf("container element %v", c.XMLName)
		}
		var want bytes.Buffer
		if err := json.Compact(&want, bytes.TrimSpace(body)); err != nil {
			t.Fatalf("accepted a body that does not compact: %v", err)
		}
		if c.Text != want.String() {
			t.Fatalf("container text %q, want %q", c.Text, want.String())
		}
		if !json.Valid([]byte(c.Text)) || c.Text[0] != '{' {
			t.Fatalf("container text %q is not a JSON object", c.Text)
		}
		back, ok := xmppconn.ParseJSONPayload(out)
		if !ok || back != c.Text {
			t.Fatalf("xmppconn reads back %q, %v", back, ok)
		}
	})
}
