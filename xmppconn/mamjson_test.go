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
