package xmppconn

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// keepStanzas are stanzas of the kinds whose decoding shares memory with
// the reader: attribute values and text cut from a string chunk
// (xmlstrings.go), attributes cut from a reused arena (xmlattrs.go), a
// message decoded into one block (messagemem.go), unknown children kept as
// *stanza.Node with their attributes, payloads decoded by reflection. %d
// makes each stanza's values differ from its neighbours'.
var keepStanzas = []string{
	benchChat,
	`<message type='chat' id='m%d' from='bob@localhost/phone'><archived by='alice@localhost' id='A%d' xmlns='urn:xmpp:mam:tmp'/><x xmlns='urn:x' a='a%d' b='&lt;b%d&gt;'><y c='c%d'>inner %d</y></x><body>short %d</body><request xmlns='urn:xmpp:receipts'/></message>`,
	`<message id='long%d'><body>` + strings.Repeat("long body %d ", 40) + `</body><stanza-id xmlns='urn:xmpp:sid:0' by='room@muc' id='s%d'/><stanza-id xmlns='urn:xmpp:sid:0' by='alice@localhost' id='t%d'/></message>`,
	`<message id='many%d' a1='%d' a2='%d' a3='%d' a4='%d' a5='%d' a6='%d' a7='%d' a8='%d' a9='%d' a10='%d' a11='%d' a12='%d' a13='%d' a14='%d' a15='%d' a16='%d' a17='%d'><n xmlns='urn:n' k='%d'/></message>`,
	`<message id='mam%d'><result xmlns='urn:xmpp:mam:2' queryid='q%d' id='r%d'><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2026-12-05T03:00:%02dZ'/><message xmlns='jabber:client' id='inner%d' type='chat'><body>archived %d</body><origin-id xmlns='urn:xmpp:sid:0' id='o%d'/></message></forwarded></result></message>`,
	`<presence from='room@muc/nick%d' id='p%d'><show>away</show><status>out %d</status><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' role='participant' jid='u%d@localhost/r'/></x><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n%d' ver='v%d'/></presence>`,
	`<iq type='result' id='roster%d'><query xmlns='jabber:iq:roster' ver='%d'><item jid='a%d@localhost' name='A %d' subscription='both'><group>g%d</group></item></query></iq>`,
	`<iq type='error' id='e%d'><error type='cancel' code='%d'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>gone %d</text></error></iq>`,
}

// keepStanza is the i-th stanza of the test stream.
func keepStanza(i int) string {
	s := keepStanzas[i%len(keepStanzas)]
	n := strings.Count(s, "%d") + strings.Count(s, "%02d")
	args := make([]any, n)
	for j := range args {
		args[j] = (i*7 + j) % 60
	}
	return fmt.Sprintf(s, args...)
}

// withoutOffsets returns s with the stream offsets of its forwarded
// messages zeroed (they differ between a stream and a lone stanza),
// changing nothing s points to.
func withoutOffsets(s Stanza) Stanza {
	s.rawFrom, s.rawTo = 0, 0
	inner := func(m *Stanza) *Stanza {
		if m == nil {
			return nil
		}
		c := withoutOffsets(*m)
		return &c
	}
	if s.MAM != nil {
		r := *s.MAM
		r.Forwarded.Message = inner(r.Forwarded.Message)
		s.MAM = &r
	}
	if s.Carbon != nil {
		c := *s.Carbon
		c.Forwarded.Message = inner(c.Forwarded.Message)
		s.Carbon = &c
	}
	return s
}

// TestReaderKeepsStanzas: a decoded stanza and its Raw bytes stay intact
// while the reader goes on reading, which reuses its attribute arena and
// scratch buffers. A consumer goroutine checks each stanza against the
// same stanza decoded alone, while the reader reads the following ones
// (under -race, a write into memory a handed-out stanza shares is a race),
// and every stanza is checked again at the end.
func TestReaderKeepsStanzas(t *testing.T) {
	const n = 200
	var stream strings.Builder
	stream.WriteString(clientHeader)
	for i := range n {
		stream.WriteString(keepStanza(i))
	}
	// One byte per read: stanzas end mid-buffer and the capture compacts
	// often, as on a slow network.
	er := newElemReader(&oneByteReader{strings.NewReader(stream.String())}, DefaultMaxStanzaSize)
	if _, err := er.header(); err != nil {
		t.Fatal(err)
	}

	check := func(i int, got *Stanza) error {
		want, err := decodeStanza([]byte(keepStanza(i)))
		if err != nil {
			return fmt.Errorf("stanza %d alone: %v", i, err)
		}
		if string(got.Raw) != keepStanza(i) {
			return fmt.Errorf("stanza %d: Raw %q, want %q", i, got.Raw, keepStanza(i))
		}
		if g, w := withoutOffsets(*got), withoutOffsets(want); !reflect.DeepEqual(g, w) {
			return fmt.Errorf("stanza %d:\n got %#v\nwant %#v", i, g, w)
		}
		return nil
	}

	kept := make([]*Stanza, 0, n)
	handed := make(chan *Stanza, n)
	checked := make(chan error, 1)
	go func() { // owned by this test: ends when handed is closed
		var first error
		i := 0
		for s := range handed {
			if err := check(i, s); err != nil && first == nil {
				first = err
			}
			i++
		}
		checked <- first
	}()
	for i := range n {
		el, err := er.next(true)
		if err != nil {
			close(handed)
			t.Fatalf("element %d: %v", i, err)
		}
		if el.stanza == nil {
			close(handed)
			t.Fatalf("element %d not decoded: %v", i, el.decodeErr)
		}
		kept = append(kept, el.stanza)
		handed <- el.stanza
	}
	close(handed)
	if err := <-checked; err != nil {
		t.Error("while reading:", err)
	}
	for i, s := range kept {
		if err := check(i, s); err != nil {
			t.Fatal("after reading:", err)
		}
	}
}
