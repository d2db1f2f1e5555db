package sse

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

// An HTTP/1.1 stream is served on its connection taken over from net/http
// (Hijack, after net/http has written the response header), so that it
// costs one goroutine, not two: net/http reads every connection in a
// background goroutine of its own while a handler runs, only to notice a
// client that goes away. A taken-over stream's goroutine waits for the
// same things in one blocking read of the connection instead: the read
// ends when the client closes (or sends anything), and everything else
// that needs the stream's attention (an event, the hub ending the stream,
// the caller's context, the heartbeat and the maximum age) cuts the read
// short through its deadline. It writes the body in HTTP/1.1 chunks, as
// net/http would have, and closes the connection at the end.
//
// Where the connection cannot be taken over (HTTP/2, a ResponseWriter
// that does not unwrap to net/http's), the stream runs as before, in the
// select loop of ServeStream.

// aLongTimeAgo is a deadline in the past: setting it ends a blocked read.
var aLongTimeAgo = time.Unix(1, 0)

// parked is the connection of a taken-over stream, with its socket's
// file descriptor (-1 when unknown) and its writer, for a publisher that
// writes through (through.go).
type parked struct {
	c   net.Conn
	fd  int
	out *writer
}

// poke cuts the stream's blocking read short, if it is taken over.
func (s *subscriber) poke() {
	if p := s.conn.Load(); p != nil {
		p.c.SetReadDeadline(aLongTimeAgo)
	}
}

// takeOver takes the stream's connection from net/http after the header
// has been written and makes out write to it; nil when that is not
// possible.
//
// The stream keeps nothing of net/http's but the connection: not the
// bufio.ReadWriter Hijack returns (net/http's 4 KiB read and write
// buffers; the body is written to the connection in one write per batch,
// from the hub's pooled buffer), nor the ResponseWriter. So once the
// handler has returned (ServeStreamDetached), nothing holds net/http's
// connection state and the garbage collector takes it.
func takeOver(out *writer, r *http.Request) net.Conn {
	if r.ProtoMajor != 1 || r.ProtoMinor != 1 {
		return nil
	}
	c, brw, err := out.rc.Hijack()
	if err != nil {
		return nil
	}
	if brw.Reader.Buffered() > 0 {
		// The client sent more than its request (pipelining): this
		// stream cannot tell where it ends; serve no further.
		c.Close()
		return nil
	}
	// net/http took the background read down; the header went out.
	c.SetDeadline(time.Time{})
	// Taking over cleared the write deadline: the next write sets one.
	out.w, out.c, out.rc, out.deadline = nil, c, nil, time.Time{}
	return c
}

// chunkHead is the room writer.write leaves at the start of its buffer on
// a taken-over connection, for a chunk's size line: up to 16 hex digits
// and CRLF.
const chunkHead = 18

// send writes buf[head:] to the stream: as it is, or on a taken-over
// connection as one HTTP/1.1 chunk (asChunk). Three writes (size line,
// data, CRLF) were three system calls and three TCP segments to the
// client: net.Buffers gathers them in one only on a *net.TCPConn. It
// returns buf, grown when the CRLF needed room.
func (o *writer) send(buf []byte, head int) ([]byte, error) {
	if o.wrote != nil {
		o.wrote(buf[head:])
	}
	if head == 0 {
		_, err := o.w.Write(buf)
		return buf, err
	}
	buf, start := asChunk(buf, head)
	_, err := o.c.Write(buf[start:])
	return buf, err
}

// asChunk makes buf[head:] one HTTP/1.1 chunk in place, so that it is one
// write: its size line goes in the room before it (head is chunkHead) and
// its CRLF after it. It returns buf, grown when the CRLF needed room, and
// where the chunk starts.
func asChunk(buf []byte, head int) ([]byte, int) {
	var line [chunkHead]byte
	size := strconv.AppendInt(line[:0], int64(len(buf)-head), 16)
	size = append(size, '\r', '\n')
	start := head - len(size)
	copy(buf[start:], size)
	return append(buf, '\r', '\n'), start
}

// serveParked is ServeStream's loop for a taken-over stream: it returns
// what ServeStream returns, having written the end of the body.
func (h *Hub) serveParked(ctx context.Context, s *subscriber, out *writer, c net.Conn, spare [][]byte) error {
	// The goroutine holds s.wmu but while it waits in its read
	// (through.go). The connection is forgotten and closed before wmu is
	// let go for the last time, so no publisher writes to a closed (or
	// reused) file descriptor.
	s.wmu.Lock()
	s.conn.Store(&parked{c: c, fd: socketFD(c), out: out})
	defer func() {
		s.conn.Store(nil)
		c.Close()
		s.wmu.Unlock()
	}()
	stop := context.AfterFunc(ctx, s.poke)
	defer stop()
	// An event published before the connection was stored has its wake
	// token, which the loop below sees first.

	var maxAgeAt time.Time
	if h.cfg.MaxAge > 0 {
		jitter := time.Duration(rand.Float64() * h.cfg.MaxAgeJitter * float64(h.cfg.MaxAge))
		maxAgeAt = time.Now().Add(h.cfg.MaxAge - jitter)
	}
	var junk [64]byte
	for {
		select {
		case <-ctx.Done():
			var end *End
			if errors.As(context.Cause(ctx), &end) {
				s.end(end.Reason, end.Resume)
				err := out.write(nil, nil, h.closeFrame(end.Reason, end.Resume))
				return h.finishParked(ctx, s, out, err)
			}
			// Ended by the caller without a reason: the body ends
			// cleanly, as net/http ends it when a handler returns,
			// after what a write through left.
			return h.finishParked(ctx, s, out, out.write(nil, nil, nil))
		case <-s.done:
			s.log.mu.RLock()
			reason, resume, q := s.reason, s.resume, s.tail
			s.log.mu.RUnlock()
			err := out.write(nil, q, h.closeFrame(reason, resume))
			if reason == ReasonSlow {
				err = errors.Join(ErrSlow, err)
			}
			return h.finishParked(ctx, s, out, err)
		case <-s.wake:
			var err error
			if spare, err = s.writeWoken(out, spare); err != nil {
				return h.ended(ctx, s, err)
			}
			continue
		default:
		}
		now := time.Now()
		if !maxAgeAt.IsZero() && !now.Before(maxAgeAt) {
			maxAgeAt = time.Time{}
			s.end(ReasonMaxAge, true)
			continue
		}
		var wake time.Time
		if hb := h.cfg.Heartbeat; hb > 0 {
			if now.Sub(out.last) >= hb {
				if err := out.write([]byte(": ping\n"), nil, nil); err != nil {
					return h.ended(ctx, s, err)
				}
				continue
			}
			wake = out.last.Add(hb)
		}
		if !maxAgeAt.IsZero() && (wake.IsZero() || maxAgeAt.Before(wake)) {
			wake = maxAgeAt
		}
		c.SetReadDeadline(wake)
		// A poke between the select above and this deadline was
		// overwritten by it; what caused it is visible now.
		if len(s.wake) > 0 || isClosed(s.done) || ctx.Err() != nil {
			continue
		}
		s.wmu.Unlock()
		_, err := c.Read(junk[:])
		s.wmu.Lock()
		if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			return h.ended(ctx, s, nil) // the client went away
		}
		// Bytes from the client (none are expected) are dropped.
	}
}

// finishParked writes the last chunk of a body after the stream's last
// event, unless that failed. The stream leaves the hub first, as a stream
// served by net/http does before net/http ends its body: a client that has
// read the end finds the stream no longer counted. Close still waits for
// it: unsubscribe releases the stream's count in Hub.serving, so this holds
// one of its own until the end is logged (taken while the stream's is
// still held, so Close's Wait cannot have returned yet).
func (h *Hub) finishParked(ctx context.Context, s *subscriber, out *writer, err error) error {
	h.serving.Add(1)
	defer h.serving.Done()
	h.unsubscribe(s)
	if err == nil || errors.Is(err, ErrSlow) && !errors.Is(err, os.ErrDeadlineExceeded) {
		out.c.SetWriteDeadline(time.Now().Add(h.cfg.WriteTimeout))
		out.c.Write([]byte("0\r\n\r\n"))
	}
	return h.ended(ctx, s, err)
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// conn is the stream's taken-over connection, nil until then.
type connRef = atomic.Pointer[parked]
