package xmppconn

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestWriteWithEndedContext: a request made with a context that has ended
// already fails with the context's error and leaves the stream up (it
// used to win the write lock half the time and cut the stream with a past
// write deadline: the gateway's remote session hands the owner such
// contexts when the caller gave up).
func TestWriteWithEndedContext(t *testing.T) {
	fs := newFakeServer(t, fakeOpts{session: iqServer})
	c := dialFake(t, fs, nil)
	ended, cancel := context.WithTimeout(t.Context(), time.Nanosecond)
	defer cancel()
	<-ended.Done()
	for range 50 {
		if _, err := c.RawIQ(ended, "get", "", []byte("<q xmlns='urn:example:q' n='1'/>")); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("IQ with an ended context: %v, want DeadlineExceeded", err)
		}
	}
	ctx, cancel2 := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel2()
	if _, err := c.RawIQ(ctx, "get", "", []byte("<q xmlns='urn:example:q' n='1'/>")); err != nil {
		t.Fatalf("IQ afterwards: %v (the stream was cut)", err)
	}
}
