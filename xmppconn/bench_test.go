package xmppconn

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"strings"
	"testing"

	"gosrc.io/xmpp/stanza"
)

// benchChat is a chat message as ejabberd delivers it.
const benchChat = `<message xml:lang='en' to='alice@localhost/web-1' from='bob@localhost/phone' type='chat' id='5f1c2a7e-9a7b-4a51-8d0e-2b4f3a1c9e77'><archived by='alice@localhost' id='1795466568188565' xmlns='urn:xmpp:mam:tmp'/><stanza-id by='alice@localhost' id='1795466568188565' xmlns='urn:xmpp:sid:0'/><body>Hello Alice, are we still on for lunch tomorrow?</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>`

// BenchmarkReadChat is the read path of one inbound chat stanza: cut it
// out of the stream with its exact bytes, then decode it.
func BenchmarkReadChat(b *testing.B) {
	src := &repeatReader{prefix: []byte(clientHeader), body: []byte(benchChat)}
	er := newElemReader(src, DefaultMaxStanzaSize)
	if _, err := er.header(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(benchChat)))
	b.ReportAllocs()
	for b.Loop() {
		el, err := er.next(true)
		if err != nil {
			b.Fatal(err)
		}
		if s := el.stanza; s == nil || s.Message == nil || len(s.StanzaIDs) != 1 {
			b.Fatalf("decode: %v", el.decodeErr)
		}
	}
}

// BenchmarkReadChatGosrc is gosrc.io/xmpp's read path for the same stanza
// (stanza.NextPacket on a buffered decoder, as its Client does), without
// the goroutine its Client starts per stanza. It keeps no bytes and drops
// the stanza-id.
func BenchmarkReadChatGosrc(b *testing.B) {
	src := &repeatReader{prefix: []byte(clientHeader), body: []byte(benchChat)}
	d := xml.NewDecoder(bufio.NewReaderSize(src, 32<<10))
	for {
		tok, err := d.Token()
		if err != nil {
			b.Fatal(err)
		}
		if _, ok := tok.(xml.StartElement); ok {
			break
		}
	}
	b.SetBytes(int64(len(benchChat)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := stanza.NextPacket(d)
		if err != nil {
			b.Fatal(err)
		}
		if m, ok := p.(stanza.Message); !ok || m.Body == "" {
			b.Fatalf("got %T", p)
		}
	}
}

// BenchmarkConnInbound is the whole inbound path over loopback TCP: socket,
// reader goroutine, queue, consumer.
func BenchmarkConnInbound(b *testing.B) {
	const batch = 64
	frame := strings.Repeat(benchChat, batch)
	ready := make(chan *serverConn, 1)
	fs := newFakeServer(b, fakeOpts{session: func(sc *serverConn) {
		ready <- sc
		sc.echoUntilClose()
	}})
	c := dialFake(b, fs, func(c *Config) { c.KeepAlive = -1 })
	sc := <-ready
	go func() {
		for range (b.N + batch - 1) / batch {
			if _, err := fmt.Fprint(sc.nc, frame); err != nil {
				return
			}
		}
	}()
	b.SetBytes(int64(len(benchChat)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := c.Next(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
}
