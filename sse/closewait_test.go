package sse_test

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/sse"
)

// slowEndLog is a slog handler that takes its time over "sse stream
// ended" and notes when it finished writing it.
type slowEndLog struct {
	slog.Handler
	done atomic.Int64 // unix ns when the last end record was written
}

func (h *slowEndLog) Enabled(context.Context, slog.Level) bool { return true }

func (h *slowEndLog) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "sse stream ended" {
		time.Sleep(100 * time.Millisecond)
		h.done.Store(time.Now().UnixNano())
	}
	return nil
}

// TestCloseWaitsForStreamEnds: Close returns after every stream it ended
// has finished, its last log line included. A taken-over HTTP/1.1 stream
// was counted out before its end was logged, so Close could return while
// the line was still being written (a test's logger written to after the
// test ended: a race under -race).
func TestCloseWaitsForStreamEnds(t *testing.T) {
	h := &slowEndLog{Handler: slog.DiscardHandler}
	s := newServer(t, sse.Config{Logger: slog.New(h)})
	st := s.open(t, "alice", "")
	st.expect(t, "onConnect", `{"username":"alice"}`)
	if err := s.hub.Close(); err != nil {
		t.Fatal(err)
	}
	closed := time.Now().UnixNano()
	logged := h.done.Load()
	if logged == 0 || logged > closed {
		t.Errorf("Close returned before the stream's end was logged (logged %d ns after)", logged-closed)
	}
}
