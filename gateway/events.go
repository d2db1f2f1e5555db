package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/sse"
)

// deliver is the one place that knows both sides: it encodes an event
// once and hands the bytes to the user's event log and streams. It is
// called from a session's goroutine and never blocks.
func (s *Server) deliver(user string, p chatapi.Payload) {
	data, ok := s.prepare(user, p)
	if !ok {
		return
	}
	if s.publish(user, p.EventName(), data) == 0 && !s.tabs.open(user, time.Now()) {
		s.pushOffline(user, p) // no open stream: maybe a push (push_notify.go)
	} else {
		s.pushIfUnread(user, p) // open streams: maybe a push if left unread (unreadpush.go)
	}
}

// prepare is what every event goes through before it is published: the
// user's read state and contact requests learn of it, and it is encoded
// (false: it cannot be).
func (s *Server) prepare(user string, p chatapi.Payload) ([]byte, bool) {
	s.countUnread(user, p)   // unread.go
	s.trackRequests(user, p) // contactrequests.go
	switch p.(type) {
	case chatapi.Roster, *chatapi.Roster:
		s.rosters.forget(user) // strangers_roster.go
	}
	data, err := chatapi.Marshal(p) // json.Marshal's bytes, faster for the common events
	if err != nil {
		s.log.Error("encode event", "event", p.EventName(), "user", user, "err", err)
		return nil, false
	}
	return data, true
}

// EventLog is a log of the users' events kept outside the process: this
// node appends the events of the users whose sessions it holds, and
// follows the users it has streams for (package natslog implements it).
type EventLog interface {
	// Append stores an event and returns its seq in the user's log; an
	// error means the event is not stored: one wrapping ErrOwnedElsewhere
	// when another node appended to the user's log since this one did
	// (it owns the user now), another when the log cannot be reached. mark is the archive position of the
	// user's session as the event is delivered ("" keeps the last one),
	// stored with the event.
	Append(ctx context.Context, user, name string, data []byte, mark string) (uint64, error)
	// Mark returns the mark of the user's newest stored event: where the
	// session that delivered the events in the log had got to in the
	// user's archive ("" when unknown).
	Mark(ctx context.Context, user string) (string, error)
	// Follow calls fn for each event appended to user's log from now on,
	// until stop is called.
	Follow(user string, fn func(seq uint64, name string, data []byte)) (stop func(), err error)
}

// appendTimeout bounds the append of one event to the EventLog, which
// holds up the session's next event.
const appendTimeout = 2 * time.Second

// publish gives an event to the hub, through the EventLog when there is
// one, and returns how many local streams will write it.
func (s *Server) publish(user, name string, data []byte) int {
	if s.cfg.EventLog == nil {
		return s.hub.Publish(user, name, data)
	}
	defer s.appends.lock(user)()
	if !s.ownsUser(user) { // ownership.go
		s.log.Debug("event not appended: the user is not owned here", "event", name, "user", user)
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), appendTimeout)
	defer cancel()
	mark := s.sessions.ArchivePosition(user) // an ending session's too
	seq, err := s.cfg.EventLog.Append(ctx, user, name, data, mark)
	if errors.Is(err, ErrOwnedElsewhere) {
		s.fencedOut(user) // ownership.go
		return 0
	}
	if err != nil {
		s.log.Error("append event", "event", name, "user", user, "err", err)
		return 0
	}
	return s.hub.PublishSeq(user, name, data, seq)
}

// markTimeout bounds the read of a user's archive position from the
// EventLog when the user's session opens.
const markTimeout = 2 * time.Second

// archiveAfter is xmppconn's ArchiveAfter when the events are kept in an
// EventLog: the user's new session — after a restart, or on the node that
// took the user over — catches up on the archive exactly after the last
// message whose events the log holds, so none is delivered again and
// none missed. With no position (a new user, a log aged out, NATS down)
// the session catches up by time, as a single process does.
func (s *Server) archiveAfter(ctx context.Context, user string) string {
	ctx, cancel := context.WithTimeout(ctx, markTimeout)
	defer cancel()
	mark, err := s.cfg.EventLog.Mark(ctx, user)
	if err != nil {
		s.log.Warn("archive position not read: catching up by time", "user", user, "err", err)
	}
	s.log.Debug("archive position from the event log", "user", user, "position", mark)
	return mark
}

// sessionEnded is told when a user's XMPP session ends for good: the
// user's streams end with the reason, the event log is dropped, and
// another node may own the user from now on.
func (s *Server) sessionEnded(user, reason string) {
	s.hub.EndUser(user, reason)
	s.hub.Forget(user)
	s.disown(user)
}

// StreamEvents serves GET /sse: the user's chatapi.* events as
// Server-Sent Events. The token comes from the Authorization header or
// ?token=; the stream ends when the token expires or is revoked.
//
// An HTTP/1.1 stream outlives this handler (sse.Hub.ServeStreamDetached):
// once the hub has taken its connection over, the handler returns, and
// what ends with the stream (the stream's slot in the limits, the
// session's grace, the token's registration, the event log's follow)
// is undone by the hub's goroutine when the stream ends. So an idle
// stream waits on a shallow stack of its own, not under echo's
// middleware and net/http's connection loop, whose buffers it leaves to
// the garbage collector.
func (s *Server) StreamEvents(c echo.Context, params StreamEventsParams) error {
	cl := claimsOf(c)
	var end undoList // what ends with the stream, run in reverse
	defer func() { end.run() }()
	// Stream limits (limits.go): counted before any session work.
	release, err := s.openStream(c, cl.Subject)
	if err != nil {
		return err
	}
	end.add(release)
	sess, err := s.sessionFor(c.Request().Context(), cl)
	if err != nil {
		return err
	}
	// The session's grace (ManagerConfig.IdleTimeout) counts from the end
	// of the user's last stream.
	end.add(sess.Touch)
	// The stream's own context: the request's ends when this handler
	// returns, which a detached stream outlives.
	ctx, cancel := context.WithCancelCause(context.WithoutCancel(c.Request().Context()))
	end.add(func() { cancel(nil) })
	if rs, ok := sess.(*remoteSession); ok { // the owner does not see this stream
		// Made for this request, it outlives it with the stream: its
		// calls (hold's touches) run under the stream's context.
		rs.ctx = ctx
		end.add(rs.hold())
		end.add(s.watchOwner(ctx, rs)) // ownerwatch.go
	}
	// The stream ends, with a last event saying why, when its token is
	// revoked (logout) or expires.
	ctx, stop := context.WithDeadlineCause(ctx, cl.ExpiresAt, &sse.End{Reason: chatapi.CloseExpired})
	end.add(func() { stop() })
	end.add(s.streams.add(cl.ID, cancel))
	if cl.Family != "" { // a logout or a reuse revokes the whole family
		end.add(s.streams.add(familyKey(cl.Family), cancel))
	}

	hello, err := s.hello(ctx, sess, cl.Subject, sse.LastEventID(c.Request()) != "") // hello.go
	if err != nil {
		return err
	}
	if s.cfg.EventLog != nil {
		// Events appended on other nodes; subscribed before the replay,
		// the hub drops what both give.
		stop, err := s.cfg.EventLog.Follow(cl.Subject, func(seq uint64, name string, data []byte) {
			s.hub.PublishSeq(cl.Subject, name, data, seq)
		})
		if err != nil {
			return wrap(http.StatusServiceUnavailable, "the event log cannot be reached", err)
		}
		end.add(stop)
	}
	// chatapi.xmpp only for streams that ask for it (?raw=true), and made
	// only for users who have such a stream (xmppconn/rawwanted.go).
	raw := params.Raw != nil && *params.Raw
	var omit []string
	if !raw {
		omit = []string{chatapi.EventXMPP}
	}
	sess.WantRaw(raw)
	// From here the hub runs end, whether it returns first or not.
	ended := end.take()
	err = s.hub.ServeStreamDetached(ctx, c.Response(), c.Request(), cl.Subject, sse.Event{Name: chatapi.EventConnect, Data: hello}, func(error) { ended.runDetached(s.log) }, omit...)
	if err == nil {
		return nil
	}
	ended.run() // the stream never started
	if err == sse.ErrClosed {
		return errorf(http.StatusServiceUnavailable, "the gateway is shutting down")
	}
	if errors.Is(err, sse.ErrUnavailable) {
		return wrap(http.StatusServiceUnavailable, "the event log cannot be reached", err)
	}
	return err
}

// undoList collects what must be undone when something ends, as a
// function's defers do, for a stream whose end may come after its
// handler has returned.
type undoList []func()

func (u *undoList) add(f func()) { *u = append(*u, f) }

// take returns the list and leaves u empty: its new owner runs it.
func (u *undoList) take() undoList {
	l := *u
	*u = nil
	return l
}

// run calls the functions in reverse order of their adding.
func (u undoList) run() {
	for i := len(u) - 1; i >= 0; i-- {
		u[i]()
	}
}

// runDetached runs the list as run does, on a stream's own goroutine,
// where no middleware recovers a panic: a step that panics is logged with
// its stack, the steps after it still run (each releases something of its
// own), and the process goes on.
func (u undoList) runDetached(log *slog.Logger) {
	for i := len(u) - 1; i >= 0; i-- {
		func() {
			defer func() {
				if v := recover(); v != nil {
					log.Error("panic as a stream ended", "err", v, "stack", string(debug.Stack()))
				}
			}()
			u[i]()
		}()
	}
}

// streamRegistry lets a logout end the streams opened with the token it
// revokes.
type streamRegistry struct {
	mu   sync.Mutex
	next int
	byID map[string]map[int]context.CancelCauseFunc
}

func newStreamRegistry() *streamRegistry {
	return &streamRegistry{byID: make(map[string]map[int]context.CancelCauseFunc)}
}

func (r *streamRegistry) add(tokenID string, cancel context.CancelCauseFunc) (remove func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next++
	n := r.next
	if r.byID[tokenID] == nil {
		r.byID[tokenID] = make(map[int]context.CancelCauseFunc)
	}
	r.byID[tokenID][n] = cancel
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		delete(r.byID[tokenID], n)
		if len(r.byID[tokenID]) == 0 {
			delete(r.byID, tokenID)
		}
	}
}

// end ends every stream opened with the token, each with a last close
// event naming reason.
func (r *streamRegistry) end(tokenID, reason string) {
	r.mu.Lock()
	cancels := r.byID[tokenID]
	delete(r.byID, tokenID)
	r.mu.Unlock()
	for _, cancel := range cancels {
		cancel(&sse.End{Reason: reason})
	}
}

// claimsKey is where authenticate leaves the verified claims.
const claimsKey = "sparkgate.claims"

func claimsOf(c echo.Context) auth.Claims {
	cl, _ := c.Get(claimsKey).(auth.Claims)
	return cl
}

// tokenTTL is how long a just-issued token lives, for the session's
// bookkeeping.
func tokenTTL(cl auth.Claims) time.Duration { return time.Until(cl.ExpiresAt) }
