package xmppconn

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gosrc.io/xmpp/stanza"
)

func TestInboundOrderAndRawBytes(t *testing.T) {
	const n = 2000
	var sent []string
	for i := range n {
		// Vary the spelling so raw bytes are not what a marshaller would write.
		sent = append(sent, fmt.Sprintf("<message from=\"bob@localhost/x\" type='chat' id='m%d' xml:lang='en'><body>n %d &amp; &#x263A;</body><x xmlns='urn:example:%d'>kept</x></message>", i, i, i%3))
	}
	fs := newFakeServer(t, fakeOpts{session: func(sc *serverConn) {
		var b strings.Builder
		for i, s := range sent {
			b.WriteString(s)
			if i%7 == 0 {
				b.WriteString("\n ")
			}
			if b.Len() > 3000 { // split stanzas across writes
				sc.send(b.String())
				b.Reset()
			}
		}
		sc.send(b.String())
		sc.echoUntilClose()
	}})
	c := dialFake(t, fs, func(c *Config) { c.QueueSize = 16 })
	for i := range n {
		s, err := c.Next(t.Context())
		if err != nil {
			t.Fatalf("Next #%d: %v", i, err)
		}
		if got := string(s.Raw); got != sent[i] {
			t.Fatalf("stanza #%d raw = %q, want %q", i, got, sent[i])
		}
		if want := fmt.Sprintf("n %d & ☺", i); s.Message == nil || s.Message.Body != want {
			t.Fatalf("stanza #%d decoded %+v, want body %q", i, s.Message, want)
		}
		if len(s.Message.Extensions) != 1 {
			t.Fatalf("stanza #%d: %d extensions, want the unknown <x/> kept", i, len(s.Message.Extensions))
		}
	}
}

func TestPayloadsKeepTheStreamUp(t *testing.T) {
	stanzas := []string{
		// A nested jabber:client message inside an unknown namespace.
		`<message to='alice@localhost' from='eve@localhost/e' type='chat'><body>hi</body><x xmlns='urn:example:evil'><message xmlns='jabber:client'/></x><body>second</body></message>`,
		// A MAM result.
		`<message to='alice@localhost/r' from='alice@localhost'><result xmlns='urn:xmpp:mam:2' queryid='q1' id='1700000000000001'><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2026-11-23T10:00:00.123Z'/><message xmlns='jabber:client' from='bob@localhost/b' to='alice@localhost' type='chat' id='orig'><body>archived</body><stanza-id xmlns='urn:xmpp:sid:0' by='alice@localhost' id='1700000000000001'/></message></forwarded></result></message>`,
		// A carbon.
		`<message to='alice@localhost/r' from='alice@localhost' type='chat'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' to='bob@localhost' from='alice@localhost/other' type='chat'><body>from my phone</body><origin-id xmlns='urn:xmpp:sid:0' id='o1'/></message></forwarded></sent></message>`,
		// Rejected by the typed decoder (priority is not a number): skipped.
		`<presence from='bob@localhost/b'><priority>high</priority></presence>`,
		// Presence with delay and an unknown child.
		`<presence from='bob@localhost/b'><show>away</show><delay xmlns='urn:xmpp:delay' stamp='2026-11-23T10:00:00Z'/><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' ver='v'/></presence>`,
		`<message from='bob@localhost/b' type='chat'><body>last</body><stanza-id xmlns='urn:xmpp:sid:0' by='alice@localhost' id='42'/></message>`,
	}
	fs := newFakeServer(t, fakeOpts{session: func(sc *serverConn) {
		sc.send(strings.Join(stanzas, ""))
		sc.echoUntilClose()
	}})
	var skipped atomic.Int32
	c := dialFake(t, fs, func(c *Config) { c.OnStanzaSkipped = func() { skipped.Add(1) } })
	var got []Stanza
	for range len(stanzas) - 1 {
		s, err := c.Next(t.Context())
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		got = append(got, s)
	}
	for i, want := range []int{0, 1, 2, 4, 5} {
		if string(got[i].Raw) != stanzas[want] {
			t.Errorf("stanza %d raw = %s, want %s", i, got[i].Raw, stanzas[want])
		}
	}
	if m := got[0].Message; m.Body != "hi" || len(m.Extensions) != 1 {
		t.Errorf("nested message: body %q, %d extensions; want hi and the <x/> kept", m.Body, len(m.Extensions))
	}
	mam := got[1].MAM
	if mam == nil || mam.QueryID != "q1" || mam.ID != "1700000000000001" || mam.Forwarded.Message == nil {
		t.Fatalf("MAM result not decoded: %+v", mam)
	}
	inner := mam.Forwarded.Message
	if inner.Message.Body != "archived" || inner.From != "bob@localhost/b" || len(inner.StanzaIDs) != 1 {
		t.Errorf("MAM inner message: %+v", inner)
	}
	if !bytes.HasPrefix(inner.Raw, []byte("<message xmlns='jabber:client' from='bob")) || !bytes.HasSuffix(inner.Raw, []byte("</message>")) {
		t.Errorf("MAM inner raw = %s", inner.Raw)
	}
	if want := time.Date(2026, 11, 23, 10, 0, 0, 123e6, time.UTC); mam.Forwarded.Delay == nil || !mam.Forwarded.Delay.Stamp.Equal(want) {
		t.Errorf("MAM delay = %+v, want %v", mam.Forwarded.Delay, want)
	}
	cb := got[2].Carbon
	if cb == nil || !cb.Sent || cb.Forwarded.Message == nil || cb.Forwarded.Message.OriginID != "o1" || cb.Forwarded.Message.Message.Body != "from my phone" {
		t.Errorf("carbon not decoded: %+v", cb)
	}
	if p := got[3].Presence; p == nil || p.Show != "away" || got[3].Delay == nil || len(p.Extensions) != 1 {
		t.Errorf("presence: %+v delay %+v", p, got[3].Delay)
	}
	if diff := cmp.Diff([]StanzaID{{ID: "42", By: "alice@localhost"}}, got[4].StanzaIDs); diff != "" {
		t.Errorf("stanza-id (-want +got):\n%s", diff)
	}
	if st := c.Stats(); st.DecodeErrors != 1 || skipped.Load() != 1 {
		t.Errorf("Stats().DecodeErrors = %d, OnStanzaSkipped called %d times; want 1 and 1", st.DecodeErrors, skipped.Load())
	}
	if c.Err() != nil {
		t.Errorf("stream ended: %v", c.Err())
	}
}

// iqServer answers IQ gets after a random delay, out of order, echoing the
// payload's "n" attribute, and answers some with errors.
func iqServer(sc *serverConn) {
	var wg sync.WaitGroup
	defer wg.Wait()
	sc.eachUntilClose(func(el element) {
		if el.name.Local != "iq" {
			return
		}
		id, to := el.attrValue("id"), el.attrValue("to")
		var q struct {
			N string `xml:"n,attr"`
		}
		var p struct {
			Q struct {
				N string `xml:"n,attr"`
			} `xml:"q"`
		}
		unmarshal(el.raw, &p)
		q.N = p.Q.N
		from := ""
		if to != "" {
			from = " from='" + to + "'"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if rand.IntN(4) == 0 {
				time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond)
			}
			if n, _ := strconv.Atoi(q.N); n%10 == 9 {
				sc.send(fmt.Sprintf("<iq type='error' id='%s'%s><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>no %s</text></error></iq>", id, from, q.N))
				return
			}
			sc.send(fmt.Sprintf("<iq type='result' id='%s'%s><q xmlns='urn:example:q' n='%s'/></iq>", id, from, q.N))
		}()
	})
}

func TestIQConcurrentCallers(t *testing.T) {
	fs := newFakeServer(t, fakeOpts{session: iqServer})
	c := dialFake(t, fs, nil)
	const callers, each = 64, 40
	var wg sync.WaitGroup
	var fails atomic.Int64
	for g := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				n := g*each + i
				ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
				s, err := c.RawIQ(ctx, "get", "", fmt.Appendf(nil, "<q xmlns='urn:example:q' n='%d'/>", n))
				cancel()
				if n%10 == 9 {
					var se *StanzaError
					if !errors.Is(err, ErrItemNotFound) || !errors.As(err, &se) || se.Text != fmt.Sprint("no ", n) || se.Type != "cancel" {
						t.Errorf("IQ %d: err %v, want item-not-found", n, err)
						fails.Add(1)
					}
					continue
				}
				if err != nil {
					t.Errorf("IQ %d: %v", n, err)
					fails.Add(1)
					continue
				}
				if s.IQ == nil || s.IQ.Any == nil || len(s.IQ.Any.Attrs) != 1 || s.IQ.Any.Attrs[0].Value != strconv.Itoa(n) {
					t.Errorf("IQ %d got reply %s", n, s.Raw)
					fails.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if st := c.Stats(); st.StrayReplies != 0 {
		t.Errorf("Stats().StrayReplies = %d, want 0", st.StrayReplies)
	}
	select {
	case s := <-c.In():
		t.Errorf("an IQ reply reached the consumer: %s", s.Raw)
	default:
	}
}

func TestIQTypedAndFromCheck(t *testing.T) {
	fs := newFakeServer(t, fakeOpts{session: func(sc *serverConn) {
		for {
			el, err := sc.next()
			if err != nil {
				if err == errStreamEnd {
					sc.send("</stream:stream>")
				}
				return
			}
			id := el.attrValue("id")
			// A spoofed reply from someone else first, then the real one.
			sc.send(fmt.Sprintf("<iq type='result' id='%s' from='mallory@localhost/m'/>", id))
			sc.send(fmt.Sprintf("<iq type='result' id='%s' from='%s'><query xmlns='jabber:iq:version'><name>fake</name></query></iq>", id, el.attrValue("to")))
		}
	}})
	c := dialFake(t, fs, nil)
	iq, err := stanza.NewIQ(stanza.Attrs{Type: stanza.IQTypeGet, To: "bob@localhost/b"})
	if err != nil {
		t.Fatal(err)
	}
	iq.Id = "" // let the Conn pick an unpredictable id
	iq.Payload = &stanza.Version{}
	s, err := c.IQ(t.Context(), iq)
	if err != nil {
		t.Fatalf("IQ: %v", err)
	}
	v, ok := s.IQ.Payload.(*stanza.Version)
	if s.From != "bob@localhost/b" || !ok || v.Name != "fake" {
		t.Errorf("IQ reply from %q payload %#v, want bob's version", s.From, s.IQ.Payload)
	}
	if len(iq.Id) < 20 {
		t.Errorf("IQ id %q is too short to be unpredictable", iq.Id)
	}
	if st := c.Stats(); st.StrayReplies != 1 {
		t.Errorf("Stats().StrayReplies = %d, want the spoofed reply dropped", st.StrayReplies)
	}
}

func TestIQLateReplyDropped(t *testing.T) {
	release := make(chan struct{})
	fs := newFakeServer(t, fakeOpts{session: func(sc *serverConn) {
		el, err := sc.next()
		if err != nil {
			return
		}
		<-release
		sc.send(fmt.Sprintf("<iq type='result' id='%s'/>", el.attrValue("id")))
		sc.echoUntilClose()
	}})
	c := dialFake(t, fs, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.RawIQ(ctx, "get", "", []byte("<ping xmlns='urn:xmpp:ping'/>")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("RawIQ: %v, want DeadlineExceeded", err)
	}
	close(release)
	// A second IQ proves the late reply was read (and dropped) before it.
	if _, err := c.RawIQ(t.Context(), "get", "", []byte("<ping xmlns='urn:xmpp:ping'/>")); err != nil {
		t.Fatalf("second RawIQ: %v", err)
	}
	if st := c.Stats(); st.StrayReplies != 1 {
		t.Errorf("Stats().StrayReplies = %d, want 1", st.StrayReplies)
	}
	select {
	case s := <-c.In():
		t.Errorf("late reply reached the consumer: %s", s.Raw)
	default:
	}
}

func TestServerIQRequests(t *testing.T) {
	replies := make(chan string, 3)
	fs := newFakeServer(t, fakeOpts{session: func(sc *serverConn) {
		sc.send("<iq type='get' id='p1' from='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
		sc.send("<iq type='get' id='d1' from='bob@localhost/b'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
		sc.send("<iq type='get' id='v1' from='bob@localhost/b'><query xmlns='jabber:iq:version'/></iq>")
		sc.send("<iq type='set' id='r1'><query xmlns='jabber:iq:roster'><item jid='bob@localhost'/></query></iq>")
		for range 3 {
			el, err := sc.next()
			if err != nil {
				return
			}
			replies <- string(el.raw)
		}
		sc.echoUntilClose()
	}})
	c := dialFake(t, fs, func(c *Config) {
		c.DeliverIQ = func(typ string, payload xml.Name) bool { return payload.Space == "jabber:iq:roster" }
	})
	s, err := c.Next(t.Context())
	if err != nil || s.ID != "r1" {
		t.Fatalf("Next = %s, %v; want the roster push", s.Raw, err)
	}
	got := map[string]string{}
	for range 3 {
		r := <-replies
		got[r[strings.Index(r, "id='")+4:][:2]] = r
	}
	want := map[string]string{
		"p1": "<iq type='result' id='p1' to='localhost'/>",
		"v1": "<iq type='error' id='v1' to='bob@localhost/b'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
		// The client's own disco#info (caps.go).
		"d1": string(discoInfoReply(&Stanza{ID: "d1", From: "bob@localhost/b"}, xml.StartElement{Name: xml.Name{Space: nsDiscoInfo, Local: "query"}})),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("automatic replies (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(got["d1"], "<iq type='result' id='d1' to='bob@localhost/b'><query xmlns='http://jabber.org/protocol/disco#info'><identity category='client'") {
		t.Errorf("disco#info answer %s", got["d1"])
	}
}

func TestBackPressure(t *testing.T) {
	const n = 500
	fs := newFakeServer(t, fakeOpts{session: func(sc *serverConn) {
		for i := range n {
			sc.send(fmt.Sprintf("<message id='%d'><body>%s</body></message>", i, strings.Repeat("x", 1000)))
		}
		sc.echoUntilClose()
	}})
	full := make(chan struct{}, 1)
	c := dialFake(t, fs, func(c *Config) {
		c.QueueSize = 4
		c.OnQueueFull = func() {
			select {
			case full <- struct{}{}:
			default:
			}
		}
	})
	<-full
	if got := len(c.In()); got != 4 {
		t.Errorf("queue holds %d stanzas, want 4 (bounded)", got)
	}
	for i := range n {
		s, err := c.Next(t.Context())
		if err != nil || s.ID != strconv.Itoa(i) {
			t.Fatalf("Next #%d = %q, %v", i, s.ID, err)
		}
	}
	if st := c.Stats(); st.QueueFull == 0 {
		t.Errorf("Stats().QueueFull = 0, want > 0")
	}
}

func TestSend(t *testing.T) {
	got := make(chan string, 100)
	fs := newFakeServer(t, fakeOpts{session: func(sc *serverConn) {
		for {
			el, err := sc.next()
			if err != nil {
				if err == errStreamEnd {
					sc.send("</stream:stream>")
				}
				close(got)
				return
			}
			got <- string(el.raw)
		}
	}})
	c := dialFake(t, fs, func(c *Config) { c.KeepAlive = -1 })
	msg := stanza.NewMessage(stanza.Attrs{To: "bob@localhost", Type: stanza.MessageTypeChat, Id: "m1"})
	msg.Body = "<hi> & bye"
	if err := c.Send(t.Context(), msg); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if err := c.SendRaw(t.Context(), []byte("<presence/>")); err != nil {
		t.Fatalf("SendRaw: %v", err)
	}
	for _, bad := range []string{"<presence/><presence/>", "<presence>", "</stream:stream>", "<stream:features xmlns:stream='http://etherx.jabber.org/streams'/>", "<!DOCTYPE x><presence/>", "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>", "text", ""} {
		if err := c.SendRaw(t.Context(), []byte(bad)); !errors.Is(err, ErrInvalidStanza) {
			t.Errorf("SendRaw(%q) = %v, want ErrInvalidStanza", bad, err)
		}
	}
	two := []stanza.Message{msg, msg}
	if err := c.Send(t.Context(), two); !errors.Is(err, ErrInvalidStanza) {
		t.Errorf("Send(two messages) = %v, want ErrInvalidStanza", err)
	}
	// Concurrent writers never interleave.
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				c.SendRaw(t.Context(), fmt.Appendf(nil, "<message id='%d-%d'><body>%s</body></message>", g, i, strings.Repeat("y", 5000)))
			}
		}()
	}
	wg.Wait()
	if err := c.Close(t.Context()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	var all []string
	for s := range got {
		all = append(all, s)
	}
	if len(all) != 82 {
		t.Fatalf("server read %d stanzas, want 82", len(all))
	}
	want := "<message type=\"chat\" id=\"m1\" to=\"bob@localhost\"><body>&lt;hi&gt; &amp; bye</body></message>"
	if all[0] != want {
		t.Errorf("Send wrote %s, want %s", all[0], want)
	}
}
