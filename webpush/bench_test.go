package webpush_test

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sparkgate/sparkgate/webpush"
)

// countingClient answers 201 at once and counts requests.
type countingClient struct {
	n    atomic.Int64
	done chan struct{}
	want int64
}

func (c *countingClient) Do(r *http.Request) (*http.Response, error) {
	io.Copy(io.Discard, r.Body)
	if c.n.Add(1) == c.want {
		close(c.done)
	}
	return &http.Response{StatusCode: http.StatusCreated, Body: io.NopCloser(strings.NewReader("")), Header: http.Header{}}, nil
}

// BenchmarkSend measures one notification through the queue, the
// encryption (RFC 8291) and the VAPID signature (RFC 8292), without the
// network.
func BenchmarkSend(b *testing.B) {
	p, a := testKeys(b)
	keys, _ := webpush.GenerateVAPID()
	st := newMemStore(webpush.Subscription{User: "u@x", Resource: "r", Endpoint: "https://push.example/1", P256dh: p, Auth: a})
	c := &countingClient{done: make(chan struct{}), want: int64(b.N)}
	s, err := webpush.NewSender(webpush.SenderConfig{Keys: keys, Subject: "a@x", Store: st, HTTPClient: c, QueueSize: b.N + 1, Workers: 2})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	payload := []byte(`{"subject":"alice@x","body":"hello there","data":"{\"type\":\"chat\",\"from\":\"alice@x\"}"}`)
	b.ResetTimer()
	for range b.N {
		if err := s.Send("u@x", webpush.Notification{Payload: payload}); err != nil {
			b.Fatal(err)
		}
	}
	<-c.done
}
