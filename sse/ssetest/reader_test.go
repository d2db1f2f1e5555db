package ssetest_test

import (
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/sparkgate/sparkgate/sse/ssetest"
)

func TestReader(t *testing.T) {
	stream := "retry: 2500\n\n" +
		": heartbeat\n" +
		"event: onConnect\ndata: {}\n\n" +
		"id: 1-1\r\nevent: chatapi.chat\r\ndata: a\r\ndata:b\r\n\r\n" + // CRLF, no space after colon
		"data: no name\rdata\r\r" + // CR endings; "data" alone is an empty data line
		"id: x\x00y\nevent: ignored-without-data\n\n" + // an id with NUL is ignored
		"id: 1-2\nretry: soon\nbogus: field\ndata:  two spaces\n\n" +
		"data: partial"
	r := ssetest.NewReader(strings.NewReader(stream))
	var got []ssetest.Event
	for {
		ev, err := r.Next()
		if err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		got = append(got, ev)
	}
	want := []ssetest.Event{
		{Name: "onConnect", Data: "{}"},
		{ID: "1-1", Name: "chatapi.chat", Data: "a\nb"},
		{ID: "1-1", Name: "message", Data: "no name\n"},
		{ID: "1-2", Name: "message", Data: " two spaces"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if r.Retry != 2500 || r.Comments != 1 || r.LastEventID() != "1-2" {
		t.Errorf("Retry %d, Comments %d, LastEventID %q; want 2500, 1, 1-2", r.Retry, r.Comments, r.LastEventID())
	}
}

func TestReadAll(t *testing.T) {
	evs, err := ssetest.ReadAll(strings.NewReader("data: a\n\ndata: b\n\n"))
	if err != nil || len(evs) != 2 || evs[1].Data != "b" {
		t.Errorf("ReadAll = %+v, %v", evs, err)
	}
}

// TestReaderChunks reads the same stream whole, one byte per read, and in
// reads that split lines and CRLF pairs: the events must not depend on how
// the bytes arrive.
func TestReaderChunks(t *testing.T) {
	long := strings.Repeat("y", 10000) // longer than the reader's buffer
	stream := "retry: 10\r\n\r\nid: 1-1\r\nevent: a\r\ndata: " + long + "\r\n\r\n" +
		"data: cr\r\rdata: lf\n\n: c\nid: 1-2\ndata: x\r\ndata: y\n\n"
	all, err := ssetest.ReadAll(strings.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 4 || all[0].Data != long || all[1].Data != "cr" || all[2].Data != "lf" || all[3].Data != "x\ny" || all[3].ID != "1-2" {
		t.Fatalf("whole stream: %d events %.40q", len(all), all)
	}
	for name, rd := range map[string]io.Reader{
		"one byte": iotest.OneByteReader(strings.NewReader(stream)),
		"halves":   iotest.HalfReader(strings.NewReader(stream)),
	} {
		got, err := ssetest.ReadAll(rd)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if diff := cmp.Diff(all, got); diff != "" {
			t.Errorf("%s (-whole +got):\n%s", name, diff)
		}
	}
}

// BenchmarkReader reads events of a typical size (an id, a name, 300
// bytes of JSON).
func BenchmarkReader(b *testing.B) {
	frame := "id: 1764000000000-12345\nevent: chatapi.chat\ndata: {\"body\":\"" + strings.Repeat("x", 280) + "\"}\n\n"
	stream := strings.Repeat(frame, 1000)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		r := ssetest.NewReader(strings.NewReader(stream))
		for range 1000 {
			if _, err := r.Next(); err != nil {
				b.Fatal(err)
			}
		}
	}
}
