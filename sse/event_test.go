package sse

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sparkgate/sparkgate/sse/ssetest"
)

func TestAppendFrame(t *testing.T) {
	tests := []struct {
		id, name, data string
		want           string
	}{
		0: {"1-1", "chatapi.chat", `{"body":"hi"}`, "id: 1-1\nevent: chatapi.chat\ndata: {\"body\":\"hi\"}\n\n"},
		1: {"", "", "", "data: \n\n"},
		2: {"", "onConnect", "a\nb", "event: onConnect\ndata: a\ndata: b\n\n"},
		3: {"2-9", "x", "a\r\nb\rc\n", "id: 2-9\nevent: x\ndata: a\ndata: b\ndata: c\ndata: \n\n"},
		4: {"", "x", "\n\n", "event: x\ndata: \ndata: \ndata: \n\n"},
	}
	for i, tt := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			got := appendFrame(nil, []byte(tt.id), tt.name, []byte(tt.data))
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("appendFrame(%q, %q, %q) mismatch (-want +got):\n%s", tt.id, tt.name, tt.data, diff)
			}
			if n := frameSize(len(tt.id), tt.name, []byte(tt.data)); n < len(got) {
				t.Errorf("frameSize(%q, %q) = %d, below the %d bytes written", tt.name, tt.data, n, len(got))
			}
		})
	}
}

func TestCleanName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"chatapi.chat", "chatapi.chat"},
		{"chat\r\nid: 666\n\nevent: evil", "chatid: 666event: evil"},
		{"a\x00b", "ab"},
		{"\r\n", ""},
		{"\xff\n\xfe", "\xff\xfe"},
	}
	for _, tt := range tests {
		if got := cleanName(tt.in); got != tt.want {
			t.Errorf("cleanName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseID(t *testing.T) {
	tests := []struct {
		in       string
		gen, seq uint64
		ok       bool
	}{
		{"1764000000000-42", 1764000000000, 42, true},
		{"0-0", 0, 0, true},
		{"18446744073709551615-18446744073709551615", 1<<64 - 1, 1<<64 - 1, true},
		{"18446744073709551616-1", 0, 0, false},
		{"", 0, 0, false},
		{"-", 0, 0, false},
		{"1-", 0, 0, false},
		{"-1", 0, 0, false},
		{"+1-2", 0, 0, false},
		{"1-2-3", 0, 0, false},
		{" 1-2", 0, 0, false},
		{"1-2\r\nevent: x", 0, 0, false},
		{"a0f3c2e4-uuid", 0, 0, false},
		{strings.Repeat("1", 30) + "-1", 0, 0, false},
	}
	for _, tt := range tests {
		gen, seq, ok := parseID(tt.in)
		if gen != tt.gen || seq != tt.seq || ok != tt.ok {
			t.Errorf("parseID(%q) = %d, %d, %v; want %d, %d, %v", tt.in, gen, seq, ok, tt.gen, tt.seq, tt.ok)
		}
	}
}

func TestLastEventID(t *testing.T) {
	r, _ := http.NewRequest("GET", "http://x/sse?lastEventId=5-6", nil)
	if got := LastEventID(r); got != "5-6" {
		t.Errorf("LastEventID(query) = %q, want %q", got, "5-6")
	}
	r.Header.Set("Last-Event-ID", "7-8")
	if got := LastEventID(r); got != "7-8" {
		t.Errorf("LastEventID(header and query) = %q, want the header's %q", got, "7-8")
	}
}

// normalizeLines turns CRLF and CR into LF, as an SSE client sees data lines.
func normalizeLines(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// FuzzFrame checks that an encoded event decodes to one event with our id,
// the cleaned name and the data, and that no CR or NUL can escape into the
// id or event fields.
func FuzzFrame(f *testing.F) {
	f.Add(uint64(1), uint64(1), "chatapi.chat", []byte(`{"body":"hi"}`))
	f.Add(uint64(0), uint64(0), "a\r\nid: 9\n\nevent: evil", []byte("x\r\ny\rz\n\nid: 1\nretry: 1"))
	f.Add(uint64(7), uint64(1<<63), "", []byte{})
	f.Add(uint64(7), uint64(3), ":comment\x00", []byte("\x00\r\r\n\n:"))
	f.Fuzz(func(t *testing.T, gen, seq uint64, name string, data []byte) {
		id := formatID(gen, seq)
		clean := cleanName(name)
		frame := appendFrame(nil, []byte(id), clean, data)
		if len(frame) > frameSize(len(id), clean, data) {
			t.Fatalf("frame of %d bytes exceeds frameSize %d", len(frame), frameSize(len(id), clean, data))
		}
		if bytes.IndexByte(frame, '\r') >= 0 {
			t.Fatalf("frame contains CR: %q", frame)
		}
		head, _, _ := bytes.Cut(frame, []byte("\ndata: "))
		if bytes.IndexByte(head, 0) >= 0 {
			t.Fatalf("id or event line contains NUL: %q", frame)
		}
		r := ssetest.NewReader(bytes.NewReader(frame))
		ev, err := r.Next()
		if err != nil {
			t.Fatalf("decode %q: %v", frame, err)
		}
		wantName := clean
		if wantName == "" {
			wantName = "message"
		}
		want := ssetest.Event{ID: id, Name: wantName, Data: normalizeLines(string(data))}
		if diff := cmp.Diff(want, ev); diff != "" {
			t.Fatalf("decode(appendFrame(%q, %q, %q)) mismatch (-want +got):\n%s", id, name, data, diff)
		}
		if _, err := r.Next(); err != io.EOF {
			t.Fatalf("after the event: %v, want io.EOF (frame %q)", err, frame)
		}
	})
}

// FuzzParseID checks that parseID accepts exactly what formatID makes, up to
// leading zeros, and never panics.
func FuzzParseID(f *testing.F) {
	for _, s := range []string{"1764000000000-42", "0-0", "", "-", "1-2-3", "007-1", "99999999999999999999-1", "1-2\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		gen, seq, ok := parseID(s)
		if !ok {
			return
		}
		if strings.ContainsAny(s, "\r\n\x00 ") {
			t.Fatalf("parseID(%q) accepted a control character", s)
		}
		id := formatID(gen, seq)
		g2, s2, ok2 := parseID(id)
		if !ok2 || g2 != gen || s2 != seq {
			t.Fatalf("parseID(formatID(%d, %d) = %q) = %d, %d, %v", gen, seq, id, g2, s2, ok2)
		}
		if id != s && !strings.HasPrefix(s, "0") && !strings.Contains(s, "-0") {
			t.Fatalf("parseID(%q) accepted a non-canonical id; formatID gives %q", s, id)
		}
	})
}

// discard is a ResponseWriter that drops what it is given; it supports
// Flush and SetWriteDeadline like a real connection.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header              { return d.h }
func (d *discard) Write(p []byte) (int, error)      { return len(p), nil }
func (d *discard) WriteHeader(int)                  {}
func (d *discard) Flush()                           {}
func (d *discard) SetWriteDeadline(time.Time) error { return nil }

var benchData = []byte(`{"type":"chat","to":"bob@example.org","from":"alice@example.org/web","data":null,"body":"hello, how are you today?","id":"m1","stanzaId":"1700000000000001"}`)

// BenchmarkPublish measures Publish to a user without an open stream (log
// append and encoding) and with streams whose queues are drained as a
// stream's goroutine would.
func BenchmarkPublish(b *testing.B) {
	for _, streams := range []int{0, 1, 3} {
		b.Run("streams="+strconv.Itoa(streams), func(b *testing.B) {
			h, err := New(Config{})
			if err != nil {
				b.Fatal(err)
			}
			var subs []*subscriber
			for range streams {
				s, _, err := h.subscribe(context.Background(), "alice", "", nil)
				if err != nil {
					b.Fatal(err)
				}
				subs = append(subs, s)
			}
			spare := make([][]byte, 0, 16)
			b.ReportAllocs()
			b.SetBytes(int64(len(benchData)))
			for i := 0; b.Loop(); i++ {
				if got := h.Publish("alice", "chatapi.chat", benchData); got != streams {
					b.Fatalf("Publish = %d, want %d", got, streams)
				}
				if i%16 == 15 {
					for _, s := range subs {
						q, _ := s.take(spare)
						spare = recycle(q)
					}
				}
			}
			for _, s := range subs {
				h.unsubscribe(s)
			}
		})
	}
}

// BenchmarkWrite measures encoding one event and writing it to one stream
// (one write, one flush, one deadline), and a batch of 16 queued events.
func BenchmarkWrite(b *testing.B) {
	w := &discard{h: http.Header{}}
	out := &writer{w: w, rc: http.NewResponseController(w), timeout: time.Second}
	b.Run("one", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(benchData)))
		var idb [maxIDLen]byte
		frames := make([][]byte, 1)
		for i := uint64(0); b.Loop(); i++ {
			id := appendID(idb[:0], 1764000000000, i)
			frames[0] = appendFrame(make([]byte, 0, frameSize(len(id), "chatapi.chat", benchData)), id, "chatapi.chat", benchData)
			if err := out.write(nil, frames, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("batch16", func(b *testing.B) {
		frames := make([][]byte, 16)
		for i := range frames {
			frames[i] = appendFrame(nil, []byte(formatID(1, uint64(i))), "chatapi.chat", benchData)
		}
		b.ReportAllocs()
		b.SetBytes(int64(16 * len(benchData)))
		for b.Loop() {
			if err := out.write(nil, frames, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// counter is a ResponseWriter that counts the events written to it and
// signals each write on wrote.
type counter struct {
	discard
	mu    sync.Mutex
	n     int
	wrote chan struct{}
}

func (c *counter) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.n += bytes.Count(p, []byte("\nevent: chatapi.chat\n"))
	c.mu.Unlock()
	select {
	case c.wrote <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (c *counter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// BenchmarkDeliver measures the whole path of one event to one open stream:
// Publish, waking the stream's goroutine, and the write and flush. "burst"
// publishes without waiting, so queued events share writes (the hub's CPU
// cost per delivered event under load); "paced" waits for each event to be
// written before publishing the next (one write and flush per event,
// including the goroutine hand-off).
func BenchmarkDeliver(b *testing.B) {
	for _, paced := range []bool{false, true} {
		name := "burst"
		if paced {
			name = "paced"
		}
		b.Run(name, func(b *testing.B) {
			h, err := New(Config{LogEvents: 1 << 20, LogBytes: 1 << 30, Heartbeat: -1})
			if err != nil {
				b.Fatal(err)
			}
			defer h.Close()
			w := &counter{discard: discard{h: http.Header{}}, wrote: make(chan struct{}, 1)}
			req := httptest.NewRequest("GET", "/sse", nil)
			served := make(chan error, 1)
			go func() { served <- h.ServeStream(w, req, "alice", Event{}) }()
			for h.Streams("alice") == 0 {
				runtime.Gosched()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				h.Publish("alice", "chatapi.chat", benchData)
				for paced && w.count() <= i {
					<-w.wrote
				}
			}
			for w.count() < b.N {
				<-w.wrote
			}
			b.StopTimer()
			h.EndStreams()
			<-served
		})
	}
}

// fanWriter is a ResponseWriter that counts down left for every event
// written to it and signals done when left reaches zero.
type fanWriter struct {
	discard
	left *atomic.Int64
	done chan struct{}
}

func (w *fanWriter) Write(p []byte) (int, error) {
	n := int64(bytes.Count(p, []byte("\nevent: chatapi.chat\n")))
	if n > 0 && w.left.Add(-n) == 0 {
		w.done <- struct{}{}
	}
	return len(p), nil
}

// BenchmarkFanout measures one event to 1,000 streams of one user (tabs):
// Publish, the wakes, and every stream's write and flush, without a
// network. An op is one event delivered to all streams; ns/delivery is the
// hub's CPU per stream.
func BenchmarkFanout(b *testing.B) {
	const streams = 1000
	h, err := New(Config{Heartbeat: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	var left atomic.Int64
	done := make(chan struct{}, 1)
	served := make(chan error, streams)
	for range streams {
		w := &fanWriter{discard: discard{h: http.Header{}}, left: &left, done: done}
		req := httptest.NewRequest("GET", "/sse", nil)
		go func() { served <- h.ServeStream(w, req, "alice", Event{}) }()
	}
	for h.Streams("alice") < streams {
		runtime.Gosched()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		left.Store(streams)
		h.Publish("alice", "chatapi.chat", benchData)
		<-done
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*streams), "ns/delivery")
	h.EndStreams()
	for range streams {
		<-served
	}
}
