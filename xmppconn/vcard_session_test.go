package xmppconn

import (
	"bytes"
	"encoding/xml"
	"testing"
)

// TestIntegrationVCard: a vCard stored with SetVCard is what the user and
// another user read back with VCard, elements the gateway does not know
// included; a user who never stored one has an empty one.
func TestIntegrationVCard(t *testing.T) {
	p := newPair(t, newEvents(), nil)
	ctx, a, sa, sb := p.ctx, p.a, p.sa, p.sb

	if v, err := sb.VCard(ctx, a.JID); err != nil || v.FN != "" || v.Email() != "" {
		t.Fatalf("VCard of a user without one = %+v, %v; want an empty one", v, err)
	}
	v, err := ParseVCard([]byte(`<vCard xmlns="vcard-temp"><FN>Ada</FN><PHOTO><BINVAL>iVBORw0KGgo=</BINVAL></PHOTO></vCard>`))
	if err != nil {
		t.Fatal(err)
	}
	v.SetEmail("ada@example.com")
	v.XMLName = xml.Name{} // SetVCard names the element itself
	if err := sa.SetVCard(ctx, v); err != nil {
		t.Fatal(err)
	}
	for _, who := range []struct {
		s   *Session
		jid string
	}{{sa, ""}, {sb, a.JID}} {
		got, err := who.s.VCard(ctx, who.jid)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := got.Marshal()
		if got.FN != "Ada" || got.Email() != "ada@example.com" || !bytes.Contains(raw, []byte("iVBORw0KGgo=")) {
			t.Fatalf("%s reads %q's vCard as %s", who.s.User(), who.jid, raw)
		}
	}
}
