package xmppconn

import (
	"encoding/json"
	"testing"
	"time"
)

// TestMAMResultJSON: an archived message read from the stream survives the
// trip to JSON and back (the remote session's), and a forwarded payload
// that is not a message is refused.
func TestMAMResultJSON(t *testing.T) {
	const raw = `<message xmlns='jabber:client' to='a@x'><result xmlns='urn:xmpp:mam:2' queryid='q1' id='arch-1'>` +
		`<forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2020-01-02T03:04:05Z'/>` +
		`<message xmlns='jabber:client' from='b@x/r' to='a@x' type='chat' id='m1'><body>hi &amp; bye</body>` +
		`<stanza-id xmlns='urn:xmpp:sid:0' id='arch-1' by='a@x'/></message></forwarded></result></message>`
	st, err := decodeStanza([]byte(raw))
	if err != nil || st.MAM == nil || st.MAM.Forwarded.Message == nil {
		t.Fatalf("decode: %v %+v", err, st.MAM)
	}
	b, err := json.Marshal(st.MAM)
	if err != nil {
		t.Fatal(err)
	}
	var got MAMResult
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	m := got.Forwarded.Message
	switch {
	case got.ID != "arch-1" || got.QueryID != "q1":
		t.Fatalf("ids %q %q", got.ID, got.QueryID)
	case got.Forwarded.Delay == nil || !got.Forwarded.Delay.Stamp.Equal(time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)):
		t.Fatalf("delay %+v", got.Forwarded.Delay)
	case m == nil || m.Message == nil || m.Message.Body != "hi & bye" || m.From != "b@x/r" || m.ID != "m1" || m.Type != "chat":
		t.Fatalf("message %+v", m)
	case len(m.StanzaIDs) != 1 || m.StanzaIDs[0].ID != "arch-1":
		t.Fatalf("stanza ids %+v", m.StanzaIDs)
	case string(m.Raw) != string(st.MAM.Forwarded.Message.Raw):
		t.Fatalf("raw %q, want %q", m.Raw, st.MAM.Forwarded.Message.Raw)
	}

	for i, bad := range []string{
		`{"id":"x","message":"` + b64(`<presence xmlns='jabber:client'/>`) + `"}`,
		`{"id":"x","message":"` + b64(`<message xmlns='jabber:client'>`) + `"}`,
		`{"id":"x","message":"` + b64(`not xml`) + `"}`,
	} {
		var r MAMResult
		if err := json.Unmarshal([]byte(bad), &r); err == nil {
			t.Errorf("%d: %s accepted", i, bad)
		}
	}
}

func b64(s string) string {
	b, _ := json.Marshal([]byte(s))
	return string(b[1 : len(b)-1])
}

// FuzzMAMResultJSON: an archived message from another node never panics
// the decoder, and what decodes encodes and decodes again to the same
// message.
func FuzzMAMResultJSON(f *testing.F) {
	f.Add([]byte(`{"id":"a","message":"` + b64(`<message xmlns='jabber:client' from='b@x'><body>hi</body></message>`) + `"}`))
	f.Add([]byte(`{"id":"a","delay":{"From":"x","Stamp":"2020-01-02T03:04:05Z"}}`))
	f.Add([]byte(`{"message":"` + b64(`<message><x xmlns='urn:x'><y/></x></message>`) + `"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r MAMResult
		if json.Unmarshal(b, &r) != nil {
			return
		}
		again, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("encode %+v: %v", r, err)
		}
		var r2 MAMResult
		if err := json.Unmarshal(again, &r2); err != nil {
			t.Fatalf("decode of %s: %v", again, err)
		}
		m1, m2 := r.Forwarded.Message, r2.Forwarded.Message
		if (m1 == nil) != (m2 == nil) || m1 != nil && (string(m1.Raw) != string(m2.Raw) || m1.From != m2.From || m1.ID != m2.ID) {
			t.Fatalf("round trip changed the message: %+v, then %+v", m1, m2)
		}
	})
}
