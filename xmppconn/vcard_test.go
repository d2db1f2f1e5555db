package xmppconn_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sparkgate/sparkgate/xmppconn"
)

func TestVCardRoundTrip(t *testing.T) {
	in := `<vCard xmlns='vcard-temp'><FN>Old Name</FN><NICKNAME>nick</NICKNAME>` +
		`<EMAIL><HOME/><USERID>home@example.com</USERID></EMAIL>` +
		`<EMAIL><INTERNET/><PREF/><USERID>pref@example.com</USERID></EMAIL>` +
		`<PHOTO><TYPE>image/png</TYPE><BINVAL>iVBORw0K</BINVAL></PHOTO><URL>https://example.com/&amp;x</URL></vCard>`
	v, err := xmppconn.ParseVCard([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if v.FN != "Old Name" || v.Nickname != "nick" || v.Email() != "pref@example.com" {
		t.Fatalf("parsed %+v, email %q", v, v.Email())
	}
	v.FN = "New <Name> & co"
	v.SetEmail("new@example.com")
	out, err := v.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	again, err := xmppconn.ParseVCard(out)
	if err != nil {
		t.Fatalf("reparse %s: %v", out, err)
	}
	if again.FN != "New <Name> & co" || again.Email() != "new@example.com" || len(again.Emails) != 1 {
		t.Fatalf("after set: %+v (%s)", again, out)
	}
	for _, keep := range []string{"<BINVAL>iVBORw0K</BINVAL>", "https://example.com/&amp;x", "NICKNAME"} {
		if !strings.Contains(string(out), keep) {
			t.Errorf("marshalled vCard lost %q: %s", keep, out)
		}
	}
}

func TestParseVCardRefuses(t *testing.T) {
	for _, in := range []string{"", "<vCard/>", "<x xmlns='vcard-temp'/>", "<vCard xmlns='vcard-temp'>", "not xml"} {
		if _, err := xmppconn.ParseVCard([]byte(in)); !errors.Is(err, xmppconn.ErrInvalidStanza) {
			t.Errorf("ParseVCard(%q) = %v, want ErrInvalidStanza", in, err)
		}
	}
}

func TestVCardOf(t *testing.T) {
	reply := &xmppconn.Stanza{Raw: []byte(`<iq type='result' id='1'><vCard xmlns='vcard-temp'><FN>A</FN></vCard></iq>`)}
	v, err := xmppconn.VCardOf(reply)
	if err != nil || v.FN != "A" {
		t.Fatalf("VCardOf = %+v, %v", v, err)
	}
	v, err = xmppconn.VCardOf(&xmppconn.Stanza{Raw: []byte(`<iq type='result' id='1'/>`)})
	if err != nil || v.FN != "" {
		t.Fatalf("VCardOf(empty) = %+v, %v", v, err)
	}
}

// FuzzParseVCard: whatever a client stored, parsing never panics and a
// parsed vCard marshals to XML that parses again to the same typed fields.
func FuzzParseVCard(f *testing.F) {
	f.Add([]byte(`<vCard xmlns='vcard-temp'><FN>A</FN><EMAIL><USERID>a@b</USERID></EMAIL></vCard>`))
	f.Add([]byte(`<vCard xmlns='vcard-temp'><PHOTO x='1'><BINVAL>AA==</BINVAL></PHOTO></vCard>`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		v, err := xmppconn.ParseVCard(raw)
		if err != nil {
			return
		}
		out, err := v.Marshal()
		if err != nil {
			return
		}
		again, err := xmppconn.ParseVCard(out)
		if err != nil {
			t.Fatalf("marshalled vCard does not parse: %v\n%s", err, out)
		}
		if again.FN != v.FN || again.Email() != v.Email() {
			t.Fatalf("round trip changed FN/email: %q/%q -> %q/%q", v.FN, v.Email(), again.FN, again.Email())
		}
	})
}
