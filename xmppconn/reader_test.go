package xmppconn

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"gosrc.io/xmpp/stanza"
)

const clientHeader = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"

// repeatReader yields prefix, then body forever.
type repeatReader struct {
	prefix, body []byte
	n            int64 // bytes produced
}

func (r *repeatReader) Read(p []byte) (int, error) {
	var n int
	for n < len(p) {
		if len(r.prefix) > 0 {
			c := copy(p[n:], r.prefix)
			r.prefix = r.prefix[c:]
			n += c
			continue
		}
		c := copy(p[n:], r.body[int(r.n)%len(r.body):])
		n += c
		r.n += int64(c)
	}
	return n, nil
}

// readAll reads the header and then elements until an error.
func readAll(t testing.TB, src io.Reader, max int) ([]element, error) {
	er := newElemReader(src, max)
	if _, err := er.header(); err != nil {
		return nil, err
	}
	var els []element
	for {
		el, err := er.next(true)
		if len(er.cap.buf) > max+2*initialBufSize {
			t.Fatalf("capture buffer grew to %d bytes with a %d byte limit", len(er.cap.buf), max)
		}
		if err != nil {
			return els, err
		}
		els = append(els, el)
	}
}

func TestReaderRejectsHostileStreams(t *testing.T) {
	const max = 64 << 10
	tests := []struct {
		name string
		src  io.Reader
		want error
	}{
		{"endless nesting", &repeatReader{prefix: []byte(clientHeader), body: []byte("<a>")}, ErrProtocol},
		{"endless attribute", &repeatReader{prefix: []byte(clientHeader + "<message a='"), body: []byte("x")}, ErrStanzaTooLarge},
		{"endless text", &repeatReader{prefix: []byte(clientHeader + "<message><body>"), body: []byte("lorem ipsum ")}, ErrStanzaTooLarge},
		{"endless whitespace", &repeatReader{prefix: []byte(clientHeader), body: []byte(" \n")}, ErrStanzaTooLarge},
		// The attribute limit applies as the tag is read, before the size limit.
		{"endless attributes", &repeatReader{prefix: []byte(clientHeader + "<message"), body: []byte(" a='1'")}, errXMLLimit},
		{"endless siblings", &repeatReader{prefix: []byte(clientHeader + "<message>"), body: []byte("<b/>")}, ErrStanzaTooLarge},
		{"many attributes", strings.NewReader(clientHeader + "<message" + strings.Repeat(" a='1'", 1) + strings.Repeat(" b='1'", 0) + manyAttrs(100) + "/>"), ErrProtocol},
		{"doctype before header", strings.NewReader("<?xml version='1.0'?><!DOCTYPE stream [<!ENTITY x 'y'>]>" + clientHeader), ErrProtocol},
		{"doctype in stream", strings.NewReader(clientHeader + "<!DOCTYPE x [<!ENTITY lol 'lol'>]><message/>"), ErrProtocol},
		{"undeclared entity", strings.NewReader(clientHeader + "<message><body>&lol;</body></message>"), ErrProtocol},
		{"comment", strings.NewReader(clientHeader + "<!-- hi --><message/>"), ErrProtocol},
		{"processing instruction", strings.NewReader(clientHeader + "<?php x?><message/>"), ErrProtocol},
		{"text between stanzas", strings.NewReader(clientHeader + "hello<message/>"), ErrProtocol},
		{"mismatched tags", strings.NewReader(clientHeader + "<message></presence>"), ErrProtocol},
		{"truncated", strings.NewReader(clientHeader + "<message><body>hi"), ErrNetwork},
		{"truncated tag", strings.NewReader(clientHeader + "<message><bo"), ErrNetwork},
		{"wrong root", strings.NewReader("<html>"), ErrProtocol},
		{"second root", strings.NewReader(clientHeader + "<message/></stream:stream><stream:stream>"), errStreamEnd},
		{"bad utf-8", strings.NewReader(clientHeader + "<message><body>\xff\xfe</body></message>"), ErrProtocol},
		{"non utf-8 declared", strings.NewReader("<?xml version='1.0' encoding='ISO-8859-1'?>" + clientHeader), ErrProtocol},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			_, err := readAll(t, test.src, max)
			if !errors.Is(err, test.want) {
				t.Errorf("error %v, want %v", err, test.want)
			}
			if r, ok := test.src.(*repeatReader); ok && r.n > 2*max+initialBufSize {
				t.Errorf("read %d bytes before giving up, want about %d", r.n, max)
			}
		})
	}
}

func manyAttrs(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(" a")
		b.WriteString(strings.Repeat("x", i))
		b.WriteString("='1'")
	}
	return b.String()
}

func TestReaderCutsExactBytes(t *testing.T) {
	stanzas := []string{
		"<message/>",
		"<presence xmlns:foo='urn:foo'><foo:x a=\"1\"/></presence>",
		"<iq type='get' id='1'><query xmlns='jabber:iq:roster'/></iq>",
		"<message><body><![CDATA[<not a tag>]]></body></message>",
	}
	stream := clientHeader + "\n" + strings.Join(stanzas, " \n\t ") + "</stream:stream>"
	// One byte per Read exercises every buffer boundary.
	els, err := readAll(t, &oneByteReader{r: strings.NewReader(stream)}, 256)
	if err != errStreamEnd {
		t.Fatalf("end: %v", err)
	}
	if len(els) != len(stanzas) {
		t.Fatalf("read %d elements, want %d", len(els), len(stanzas))
	}
	for i, el := range els {
		if string(el.raw) != stanzas[i] {
			t.Errorf("element %d = %q, want %q", i, el.raw, stanzas[i])
		}
	}
}

type oneByteReader struct{ r io.Reader }

func (o *oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

func FuzzReader(f *testing.F) {
	for _, seed := range []string{
		clientHeader + "<message from='a' type='chat'><body>hi</body></message></stream:stream>",
		clientHeader + "<message><result xmlns='urn:xmpp:mam:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client'><body>x</body></message></forwarded></result></message>",
		clientHeader + "<message><x xmlns='urn:evil'><message xmlns='jabber:client'/></x></message>",
		clientHeader + "<message><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client'/></forwarded></sent></message></forwarded></sent></message>",
		clientHeader + "<iq type='result' id='1'><query xmlns='jabber:iq:roster'><item jid='a'/></query></iq><presence><priority>x</priority></presence>",
		clientHeader + "<!DOCTYPE x [<!ENTITY a '&a;&a;'>]>",
		clientHeader + strings.Repeat("<a>", 100),
		clientHeader + "<message a='" + strings.Repeat("x", 5000),
		clientHeader + "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
		"<stream:stream><stream:stream>",
		clientHeader + "<message><body>&amp;&#0;&#xD800;</body></message>",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const max = 4096
		els, err := readAll(t, bytes.NewReader(data), max)
		if err == nil {
			t.Fatal("reader ended without an error")
		}
		for _, el := range els {
			if len(el.raw) > max {
				t.Fatalf("element of %d bytes with a %d byte limit", len(el.raw), max)
			}
			s, err := decodeStanza(el.raw)
			if err == nil && s.Raw == nil {
				t.Fatal("decoded stanza without raw bytes")
			}
		}
	})
}

func FuzzDecodeStanza(f *testing.F) {
	f.Add([]byte("<message><body>x</body><result xmlns='urn:xmpp:mam:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client'><body>y</body></message></forwarded></result></message>"))
	f.Add([]byte("<presence><show>away</show><x xmlns='http://jabber.org/protocol/muc#user'/></presence>"))
	f.Add([]byte("<iq type='error'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := decodeStanza(data)
		if err != nil {
			return
		}
		// Nested raw bytes always lie within the outer ones.
		for _, f := range []*Forwarded{mamFwd(s.MAM), carbonFwd(s.Carbon)} {
			if f != nil && f.Message != nil && !bytes.Contains(data, f.Message.Raw) {
				t.Fatalf("nested raw %q not within %q", f.Message.Raw, data)
			}
		}
	})
}

// chunkReader hands out one chunk per Read and counts the calls.
type chunkReader struct {
	chunks []string
	reads  int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	r.reads++
	if len(r.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.chunks[0])
	if r.chunks[0] = r.chunks[0][n:]; r.chunks[0] == "" {
		r.chunks = r.chunks[1:]
	}
	return n, nil
}

// TestReaderWaitInput reads a stream the way Conn's reader does, calling
// waitInput before each element, and checks that it yields the same
// elements and end as reading without it, that it reads the source only
// when nothing read is left over, and that it never reads mid-element.
func TestReaderWaitInput(t *testing.T) {
	chunks := []string{
		clientHeader,
		"<message id='a'><body>x</bo", "dy></message>",
		"\n <presence id='b'/><iq type='get' id='c'><query xmlns='jabber:iq:version'/></iq>",
		"<message id='d'><body>two</body></message><presence id='e'",
		"/>  ",
		"</stream:stream>",
	}
	want, wantErr := readAll(t, &chunkReader{chunks: slices.Clone(chunks)}, 4096)
	if len(want) != 5 || wantErr != errStreamEnd {
		t.Fatalf("without waitInput: %d elements, %v", len(want), wantErr)
	}

	src := &chunkReader{chunks: slices.Clone(chunks)}
	er := newElemReader(src, 4096)
	er.waitInput() // before the header: does nothing
	if src.reads != 0 {
		t.Fatalf("waitInput read %d times before the header", src.reads)
	}
	if _, err := er.header(); err != nil {
		t.Fatal(err)
	}
	var got []element
	for {
		reads, buffered := src.reads, er.cap.buffered()
		er.waitInput()
		switch {
		case buffered > 0 && src.reads != reads:
			t.Fatalf("waitInput read the source with %d bytes unread", buffered)
		case buffered == 0 && len(src.chunks) > 0 && er.cap.buffered() == 0:
			t.Fatalf("waitInput returned with nothing read (element %d)", len(got))
		}
		el, err := er.next(true)
		if err != nil {
			if err != wantErr {
				t.Fatalf("end %v, want %v", err, wantErr)
			}
			break
		}
		got = append(got, el)
	}
	if len(got) != len(want) {
		t.Fatalf("%d elements, want %d", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i].raw, want[i].raw) || (got[i].stanza == nil) != (want[i].stanza == nil) {
			t.Fatalf("element %d: %q, want %q", i, got[i].raw, want[i].raw)
		}
	}

	// A source that fails: next reports the failure as it would without
	// waitInput.
	er = newElemReader(&chunkReader{chunks: []string{clientHeader, "<message id='a'/>"}}, 4096)
	if _, err := er.header(); err != nil {
		t.Fatal(err)
	}
	er.waitInput()
	if _, err := er.next(true); err != nil {
		t.Fatal(err)
	}
	er.waitInput()
	if _, err := er.next(true); !errors.Is(err, ErrNetwork) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("after EOF: %v, want a network error (unexpected EOF)", err)
	}
}

// TestReaderIdleKeepsNoArena: a reader that waits for input between
// stanzas gives its attribute arena back and takes it again without an
// allocation, so a stanza after a pause costs what one in a burst does.
func TestReaderIdleKeepsNoArena(t *testing.T) {
	const stanza = "<message from='room@muc.example/nick' to='m@example/r' type='groupchat' id='a' xml:lang='en'><body>hi</body><stanza-id xmlns='urn:xmpp:sid:0' by='room@muc.example' id='s1'/></message>"
	allocs := func(idle bool) float64 {
		er := repeating(t, stanza, 300)
		return testing.AllocsPerRun(200, func() {
			if idle {
				er.waitInput()
				if er.tok.arena != nil {
					t.Fatal("an idle reader holds its arena")
				}
			}
			if _, err := er.next(true); err != nil {
				t.Fatal(err)
			}
		})
	}
	busy, idle := allocs(false), allocs(true)
	if idle > busy {
		t.Errorf("%.0f allocations per stanza after a pause, %.0f in a burst; want the same", idle, busy)
	}
}

// TestReaderIdleKeepsNoBridge: a reader that waits for input gives back
// the bridge its decodes by reflection use (a presence's show here) and
// takes one again without an allocation.
func TestReaderIdleKeepsNoBridge(t *testing.T) {
	const stanza = "<presence from='bob@example/b'><show>away</show></presence>"
	allocs := func(idle bool) float64 {
		er := repeating(t, stanza, 300)
		return testing.AllocsPerRun(200, func() {
			if idle {
				er.waitInput()
				if er.br != nil {
					t.Fatal("an idle reader holds its bridge")
				}
			}
			el, err := er.next(true)
			if err != nil || el.stanza == nil || el.stanza.Presence.Show != "away" {
				t.Fatalf("next = %+v, %v", el.stanza, err)
			}
			if er.br == nil {
				t.Fatal("the show was not decoded through the bridge")
			}
		})
	}
	busy, idle := allocs(false), allocs(true)
	if idle > busy && !raceEnabled { // a -race pool drops a quarter of the bridges
		t.Errorf("%.0f allocations per stanza after a pause, %.0f in a burst; want the same", idle, busy)
	}
}

// TestBridgeSharedAcrossReaders: two readers whose streams bind other
// prefixes take turns with the pooled bridges, and each decodes its own
// stanzas right.
func TestBridgeSharedAcrossReaders(t *testing.T) {
	streams := []struct {
		stanza, show string
	}{
		{"<presence from='a@example/r' xmlns:p='urn:example:a'><show>away</show><p:x p:k='1'/></presence>", "away"},
		{"<presence from='b@example/r'><show xmlns='jabber:client'>dnd</show><x xmlns='urn:example:b'/></presence>", "dnd"},
	}
	const n = 200
	var readers []*elemReader
	for _, s := range streams {
		readers = append(readers, repeating(t, s.stanza, n))
	}
	shared := 0
	var last *bridge
	for range n {
		for i, er := range readers {
			el, err := er.next(true)
			if err != nil || el.stanza == nil || el.stanza.Presence.Show != stanza.PresenceShow(streams[i].show) {
				t.Fatalf("reader %d: next = %+v, %v", i, el.stanza, err)
			}
			if er.br == last {
				shared++
			}
			last = er.br
			er.waitInput()
		}
	}
	if shared == 0 {
		t.Fatal("the readers never shared a bridge")
	}
}

// repeating is a reader past the header of a client stream that then
// carries stanza n times.
func repeating(t *testing.T, stanza string, n int) *elemReader {
	t.Helper()
	chunks := []string{clientHeader}
	for range n {
		chunks = append(chunks, stanza)
	}
	er := newElemReader(&chunkReader{chunks: chunks}, 4096)
	if _, err := er.header(); err != nil {
		t.Fatal(err)
	}
	return er
}
