package ssetest_test

import (
	"io"
	"strings"
	"testing"

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
