package xmppconn

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

func TestParseStanza(t *testing.T) {
	tests := []struct {
		name, in string
		want     string // the re-serialized stanza; "" when refused
		why      string // part of the refusal's reason
	}{
		{name: "message", in: `<message to="b@x" type="chat"><body>hi &amp; bye</body></message>`,
			want: `<message to="b@x" type="chat"><body>hi &amp; bye</body></message>`},
		{name: "from removed", in: `<message from="evil@x/r" to="b@x"><body>x</body></message>`,
			want: `<message to="b@x"><body>x</body></message>`},
		{name: "self-closed", in: "  <presence from='x'/>\n", want: `<presence/>`},
		{name: "client namespace", in: `<iq xmlns="jabber:client" type="get" id="1"><ping xmlns="urn:xmpp:ping"/></iq>`,
			want: `<iq xmlns="jabber:client" type="get" id="1"><ping xmlns="urn:xmpp:ping"/></iq>`},
		{name: "lang and prefix declarations", in: `<message xml:lang="en" xmlns:j="urn:j" to="b@x"><j:x/></message>`,
			want: `<message xml:lang="en" xmlns:j="urn:j" to="b@x"><j:x/></message>`},
		{name: "attribute escaping", in: `<message to="a&amp;&quot;b@x"/>`, want: `<message to="a&amp;&#34;b@x"/>`},
		{name: "dtd", in: `<!DOCTYPE message [<!ENTITY x "y">]><message><body>&x;</body></message>`, why: "DTD"},
		{name: "unknown entity", in: `<message><body>&x;</body></message>`, why: "entity"},
		{name: "xml declaration", in: `<?xml version="1.0"?><message/>`, why: "processing instructions"},
		{name: "comment", in: `<message><!-- hi --></message>`, why: "comments"},
		{name: "two roots", in: `<message/><presence/>`, why: "more than one root"},
		{name: "text after", in: `<message/>x`, why: "text outside"},
		{name: "wrong root", in: `<features/>`, why: "not message, presence or iq"},
		{name: "stream root", in: `<stream:stream xmlns:stream="http://etherx.jabber.org/streams"/>`, why: "not jabber:client"},
		{name: "wrong namespace", in: `<message xmlns="jabber:server"/>`, why: "not jabber:client"},
		{name: "prefixed root", in: `<c:message xmlns:c="jabber:client"></c:message>`, why: "prefix"},
		{name: "namespaced root attribute", in: `<message xmlns:f="urn:f" f:a="1"/>`, why: "namespaced attribute"},
		{name: "deep", in: "<message>" + strings.Repeat("<a>", maxStanzaDepth) + strings.Repeat("</a>", maxStanzaDepth) + "</message>", why: "deeper"},
		{name: "unclosed", in: `<message><body>x</body>`, why: "EOF"},
		{name: "mismatched", in: `<message><body>x</bodi></message>`, why: "invalid stanza"},
		{name: "empty", in: ``, why: "no element"},
		{name: "not xml", in: `hello`, why: "text outside"},
		{name: "many attributes", in: "<message" + manyAttrs(maxStanzaAttrs+1) + "/>", why: "attributes"},
		{name: "iq without id", in: `<iq type="result"/>`, want: `<iq type="result"/>`},
		{name: "iq of an unknown type", in: `<iq type="bogus" id="1"><query xmlns="jabber:iq:roster"/></iq>`, why: "an iq's type"},
		{name: "iq without type", in: `<iq id="1"/>`, why: "an iq's type"},
		{name: "too large", in: "<message><body>" + strings.Repeat("x", MaxStanzaChars) + "</body></message>", why: "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStanza([]byte(tt.in))
			if tt.want == "" {
				if err == nil {
					t.Fatalf("parseStanza(%q) = %s, want an error", tt.in, got.xml)
				}
				if !errors.Is(err, ErrInvalidStanza) || !strings.Contains(err.Error(), tt.why) {
					t.Fatalf("parseStanza(%q) error %q, want one about %q", tt.in, err, tt.why)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseStanza(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, string(got.xml)); diff != "" {
				t.Fatalf("parseStanza(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseStanzaIQID(t *testing.T) {
	got, err := parseStanza([]byte(`<iq type="set"><query xmlns="jabber:iq:roster"/></iq>`))
	if err != nil {
		t.Fatal(err)
	}
	if got.id == "" || !bytes.Contains(got.xml, []byte(`id="`+got.id+`"`)) {
		t.Fatalf("an iq request without id got none: %+v %s", got, got.xml)
	}
}

// FuzzParseStanza: whatever is accepted re-parses to itself, is one
// message, presence or iq without from, and stays within the limits.
func FuzzParseStanza(f *testing.F) {
	for _, s := range []string{
		`<message to="b@x"><body>hi</body></message>`,
		`<presence/>`,
		`<iq type="get" id="1"><query xmlns="jabber:iq:roster"/></iq>`,
		`<message from="x" xml:lang="en" xmlns:a="urn:a"><a:b a:c="1">t&lt;</a:b></message>`,
		`<!DOCTYPE x><message/>`,
		`<message/><message/>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		st, err := parseStanza(in)
		if err != nil {
			if !errors.Is(err, ErrInvalidStanza) {
				t.Fatalf("error %v does not wrap ErrInvalidStanza", err)
			}
			return
		}
		again, err := parseStanza(st.xml)
		if err != nil {
			t.Fatalf("re-serialized %q does not parse: %v", st.xml, err)
		}
		if !bytes.Equal(again.xml, st.xml) {
			t.Fatalf("not stable: %q then %q", st.xml, again.xml)
		}
		d := xml.NewDecoder(bytes.NewReader(st.xml))
		d.Strict = true
		for {
			tok, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("output %q: %v", st.xml, err)
			}
			if se, ok := tok.(xml.StartElement); ok {
				for _, a := range se.Attr {
					if a.Name.Space == "" && a.Name.Local == "from" && se.Name.Local == st.name {
						// Only the root's from is removed; check the root.
						t.Fatalf("from kept in %q", st.xml)
					}
				}
				break
			}
		}
	})
}

// TestParseStanzaRegister: an element in jabber:iq:register is noticed
// wherever it is and however it is spelt.
func TestParseStanzaRegister(t *testing.T) {
	for in, want := range map[string]bool{
		`<iq type='set'><query xmlns='jabber:iq:register'><remove/></query></iq>`:         true,
		`<iq type='set'><r:query xmlns:r='jabber:iq:register'><r:remove/></r:query></iq>`: true,
		`<iq type='get'><x xmlns='urn:x'><y xmlns='jabber:iq:register'/></x></iq>`:        true,
		`<iq type='get'><query xmlns='jabber:iq:roster'/></iq>`:                           false,
		`<iq type='get'><query xmlns='jabber:iq:registered'/></iq>`:                       false,
	} {
		st, err := parseStanza([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if st.register != want {
			t.Errorf("parseStanza(%q).register = %v, want %v", in, st.register, want)
		}
	}
}

// TestIntegrationSendStanza: a client's stanza goes out from the user
// whatever from it claims; an IQ request's reply, result or error, is
// returned and delivered as chatapi.xmpp; registration and broken
// stanzas are refused before anything is sent.
func TestIntegrationSendStanza(t *testing.T) {
	ev := newEvents()
	p := newPair(t, ev, nil)
	ctx, a, b, sa := p.ctx, p.a, p.b, p.sa

	reply, err := sa.SendStanza(ctx, []byte(`<message to="`+b.JID+`" from="mallory@evil.example" type="chat"><body>raw</body></message>`))
	if err != nil || reply != nil {
		t.Fatalf("SendStanza(message) = %v, %v; want no reply", reply, err)
	}
	ev.waitFor(t, 10*time.Second, "the message", func() bool {
		ev.mu.Lock()
		defer ev.mu.Unlock()
		for _, p := range ev.byUser[b.JID] {
			if c, ok := p.(chatapi.Chat); ok && c.Body == "raw" {
				if bareJID(c.From) != a.JID {
					t.Errorf("the message came from %q, want %s", c.From, a.JID)
				}
				return true
			}
		}
		return false
	})

	reply, err = sa.SendStanza(ctx, []byte(`<iq type="get"><query xmlns="jabber:iq:roster"/></iq>`))
	if err != nil || reply == nil || reply.Type != "result" || !bytes.Contains(reply.Raw, []byte("jabber:iq:roster")) {
		t.Fatalf("SendStanza(roster get) = %+v, %v", reply, err)
	}
	delivered := func(raw []byte) bool {
		ev.mu.Lock()
		defer ev.mu.Unlock()
		for _, p := range ev.byUser[a.JID] {
			if x, ok := p.(chatapi.XMPP); ok && bytes.Equal(x.XMPP, raw) {
				return true
			}
		}
		return false
	}
	if !delivered(reply.Raw) {
		t.Error("the roster reply did not reach the event stream")
	}

	missing := "nosuchroom-" + strings.ToLower(a.Name) + "@" + ejabberdtest.Shared(t).MUCService()
	reply, err = sa.SendStanza(ctx, []byte(`<iq type="get" id="e1" to="`+missing+`"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`))
	if err != nil || reply == nil || reply.Type != "error" || reply.ID != "e1" {
		t.Fatalf("SendStanza(disco of a missing room) = %+v, %v; want the error reply", reply, err)
	}
	if !delivered(reply.Raw) {
		t.Error("the error reply did not reach the event stream")
	}

	if _, err := sa.SendStanza(ctx, []byte(`<iq type="set"><query xmlns="jabber:iq:register"><remove/></query></iq>`)); !errors.Is(err, ErrInBandRegistration) {
		t.Fatalf("SendStanza(register) = %v, want ErrInBandRegistration", err)
	}
	if _, err := sa.SendStanza(ctx, []byte(`<message/><message/>`)); !errors.Is(err, ErrInvalidStanza) {
		t.Fatalf("SendStanza(two stanzas) = %v, want ErrInvalidStanza", err)
	}
	// The account is still there: the session still answers.
	if _, err := sa.Roster(ctx); err != nil {
		t.Fatalf("after the refused registration: %v", err)
	}
}
