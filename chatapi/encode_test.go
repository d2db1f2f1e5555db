package chatapi

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// fastPayloads are the types Marshal appends by hand, one zero value each.
var fastPayloads = []Payload{Chat{}, GroupChat{}, Unread{}, XMPP{}}

// fill sets every field of the struct v points to, but the one at skip, to
// something encoding/json writes: strings from s, true, a negative number,
// a pointer to a filled value, s's bytes. A json.RawMessage is left nil
// (Marshal hands a message carrying data to encoding/json). A kind it does
// not know fails the test: a new field of a new kind needs a case here and
// in the hand-written encoder.
func fill(t *testing.T, v reflect.Value, s string, skip int) {
	t.Helper()
	typ := v.Type()
	for i := range v.NumField() {
		f, sf := v.Field(i), typ.Field(i)
		if i == skip {
			continue
		}
		switch {
		case sf.Type == reflect.TypeFor[json.RawMessage]():
		case f.Kind() == reflect.String:
			f.SetString(s + " " + sf.Name)
		case f.Kind() == reflect.Bool:
			f.SetBool(true)
		case f.Kind() == reflect.Int:
			f.SetInt(-42)
		case f.Kind() == reflect.Slice && sf.Type.Elem().Kind() == reflect.Uint8:
			f.SetBytes([]byte(s))
		case f.Kind() == reflect.Pointer && sf.Type.Elem().Kind() == reflect.String:
			p := reflect.New(sf.Type.Elem())
			p.Elem().SetString(s)
			f.Set(p)
		case f.Kind() == reflect.Pointer && sf.Type.Elem().Kind() == reflect.Struct:
			p := reflect.New(sf.Type.Elem())
			fill(t, p.Elem(), s, -1)
			f.Set(p)
		default:
			t.Fatalf("%s.%s is a %s: teach fill and Marshal about it", typ.Name(), sf.Name, sf.Type)
		}
	}
}

// filled returns a payload of p's type with its fields filled from s but
// the one at skip (-1 for none).
func filled(t *testing.T, p Payload, s string, skip int) Payload {
	v := reflect.New(reflect.TypeOf(p)).Elem()
	fill(t, v, s, skip)
	return v.Interface().(Payload)
}

// sameAsEncodingJSON fails unless Marshal(p) and json.Marshal(p) agree,
// bytes and error alike.
func sameAsEncodingJSON(t *testing.T, p Payload) {
	t.Helper()
	want, wantErr := json.Marshal(p)
	got, err := Marshal(p)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("Marshal(%#v) error %v, encoding/json's %v", p, err, wantErr)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Marshal(%#v)\n got %s\nwant %s", p, got, want)
	}
}

func TestMarshalMatchesEncodingJSON(t *testing.T) {
	for _, zero := range fastPayloads {
		name := reflect.TypeOf(zero).Name()
		t.Run(name, func(t *testing.T) {
			sameAsEncodingJSON(t, zero)
			sameAsEncodingJSON(t, filled(t, zero, "plain", -1))
			// Each field left at its zero value in turn: the omitempty
			// fields drop out, the others are written empty.
			for skip := range reflect.TypeOf(zero).NumField() {
				sameAsEncodingJSON(t, filled(t, zero, `<a href="x">&amp;</a>`, skip))
			}
		})
	}
}

func TestMarshalStrings(t *testing.T) {
	for _, s := range []string{
		"",
		"hello",
		`quote " backslash \ slash /`,
		"<script>alert(1)</script> & more",
		"\x00\x01\x07\b\t\n\v\f\r\x1b\x1f\x7f",
		"café, 中文, 🙂",
		"line\u2028separator\u2029paragraph",
		"bad \xff utf-8 \xc3 cut \xed\xa0\x80 surrogate",
		"\xf4\x90\x80\x80 past U+10FFFF",
		"ends in \xe2\x80",
	} {
		sameAsEncodingJSON(t, Chat{Type: TypeChat, To: s, From: s, Body: s, ID: s, Thread: s})
		sameAsEncodingJSON(t, GroupChat{Type: s, Body: s, Subject: &s, File: &File{URL: s, Desc: s}})
		sameAsEncodingJSON(t, Unread{JID: s, LastRead: s, Count: len(s)})
		sameAsEncodingJSON(t, XMPP{XMPP: []byte(s)})
	}
}

// A message carrying JSON data goes through encoding/json, which compacts
// the data and refuses it when it is not JSON.
func TestMarshalData(t *testing.T) {
	for _, data := range []string{`{ "a" : [1, 2] }`, `"<b>"`, `null`, `{"a":`} {
		sameAsEncodingJSON(t, Chat{Type: TypeChat, Body: "b", Data: json.RawMessage(data)})
		sameAsEncodingJSON(t, GroupChat{Type: TypeGroupchat, Body: "b", Data: json.RawMessage(data)})
	}
	// The other payloads are encoding/json's own.
	sameAsEncodingJSON(t, Presence{})
}

func FuzzMarshal(f *testing.F) {
	f.Add("alice@example.com/tab", "héllo <b>\"world\"</b>\n", "\xff\u2028", true, 3)
	f.Add("", "", "", false, -1)
	f.Fuzz(func(t *testing.T, a, b, c string, flag bool, n int) {
		subject := c
		file := &File{URL: a, Desc: c}
		if flag {
			file = nil
		}
		for _, p := range []Payload{
			Chat{Type: a, To: b, From: c, Body: b, ID: a, StanzaID: c, Stamp: b, Thread: a, Sent: flag, Replace: c, Retract: b, ReplyTo: a, File: file},
			GroupChat{Type: c, To: a, From: b, Body: a, ID: b, StanzaID: a, Stamp: c, Subject: &subject, File: file, Replace: b, Retract: c, ReplyTo: a},
			Unread{JID: a, Room: flag, Count: n, LastRead: b},
			XMPP{XMPP: []byte(c)},
		} {
			sameAsEncodingJSON(t, p)
		}
	})
}

// BenchmarkMarshal is a room message's chatapi.muc as a member's copy
// gives it, and its raw XML, through Marshal and through encoding/json.
func BenchmarkMarshal(b *testing.B) {
	raw := bytes.Repeat([]byte("<message from='room@conference.localhost/alice' to='bob@localhost/tab'>"), 7)
	ps := []Payload{
		GroupChat{Type: TypeGroupchat, To: "bob@localhost/sparkweb-3f2a", From: "room@conference.localhost/alice",
			Body: "Shall we meet at ten tomorrow?", ID: "5c1d0a7e-2b8e-4f7e-9d0e-6a3f1c2b9e11", StanzaID: "1733440000123456"},
		XMPP{XMPP: raw},
		Unread{JID: "room@conference.localhost", Room: true, Count: 12, LastRead: "1733440000123400"},
	}
	for _, p := range ps {
		name := reflect.TypeOf(p).Name()
		b.Run(name+"/chatapi", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Marshal(p); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/encoding-json", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := json.Marshal(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
