package xmppconn

import (
	"testing"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/sse"
)

// BenchmarkEventPath is the cost of one delivered chat message inside the
// gateway, by stage: cutting and decoding the stanza from the stream,
// translating it into chatapi payloads (plus the chatapi.xmpp raw event the
// default configuration adds), encoding each payload to JSON once, and
// publishing it to the user's event log and stream (SSE frame encoding,
// log append, queueing on one open stream). "all" runs every stage on
// each stanza. Run with -benchmem; sparkbench reports the end-to-end
// figures.
func BenchmarkEventPath(b *testing.B) {
	const self = "alice@localhost"
	decoded := func(b *testing.B) *Stanza {
		b.Helper()
		src := &repeatReader{prefix: []byte(clientHeader), body: []byte(benchChat)}
		er := newElemReader(src, DefaultMaxStanzaSize)
		if _, err := er.header(); err != nil {
			b.Fatal(err)
		}
		el, err := er.next(true)
		if err != nil || el.stanza == nil {
			b.Fatalf("decode: %v %v", err, el.decodeErr)
		}
		return el.stanza
	}
	payloads := func(st *Stanza) []chatapi.Payload {
		return append(Translate(st, self, testMUCServices), chatapi.XMPP{XMPP: st.Raw})
	}
	newHub := func(b *testing.B) *sse.Hub {
		b.Helper()
		h, err := sse.New(sse.Config{LogEvents: 1024})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { h.Close() })
		return h
	}

	b.Run("read", func(b *testing.B) {
		src := &repeatReader{prefix: []byte(clientHeader), body: []byte(benchChat)}
		er := newElemReader(src, DefaultMaxStanzaSize)
		if _, err := er.header(); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := er.next(true); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("translate", func(b *testing.B) {
		st := decoded(b)
		b.ReportAllocs()
		for b.Loop() {
			if ps := payloads(st); len(ps) != 2 {
				b.Fatalf("got %d payloads", len(ps))
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		ps := payloads(decoded(b))
		b.ReportAllocs()
		for b.Loop() {
			for _, p := range ps {
				if _, err := chatapi.Marshal(p); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("publish", func(b *testing.B) {
		h := newHub(b)
		data, err := chatapi.Marshal(payloads(decoded(b))[0])
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			h.Publish(self, "chatapi.chat", data)
		}
	})
	b.Run("all", func(b *testing.B) {
		h := newHub(b)
		src := &repeatReader{prefix: []byte(clientHeader), body: []byte(benchChat)}
		er := newElemReader(src, DefaultMaxStanzaSize)
		if _, err := er.header(); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			el, err := er.next(true)
			if err != nil || el.stanza == nil {
				b.Fatal(err)
			}
			for _, p := range payloads(el.stanza) {
				data, err := chatapi.Marshal(p)
				if err != nil {
					b.Fatal(err)
				}
				h.Publish(self, p.EventName(), data)
			}
		}
	})
}
