package gateway

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestUsername(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"alice", true},
		{"Alice.Smith-2", true},
		{"élodie", true},
		{"名前", true},
		{"", false},
		{"a@b", false},
		{"a/b", false},
		{"a:b", false},
		{"a b", false},
		{"a\x00b", false},
		{"a\tb", false},
		{"<script>", false},
		{"it's", false},
		{"a&b", false},
		{`a"b`, false},
		{strings.Repeat("a", 1023), true},
		{strings.Repeat("a", 1024), false},
		{"bad\xffutf8", false},
		{"\uff41lice", true},
		{"a\u200eb", false},
	}
	for _, tt := range tests {
		_, err := username(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("username(%q) = %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
}

func TestToJID(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"bob", "bob@example.org", true},
		{"Bob", "bob@example.org", true},
		{"bob@Other.Example", "bob@other.example", true},
		{"bob@example.org/Phone", "bob@example.org/Phone", true},
		{"bob/phone", "bob@example.org/phone", true},
		{"conference.example.org", "conference.example.org@example.org", true},
		{"@example.org", "", false},
		{"bob@", "", false},
		{"bob@example.org/", "", false},
		{"", "", false},
		{"bo b", "", false},
		{"bob\x00@example.org", "", false},
		{"bob@exa mple.org", "", false},
		{"bob@a@b", "", false},
		{"\uff22ob", "bob@example.org", true},
		{"\uff22ob@\uff25xample.org", "bob@example.org", true},
		{"b\u00adob", "bob@example.org", true},
		{"e\u0301", "\u00e9@example.org", true},
		{"\ufb00", "ff@example.org", true},
		{"bob@example.org/Ph\u00f6ne\u00b2", "bob@example.org/Ph\u00f6ne2", true},
		{"bob\u200e", "", false},
	}
	for _, tt := range tests {
		got, err := toJID(tt.in, "example.org")
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("toJID(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestDecodeText(t *testing.T) {
	tests := []struct {
		ct, body, want string
		status         int
	}{
		{"text/plain", "s3cret", "s3cret", 0},
		{"text/plain; charset=utf-8", "héllo \"quoted\"\nline", "héllo \"quoted\"\nline", 0},
		{"", "bare", "bare", 0},
		{"application/json", `"s3cret"`, "s3cret", 0},
		{"application/json", `"with \"quotes\""`, `with "quotes"`, 0},
		{"application/json", `{"password":"x"}`, "", http.StatusBadRequest},
		{"application/json", `s3cret`, "", http.StatusBadRequest},
		{"application/xml", "<a/>", "", http.StatusUnsupportedMediaType},
		{"text/plain", "bad\xff", "", http.StatusBadRequest},
		{"text/plain; ===", "x", "", http.StatusBadRequest},
	}
	for _, tt := range tests {
		got, err := decodeText(tt.ct, []byte(tt.body))
		status := 0
		if err != nil {
			status = classify(err).Status
		}
		if got != tt.want || status != tt.status {
			t.Errorf("decodeText(%q, %q) = %q, status %d; want %q, %d", tt.ct, tt.body, got, status, tt.want, tt.status)
		}
	}
}

func FuzzDecodeText(f *testing.F) {
	f.Add("text/plain", []byte("pw"))
	f.Add("application/json", []byte(`"pw"`))
	f.Add("application/json; charset=utf-8", []byte(`"\u0000"`))
	f.Fuzz(func(t *testing.T, ct string, raw []byte) {
		s, err := decodeText(ct, raw)
		if err != nil {
			if st := classify(err).Status; st != http.StatusBadRequest && st != http.StatusUnsupportedMediaType {
				t.Fatalf("status %d for a bad body", st)
			}
			return
		}
		if !utf8.ValidString(s) {
			t.Fatalf("decoded text is not UTF-8: %q", s)
		}
	})
}

func FuzzToJID(f *testing.F) {
	for _, s := range []string{"bob", "bob@example.org/r", "a@b@c", "\x00", "x/y/z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		jid, err := toJID(s, "example.org")
		if err != nil {
			return
		}
		// A JID the gateway accepts round-trips: normalizing it again
		// changes nothing.
		again, err := toJID(jid, "example.org")
		if err != nil || again != jid {
			t.Fatalf("toJID(%q) = %q, then %q, %v", s, jid, again, err)
		}
	})
}

func TestDecodeChat(t *testing.T) {
	tests := []struct {
		name, ct, raw string
		body, data    string
		status        int
	}{
		{"text", "text/plain", "hello", "hello", "", 0},
		{"no content type", "", "hello", "hello", "", 0},
		{"text with charset", "text/plain; charset=utf-8", "héllo", "héllo", "", 0},
		{"json object", "application/json", `{"body":"hi","card":{"n":1}}`, "hi", `{"body":"hi","card":{"n":1}}`, 0},
		{"json object in text", "text/plain", ` {"body":"hi","x":true} `, "hi", `{"body":"hi","x":true}`, 0},
		{"text that is other json", "text/plain", `{"text":"hi"}`, `{"text":"hi"}`, "", 0},
		{"text that is a json string", "text/plain", `"quoted"`, `"quoted"`, "", 0},
		{"text that is broken json", "text/plain", `{"body":"hi"`, `{"body":"hi"`, "", 0},
		{"json without body", "application/json", `{"text":"hi"}`, "", "", 400},
		{"json body not a string", "application/json", `{"body":5}`, "", "", 400},
		{"json empty body", "application/json", `{"body":""}`, "", "", 400},
		{"json string", "application/json", `"hi"`, "", "", 400},
		{"json array", "application/json", `["hi"]`, "", "", 400},
		{"broken json", "application/json", `{"body":`, "", "", 400},
		{"empty text", "text/plain", "", "", "", 400},
		{"invalid utf-8", "text/plain", "bad \xff", "", "", 400},
		{"other type", "application/xml", "<x/>", "", "", 415},
		{"malformed type", "text/", "x", "", "", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, data, err := decodeChat(tt.ct, []byte(tt.raw))
			if tt.status != 0 {
				if err == nil || classify(err).Status != tt.status {
					t.Fatalf("decodeChat = %q, %s, %v; want status %d", body, data, err, tt.status)
				}
				return
			}
			if err != nil || body != tt.body || string(data) != tt.data {
				t.Fatalf("decodeChat = %q, %s, %v; want %q, %s", body, data, err, tt.body, tt.data)
			}
		})
	}
}

// FuzzDecodeChat: whatever a client sends, decodeChat answers a message
// (non-empty text, data that is JSON whose "body" is the text) or a client
// error, never a panic.
func FuzzDecodeChat(f *testing.F) {
	for _, s := range []string{"hello", `{"body":"hi","x":[1]}`, `{"body":5}`, `"s"`, "", "\xff", `{"body":"\u0000"}`} {
		f.Add("text/plain", s)
		f.Add("application/json", s)
	}
	f.Fuzz(func(t *testing.T, ct, raw string) {
		body, data, err := decodeChat(ct, []byte(raw))
		if err != nil {
			if st := classify(err).Status; st < 400 || st > 499 {
				t.Fatalf("decodeChat(%q, %q): %v is not a client error", ct, raw, err)
			}
			return
		}
		if body == "" || !utf8.ValidString(body) {
			t.Fatalf("decodeChat(%q, %q) = %q: an empty or invalid text", ct, raw, body)
		}
		if data != nil {
			var obj struct{ Body string }
			if !json.Valid(data) || json.Unmarshal(data, &obj) != nil || obj.Body != body {
				t.Fatalf("decodeChat(%q, %q): data %s does not carry the text %q", ct, raw, data, body)
			}
		}
	})
}
