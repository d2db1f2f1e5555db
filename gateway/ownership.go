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
// A request that needs a session owned by another node is answered 503
// with Retry-After for now; reaching the owner's session over NATS (a
// remote Session) is the next step.

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
}

// own makes this node user's owner if it is not, with s.cfg.Ownership.
// Concurrent calls for one user share one Own.
func (s *Server) own(ctx context.Context, user string) error {
	o := s.cfg.Ownership
	if o == nil {
		return nil
	}
	s.owners.mu.Lock()
	if e, ok := s.owners.held[user]; ok {
		s.owners.mu.Unlock()
		select {
		case <-e.ready:
			return e.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	e := &owned{ready: make(chan struct{})}
	s.owners.held[user] = e
	s.owners.mu.Unlock()

	release, err := o.Own(ctx, user, func() { s.ownershipLost(user, e) })
	s.owners.mu.Lock()
	e.err, e.release = err, release
	if err != nil {
		delete(s.owners.held, user)
	}
	s.owners.mu.Unlock()
	close(e.ready)
	return err
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
			delete(s.owners.held, user)
		default:
			ok = false // being taken: its taker decides
		}
	}
	s.owners.mu.Unlock()
	if ok && e.err == nil {
		e.release()
	}
}

// ownershipLost ends user's session here: another node may own the user
// now (or soon). The streams end with CloseShutdown and resume true, so
// that clients resume, on whichever node. sessionEnded then disowns the user; when no
// session was open, the entry is dropped here.
func (s *Server) ownershipLost(user string, e *owned) {
	s.log.Warn("session ownership lost", "user", user)
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
		s.owners.mu.Lock()
		gone := s.owners.held[user] == e
		if gone {
			delete(s.owners.held, user)
		}
		s.owners.mu.Unlock()
		if gone && e.err == nil {
			e.release()
		}
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
