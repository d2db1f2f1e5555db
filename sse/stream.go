package sse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// maxBatch is the size at which a batch of frames is written out before the
// next frame is added.
const maxBatch = 32 << 10

// bufPool holds write buffers shared by all streams, so that an idle stream
// holds none.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// subscriber is one open stream. It has no queue of its own: it reads the
// user's log from its cursor, so an event costs a stream nothing but a wake
// until the stream writes it, and a burst of events costs no memory beyond
// the log that keeps them anyway.
type subscriber struct {
	log  *userLog
	wake chan struct{} // capacity 1: the log has events after next
	done chan struct{} // closed when the hub ends the stream

	// All of these are guarded by log.mu. The stream's own goroutine moves
	// next holding log.mu for reading; everyone else reads it holding it
	// for writing.
	next   uint64   // seq of the next logged event to write
	tail   [][]byte // when ended: the frames it still writes before the close event
	omit   []string // names of the events it leaves out (omit.go); fixed
	ended  bool
	reason string // why the hub ended the stream
	resume bool

	// Guarded by log.mu as next is: a lazy event is waiting (lazy.go),
	// and the timer that writes it if no other event comes first.
	lazyArmed bool
	lazyTimer *time.Timer

	conn connRef // the taken-over connection (park.go), or nil

	// wmu is held by the goroutine of a taken-over stream except while
	// it waits in its read: a publisher that gets it writes through
	// (through.go).
	wmu sync.Mutex

	// unsubscribed is set by the first unsubscribe: a taken-over stream
	// leaves the hub before it ends its body (park.go), and ServeStream's
	// deferred call then does nothing.
	unsubscribed atomic.Bool
}

// endLocked asks the stream to end; the first reason wins. Unless the
// stream ends as slow, the logged events it has not written yet are kept
// in s.tail, to be written before its close event. s.log.mu must be held
// for writing.
func (s *subscriber) endLocked(reason string, resume bool) {
	if s.ended {
		return
	}
	s.ended, s.reason, s.resume = true, reason, resume
	if reason != ReasonSlow { // a slow stream resumes from its last id
		s.tail = s.keep(s.log.sinceLocked(s.next - 1))
		s.next = s.log.last + 1
	}
	close(s.done)
	s.poke()
}

// signal wakes the stream's goroutine without blocking.
func (s *subscriber) signal() {
	select {
	case s.wake <- struct{}{}:
		s.poke()
	default:
	}
}

// end is endLocked taking s.log.mu.
func (s *subscriber) end(reason string, resume bool) {
	s.log.mu.Lock()
	s.endLocked(reason, resume)
	s.log.mu.Unlock()
}

// take appends to dst the frames of the logged events the stream has not
// written yet, up to maxBatch bytes or so, moves its cursor past them, and
// reports whether more are left. It returns nothing once the stream has
// ended (its tail is written with the close event).
func (s *subscriber) take(dst [][]byte) (frames [][]byte, more bool) {
	s.log.mu.RLock()
	defer s.log.mu.RUnlock()
	return s.takeLocked(dst, maxBatch)
}

// takeLocked is take with s.log.mu held (for reading by the stream's own
// goroutine, for writing by a publisher writing through), taking up to
// limit bytes or so.
func (s *subscriber) takeLocked(dst [][]byte, limit int) (frames [][]byte, more bool) {
	l := s.log
	if s.ended || s.next > l.last {
		return dst, false
	}
	// The cursor never falls below the log: the publisher ends a stream
	// as slow before trimming an event it has not written.
	i := l.ring.n - int(l.last-s.next+1)
	size := 0
	for ; i < l.ring.n && size < limit; i++ {
		f := l.ring.at(i).frame
		s.next++
		if s.omits(f) {
			continue
		}
		dst = append(dst, f)
		size += len(f)
	}
	if s.next > l.last {
		s.disarmLazyLocked()
	}
	return dst, s.next <= l.last
}

// start is what a stream writes before live events.
type start struct {
	reset  []byte   // a reset frame, or nil
	replay [][]byte // frames from the Remote log, before the memory's
}

// subscribe registers a stream for user resuming after lastID: its cursor
// is set to the first event it must get.
func (h *Hub) subscribe(ctx context.Context, user, lastID string, omit []string) (*subscriber, start, error) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, start{}, ErrClosed
	}
	l := h.logLocked(user)
	draining := h.draining
	h.serving.Add(1)
	h.streams.Add(1)
	l.mu.Lock()
	h.mu.Unlock()
	defer l.mu.Unlock()

	s := &subscriber{log: l, wake: make(chan struct{}, 1), done: make(chan struct{}), omit: omit}
	l.trimLocked(&h.cfg, time.Now())
	var st start
	from := l.acked // what a stream without Last-Event-ID gets: what no stream had yet
	switch gen, seq, ok := parseID(lastID); {
	case lastID == "":
	case ok && gen == l.gen && h.cfg.Remote != nil && (seq > l.last || seq+1 < l.firstLocked()):
		// The memory lacks some of what the stream missed: the Remote
		// log has it (remote.go).
		frames, expired, err := h.replayRemoteLocked(ctx, l, user, seq)
		if err != nil {
			h.streams.Add(-1)
			h.serving.Done()
			return nil, start{}, err
		}
		from = seq
		st.replay = s.keep(frames)
		if expired {
			st.reset = h.resetFrame(l, "expired", lastID)
			from = l.acked
		}
	case ok && gen == l.gen && seq <= l.last && seq+1 >= l.firstLocked():
		from = seq
	case ok && gen == l.gen && seq <= l.last:
		st.reset = h.resetFrame(l, "expired", lastID)
	default:
		if !ok {
			lastID = ""
		}
		// After the reset, what no stream has had yet (a new log's first
		// events, e.g. after a gateway restart), as a fresh stream gets.
		st.reset = h.resetFrame(l, "unknown", lastID)
	}
	s.next = max(from+1, l.firstLocked())
	l.addLocked(s)
	if draining {
		s.endLocked(ReasonShutdown, true)
	}
	l.acked = l.last
	return s, st, nil
}

// resetFrame encodes the reset event. Its id is that of the last event
// some stream already had (the replay that follows the reset starts after
// it), so a client that reconnects after it resumes from there. lastID,
// when not empty, was accepted by parseID and needs no JSON escaping.
func (h *Hub) resetFrame(l *userLog, reason, lastID string) []byte {
	data := `{"reason":"` + reason + `"`
	if lastID != "" {
		data += `,"lastEventId":"` + lastID + `"`
	}
	data += "}"
	var idb [maxIDLen]byte
	return appendFrame(nil, appendID(idb[:0], l.gen, l.acked), h.cfg.ResetEvent, []byte(data))
}

// closeFrame encodes the last event of a stream the hub ends.
func (h *Hub) closeFrame(reason string, resume bool) []byte {
	data, err := json.Marshal(struct {
		Reason string `json:"reason"`
		Resume bool   `json:"resume"`
	}{reason, resume})
	if err != nil { // a string and a bool always encode
		panic(err)
	}
	return appendFrame(nil, nil, h.cfg.CloseEvent, data)
}

// unsubscribe removes s from its log.
func (h *Hub) unsubscribe(s *subscriber) {
	if s.unsubscribed.Swap(true) {
		return
	}
	s.log.mu.Lock()
	s.log.removeLocked(s)
	s.disarmLazyLocked()
	s.log.mu.Unlock()
	h.streams.Add(-1)
	h.serving.Done()
}

// ServeStream serves user's event stream on w until the client goes away
// or the hub ends the stream. The caller must have authenticated the user;
// ServeStream neither checks the method nor reads the body.
//
// The stream is registered before any header is written, so no event
// published from then on is missed. ServeStream resumes after LastEventID(r)
// as the package documentation describes, writes a "retry:" field, then
// hello (if its Name or Data is set; it has no id and is not logged), then a
// reset event if the resume is impossible, the replayed events, and live
// events. It clears the server's write deadline and sets one per write.
//
// The stream leaves out the events named in omit (from the log, the
// replay and the live events alike; omit.go); their ids still count as
// seen, so a resume goes on after them. An event the stream leaves out
// does not wake it (lazy.go).
//
// ServeStream returns ErrClosed, before writing anything, after Close; an
// error wrapping ErrSlow when the stream fell behind; the write error when a
// write failed; and nil when the client left or the hub ended the stream for
// another reason.
func (h *Hub) ServeStream(w http.ResponseWriter, r *http.Request, user string, hello Event, omit ...string) error {
	s, out, spare, err := h.open(w, r, user, hello, omit)
	if s == nil {
		return err
	}
	defer h.unsubscribe(s)
	ctx := r.Context()
	if err != nil {
		return h.ended(ctx, s, err)
	}
	if c := takeOver(out, r); c != nil {
		return h.serveParked(ctx, s, out, c, spare)
	}
	return h.serveLoop(ctx, s, out, spare)
}

// open registers the stream, writes its header and its first batch (the
// hello, a reset, the replay or its start), and returns the stream and its
// writer. s is nil when nothing was written (ErrClosed, ErrUnavailable);
// otherwise err is the first write's error.
func (h *Hub) open(w http.ResponseWriter, r *http.Request, user string, hello Event, omit []string) (s *subscriber, out *writer, spare [][]byte, err error) {
	s, st, err := h.subscribe(r.Context(), user, LastEventID(r), omit)
	if err != nil {
		return nil, nil, nil, err
	}
	out = &writer{w: w, rc: http.NewResponseController(w), timeout: h.cfg.WriteTimeout, wrote: h.cfg.Wrote}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Accel-Buffering", "no")
	hdr.Del("Content-Length")
	if r.ProtoMajor == 1 {
		// The connection ends with the stream (park.go closes a
		// taken-over one): a keep-alive client that put it back in its
		// pool after a clean end of the body would send its next
		// request into a closed socket (Node's fetch did: "other side
		// closed").
		hdr.Set("Connection", "close")
	}
	if err := out.rc.SetWriteDeadline(time.Time{}); errors.Is(err, http.ErrNotSupported) {
		out.noDeadline = true
	}
	w.WriteHeader(http.StatusOK)

	var pre []byte
	if h.cfg.Retry > 0 {
		pre = append(pre, "retry: "...)
		pre = strconv.AppendInt(pre, h.cfg.Retry.Milliseconds(), 10)
		pre = append(pre, "\n\n"...)
	}
	if hello.Name != "" || hello.Data != nil {
		pre = appendFrame(pre, nil, cleanName(hello.Name), hello.Data)
	}
	pre = append(pre, st.reset...)
	// The replay, or its first batch, goes out with the hello.
	q, more := s.take(st.replay)
	st = start{}
	if err := out.write(pre, q, nil); err != nil {
		return s, out, nil, err
	}
	if more {
		s.signal()
	}
	return s, out, recycle(q), nil
}

// serveLoop is ServeStream's loop for a stream net/http keeps serving
// (HTTP/2, or a ResponseWriter that cannot be taken over); ctx ends it as
// the request's context does.
func (h *Hub) serveLoop(ctx context.Context, s *subscriber, out *writer, spare [][]byte) error {
	// The heartbeat timer is not reset on every write (a timer reset per
	// event per stream is a cost under load): when it fires after a write,
	// it is set again for the rest of the silence.
	var heartbeat <-chan time.Time
	var beat *time.Timer
	if h.cfg.Heartbeat > 0 {
		beat = time.NewTimer(h.cfg.Heartbeat)
		defer beat.Stop()
		heartbeat = beat.C
	}
	var maxAge <-chan time.Time
	if h.cfg.MaxAge > 0 {
		jitter := time.Duration(rand.Float64() * h.cfg.MaxAgeJitter * float64(h.cfg.MaxAge))
		t := time.NewTimer(h.cfg.MaxAge - jitter)
		defer t.Stop()
		maxAge = t.C
	}

	for {
		select {
		case <-ctx.Done():
			var end *End
			if errors.As(context.Cause(ctx), &end) {
				// Ended by the caller, not by the client: say why.
				s.end(end.Reason, end.Resume)
				err := out.write(nil, nil, h.closeFrame(end.Reason, end.Resume))
				return h.ended(ctx, s, err)
			}
			return h.ended(ctx, s, nil)
		case <-s.wake:
			var err error
			if spare, err = s.writeWoken(out, spare); err != nil {
				return h.ended(ctx, s, err)
			}
		case <-heartbeat:
			if silent := time.Since(out.last); silent < h.cfg.Heartbeat {
				beat.Reset(h.cfg.Heartbeat - silent)
				continue
			}
			if err := out.write([]byte(": ping\n"), nil, nil); err != nil {
				return h.ended(ctx, s, err)
			}
			beat.Reset(h.cfg.Heartbeat)
		case <-maxAge:
			s.end(ReasonMaxAge, true)
		case <-s.done:
			s.log.mu.RLock()
			reason, resume, q := s.reason, s.resume, s.tail
			s.log.mu.RUnlock()
			err := out.write(nil, q, h.closeFrame(reason, resume))
			if reason == ReasonSlow {
				err = errors.Join(ErrSlow, err)
			}
			return h.ended(ctx, s, err)
		}
	}
}

// End, as the cause of the request context's end (context.WithCancelCause,
// context.WithDeadlineCause), makes ServeStream finish the stream with a
// last close event naming Reason (and Resume) instead of just stopping: a
// token that expired or was revoked, say.
type End struct {
	Reason string
	Resume bool
}

func (e *End) Error() string { return "sse: stream ended: " + e.Reason }

// ended logs the end of a stream and returns err.
func (h *Hub) ended(ctx context.Context, s *subscriber, err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, ErrSlow) {
		err = fmt.Errorf("%w: %w", ErrSlow, err)
	}
	if h.log.Enabled(ctx, slog.LevelDebug) {
		s.log.mu.RLock()
		reason := s.reason
		s.log.mu.RUnlock()
		if reason == "" {
			reason = "client gone"
		}
		h.log.LogAttrs(ctx, slog.LevelDebug, "sse stream ended", slog.String("reason", reason), slog.Any("err", err))
	}
	return err
}

// writeWoken writes the events the stream was woken for, in one batch, and
// returns spare for the next; when more are waiting (a long replay or a
// burst) it wakes the stream again, so the next batch comes after the
// other streams had a turn.
//
// Before it takes the events it lets the other goroutines that are ready
// run (runtime.Gosched): a publish wakes every stream of the user, and
// under load more publishes arrive while those streams wait for a
// processor, so a stream that yields once takes them too and writes them
// in the same write. With 100 streams fed by 8 publishers (sparkbench's
// peers scenario) the hub made 22% fewer writes per event and used 20%
// less CPU per event; when nothing else is ready the yield returns at
// once.
func (s *subscriber) writeWoken(out *writer, spare [][]byte) ([][]byte, error) {
	runtime.Gosched()
	q, more := s.take(spare)
	if len(q) == 0 && out.pending == nil {
		return spare, nil
	}
	err := out.write(nil, q, nil)
	spare = recycle(q)
	if err == nil && more {
		s.signal()
	}
	return spare, err
}

// recycle returns q emptied for reuse as a queue, or nil when it has grown
// large, so that an idle stream does not keep a big backing array.
func recycle(q [][]byte) [][]byte {
	if cap(q) > 16 {
		return nil
	}
	clear(q)
	return q[:0]
}

// writer writes batches of frames to one stream.
type writer struct {
	w          io.Writer // the ResponseWriter; unused once taken over
	c          net.Conn  // the taken-over connection (park.go), or nil
	rc         *http.ResponseController
	timeout    time.Duration
	noDeadline bool
	deadline   time.Time // when the write deadline was last set
	last       time.Time // when the last write started

	// wrote is Config.Wrote, or nil.
	wrote func(body []byte)
	// pending is what a write through left unwritten (through.go), the
	// rest of a chunk; the next write writes it first. Guarded, as the
	// fields above are on a taken-over stream, by subscriber.wmu.
	pending []byte
}

// write writes pre, the frames and post with as few writes as the batch
// size allows, then flushes, all under one write deadline.
//
// The deadline is moved to timeout from now only when it was set more than
// an eighth of timeout ago, so a busy stream does not update it on every
// write (each update is a runtime timer change); each write still gets at
// least seven eighths of timeout.
func (o *writer) write(pre []byte, frames [][]byte, post []byte) error {
	now := time.Now()
	o.last = now
	if !o.noDeadline && now.Sub(o.deadline) >= o.timeout/8 {
		o.deadline = now
		if o.c != nil {
			o.c.SetWriteDeadline(now.Add(o.timeout))
		} else if err := o.rc.SetWriteDeadline(now.Add(o.timeout)); errors.Is(err, http.ErrNotSupported) {
			o.noDeadline = true
		}
	}
	if err := o.flushPending(); err != nil {
		return fmt.Errorf("sse: write: %w", err)
	}
	head := 0
	if o.c != nil {
		head = chunkHead // room for the chunk's size line (park.go)
	}
	bp := bufPool.Get().(*[]byte) // 4 KiB or more: room for head
	buf := append((*bp)[:head], pre...)
	var err error
	for _, f := range frames {
		if len(buf) > head && len(buf)+len(f) > maxBatch {
			if buf, err = o.send(buf, head); err != nil {
				break
			}
			buf = buf[:head]
		}
		buf = append(buf, f...)
	}
	if err == nil {
		buf = append(buf, post...)
		if len(buf) > head {
			buf, err = o.send(buf, head)
		}
	}
	if cap(buf) <= 2*maxBatch {
		*bp = buf[:0]
		bufPool.Put(bp)
	}
	if err != nil {
		return fmt.Errorf("sse: write: %w", err)
	}
	if o.c != nil {
		return nil // written straight to the connection
	}
	if err := o.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return fmt.Errorf("sse: flush: %w", err)
	}
	return nil
}
