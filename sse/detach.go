package sse

import (
	"context"
	"net/http"
)

// A stream served by ServeStream keeps its handler's goroutine for its
// whole life: parked under net/http's connection loop, the router and
// every middleware, that goroutine's stack has grown to what the deepest
// of them needed, and its frames keep net/http's connection state
// (read and write buffers, the response) alive though a taken-over
// stream uses none of it. An idle user's stream is mostly that.
//
// ServeStreamDetached lets the handler return instead: once the
// connection is taken over, the stream goes on in a goroutine of its
// own, started at the bottom of a fresh stack (a few KiB for the wait in
// a read, see park.go), and net/http's state becomes garbage. What the
// handler would have done after ServeStream returned, it passes as done.

// ServeStreamDetached is ServeStream for a handler that need not stay on
// its goroutine while the stream lasts. It returns ErrClosed or
// ErrUnavailable before writing anything, as ServeStream does, and then
// never calls done. Otherwise it returns nil and calls done exactly once,
// with what ServeStream would have returned, when the stream has ended:
//
//   - When the stream's HTTP/1.1 connection can be taken over,
//     ServeStreamDetached returns as soon as it has been, and the stream
//     goes on in a goroutine the hub starts; done is called on that
//     goroutine. The handler must not use w after it returns.
//   - Otherwise (HTTP/2, a ResponseWriter that cannot be taken over) it
//     serves the stream as ServeStream does and calls done before it
//     returns.
//
// ctx ends the stream in place of the request's context: when it is done,
// the stream ends, with a last close event when its cause is an [*End].
// It must outlive the handler, since net/http cancels the request's
// context when the handler returns: build it on
// context.WithoutCancel(r.Context()). The client leaving is noticed
// without it (the read of a taken-over connection ends; r.Context() is
// still watched while net/http serves the stream).
//
// [Hub.Close] returns only after every done call has returned; done must
// not wait for Close.
func (h *Hub) ServeStreamDetached(ctx context.Context, w http.ResponseWriter, r *http.Request, user string, hello Event, done func(error), omit ...string) error {
	s, out, spare, err := h.open(w, r, user, hello, omit)
	if s == nil {
		return err
	}
	if err == nil {
		if c := takeOver(out, r); c != nil {
			// Counted until done returns, so that Close waits for
			// the caller's end of the stream too.
			h.serving.Add(1)
			go func() {
				defer h.serving.Done()
				err := h.serveParked(ctx, s, out, c, spare)
				h.unsubscribe(s)
				done(err)
			}()
			return nil
		}
		// net/http serves the stream: the client leaving ends the
		// request's context, which ctx does not see.
		merged, cancel := context.WithCancelCause(ctx)
		stop := context.AfterFunc(r.Context(), func() { cancel(context.Cause(r.Context())) })
		err = h.serveLoop(merged, s, out, spare)
		stop()
		cancel(nil)
	} else {
		err = h.ended(ctx, s, err)
	}
	h.unsubscribe(s)
	done(err)
	return nil
}
