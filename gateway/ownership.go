package gateway

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// Several gateway nodes may serve the same users (issue 18): each user's
// XMPP session then lives on one node at a time, its owner. The
// Ownership decides who that is (package lease's lease per user in NATS,
// wired in cmd/sparkgate); the gateway asks it before opening a session and
// closes the session when the ownership is lost.
//
// A request that needs a session owned by another node reaches it there
// through a remote Session (remote.go); it is answered 503 with
// Retry-After only while that node cannot be reached.

// ErrOwnedElsewhere is what an Ownership's Own returns (wrapped) when
// another node owns the user.
var ErrOwnedElsewhere = errors.New("gateway: the user's session is on another node")

// Ownership decides which node holds a user's XMPP session.
type Ownership interface {
	// Own makes this node user's owner, or fails with an error wrapping
	// ErrOwnedElsewhere when another node is (any other error: it could
	// not tell). lost is called at most once, from any goroutine, when the
	// ownership is lost later; release gives it up (it is called once, and
	// lost is not called after it).
	Own(ctx context.Context, user string, lost func()) (release func(), err error)
}

// ownedRetryAfter is the Retry-After of a 503 for a user owned elsewhere:
// about when the owner's lease would expire if the owner died.
const ownedRetryAfter = 5 * time.Second

// disownTimeout bounds the release of a user's ownership when the
// session ends.
const disownTimeout = 2 * time.Second

// owners are the users this node owns, one entry per user while it is
// being taken and while it is held.
type owners struct {
	mu   sync.Mutex
	held map[string]*owned
}

type owned struct {
	ready   chan struct{} // closed once Own answered
	err     error         // Own's error; the entry is then gone from held
	release func()
	lost    bool          // the ownership was lost (or fenced), or giveUp is releasing it: no more appends; under owners.mu
	leaving bool          // giveUp has it: no other caller releases it; under owners.mu
	gone    chan struct{} // closed when the entry leaves held (dropLocked)
}

// giveUp releases e, user's held entry, and then removes it from held,
// unless another caller is doing so. In that order because a request
// waiting for the entry to go (own) then takes the user afresh: removed
// before the release, that request's Own found the lease still held under
// this node's old token and answered 503 (TestIntegrationLeaseLoss, once
// in a make test). The entry counts as lost meanwhile, so nothing more
// of the user's is appended and waiters wait for it to go.
func (s *Server) giveUp(user string, e *owned) {
	s.owners.mu.Lock()
	if s.owners.held[user] != e || e.leaving {
		s.owners.mu.Unlock()
		return
	}
	e.leaving, e.lost = true, true
	s.owners.mu.Unlock()
	if e.err == nil {
		e.release()
	}
	s.owners.mu.Lock()
	s.dropLocked(user, e)
	s.owners.mu.Unlock()
}

// dropLocked removes e, user's entry, from held. s.owners.mu is held.
func (s *Server) dropLocked(user string, e *owned) {
	delete(s.owners.held, user)
	close(e.gone)
}

// own makes this node user's owner if it is not, with s.cfg.Ownership.
// Concurrent calls for one user share one Own.
func (s *Server) own(ctx context.Context, user string) error {
	o := s.cfg.Ownership
	if o == nil {
		return nil
	}
	for {
		s.owners.mu.Lock()
		e, ok := s.owners.held[user]
		lost := ok && e.lost
		s.owners.mu.Unlock()
		if !ok {
			break
		}
		wait := e.ready
		if lost { // its session is ending: take the user afresh after
			wait = e.gone
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return ctx.Err()
		}
		if !lost {
			s.owners.mu.Lock()
			lost = e.lost
			s.owners.mu.Unlock()
			if !lost {
				return e.err
			}
		}
	}
	s.owners.mu.Lock()
	if _, ok := s.owners.held[user]; ok { // another caller took it meanwhile
		s.owners.mu.Unlock()
		return s.own(ctx, user)
	}
	e := &owned{ready: make(chan struct{}), gone: make(chan struct{})}
	s.owners.held[user] = e
	s.owners.mu.Unlock()

	release, err := o.Own(ctx, user, func() { s.ownershipLost(user, e) })
	s.owners.mu.Lock()
	e.err, e.release = err, release
	if err != nil {
		s.dropLocked(user, e)
	}
	s.owners.mu.Unlock()
	close(e.ready)
	return err
}

// ownsUser reports whether this node acts for user: it holds the user's
// ownership, not lost. Only then does it append the user's events to the
// EventLog or hand the user's session to a request: once the ownership is
// lost, the session is ending (ownershipLost), and neither its last
// events nor a request that came meanwhile may act for the user (the
// events of the end would otherwise take the log back from the new
// owner). Without an Ownership every node acts for every user.
func (s *Server) ownsUser(user string) bool {
	if s.cfg.Ownership == nil {
		return true
	}
	s.owners.mu.Lock()
	defer s.owners.mu.Unlock()
	e, ok := s.owners.held[user]
	if !ok {
		return false
	}
	select {
	case <-e.ready:
		return e.err == nil && !e.lost
	default:
		return false // being taken: its session has not opened yet
	}
}

// endingSession waits until sess, the session of a user this node no
// longer owns, has ended (ownershipLost ends it), so that the caller opens
// the user's session afresh, owning the user first.
//
// A session with no ownership entry at all is an orphan: the end of the
// user's previous session gave up the ownership (sessionEnded's disown)
// after this one had taken it. Nothing of it was appended, and nothing
// would end it: it is ended here, so that the user is owned afresh.
func (s *Server) endingSession(ctx context.Context, sess *xmppconn.Session) error {
	user := sess.User()
	s.owners.mu.Lock()
	_, held := s.owners.held[user]
	s.owners.mu.Unlock()
	if !held {
		s.log.Warn("session without its ownership ended", "user", user)
		s.sessions.End(context.WithoutCancel(ctx), user, chatapi.CloseShutdown)
	}
	select {
	case <-sess.Done():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// disown gives up user's ownership, if this node has it.
func (s *Server) disown(user string) {
	if s.cfg.Ownership == nil {
		return
	}
	s.owners.mu.Lock()
	e, ok := s.owners.held[user]
	if ok {
		select {
		case <-e.ready:
		default:
			ok = false // being taken: its taker decides
		}
	}
	s.owners.mu.Unlock()
	if ok {
		s.giveUp(user, e)
	}
}

// ownershipLost ends user's session here: another node may own the user
// now (or soon). The streams end with CloseShutdown and resume true, so
// that clients resume, on whichever node. sessionEnded then disowns the user; when no
// session was open, the entry is dropped here.
func (s *Server) ownershipLost(user string, e *owned) {
	s.log.Warn("session ownership lost", "user", user)
	s.owners.mu.Lock()
	e.lost = true // from now on, nothing of user's is appended here
	s.owners.mu.Unlock()
	s.bg.run(func(ctx context.Context) {
		<-e.ready
		mine := func() bool {
			s.owners.mu.Lock()
			defer s.owners.mu.Unlock()
			return s.owners.held[user] == e
		}
		if !mine() { // given up already: the session is not this ownership's
			return
		}
		// The streams resume elsewhere: the events are in the shared
		// log. Ended first, their close event says so.
		s.hub.MoveUser(user, chatapi.CloseShutdown)
		s.sessions.End(ctx, user, chatapi.CloseShutdown)
		s.giveUp(user, e) // when no session was open to disown it
	})
}

// fencedOut is told when the EventLog refused an append of user's
// because another node appended since: that node acts as the user's
// owner, so this one must stop at once, whatever its lease says. The
// session here ends as on a lost ownership (its streams resume, on
// whichever node owns the user), and the ownership is given up; the
// refused event is not lost, since the next session catches up on the
// archive after the last event the log holds.
func (s *Server) fencedOut(user string) {
	s.owners.mu.Lock()
	e := s.owners.held[user]
	s.owners.mu.Unlock()
	if e != nil {
		s.ownershipLost(user, e)
		return
	}
	s.log.Warn("event log fenced: another node delivers for the user", "user", user)
	s.bg.run(func(ctx context.Context) {
		s.hub.MoveUser(user, chatapi.CloseShutdown)
		s.sessions.End(ctx, user, chatapi.CloseShutdown)
	})
}

// ownedElsewhere is the answer to a request for a user another node owns.
func ownedElsewhere(err error) *Error {
	e := wrap(http.StatusServiceUnavailable, "the user's session is on another gateway node; try again shortly", err)
	e.RetryAfter = ownedRetryAfter
	return e
}

// notOwned is openSession's answer when this node could not own the
// user: a password is checked first, so that a 503 tells only its owner
// that the session is elsewhere.
func (s *Server) notOwned(ctx context.Context, local string, cred xmppconn.Credentials, err error) error {
	if cred.Password != "" {
		if verr := s.sessions.Verify(ctx, local, cred.Password); verr != nil {
			return verr
		}
	}
	if errors.Is(err, ErrOwnedElsewhere) {
		return ownedElsewhere(err)
	}
	if ctx.Err() != nil {
		return err
	}
	return wrap(http.StatusServiceUnavailable, "the gateway nodes' session owners cannot be reached", err)
}
