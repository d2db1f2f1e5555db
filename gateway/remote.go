package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sparkgate/sparkgate/auth"
)

// A user's session lives on one node (ownership.go). With Config.Peers, a
// request for that user on another node does not answer 503: sessionFor
// hands the handler a remote session (remote_session.go), which carries
// each verb to the owner node by NATS request/reply (package noderpc), and
// the owner runs it on its session (remote_verbs.go). Handlers do not
// change and cannot tell.
//
// # The wire
//
// A request is a remoteRequest in JSON: the user, the verb (the method's
// name), the token that made the request (the owner records it, as a
// local request would: it keeps the session alive) and the arguments as a
// JSON array. The answer is a remoteReply: the results as a JSON array,
// or the error, which names the sentinels it matched on the owner so that
// errors.Is matches the same ones here (remote_errors.go): a 404, 409,
// 502 or 504 comes out the same on either node.
//
// # Deadlines and failures
//
// The request's context travels: its time left bounds the verb on the
// owner. No answer before it → 504. The owner cannot be reached (its
// process is gone, NATS says no responders; it is busy) or no longer holds
// the session → the seam is asked again once (the lease may have expired:
// this node then takes the user over and runs the verb itself); still
// elsewhere → 503 with Retry-After.

// Peers carries requests to other gateway nodes (noderpc.Peers, matched by
// shape; wired in cmd/sparkgate).
type Peers interface {
	// Call sends req to node and returns its answer. An error wrapping
	// ErrNodeUnreachable: no such node, or it is busy (the request was
	// not served); one wrapping ErrNodeLost: the node went away while it
	// held the request (it may have served it or not); one wrapping
	// context.DeadlineExceeded: no answer in time.
	Call(ctx context.Context, node string, req []byte) ([]byte, error)
	// Serve answers the requests to this node with h until stop.
	Serve(h func(ctx context.Context, req []byte) []byte) (stop func(), err error)
}

// ErrNodeUnreachable is wrapped by Peers.Call's error when the node could
// not be reached.
var ErrNodeUnreachable = errors.New("gateway: the node holding the session cannot be reached")

// ErrNodeLost is wrapped by Peers.Call's error when the node went away
// (its process died, or it lost NATS) while it held the request: the
// caller learns it within about a second (noderpc's probes) instead of
// waiting for its deadline.
var ErrNodeLost = errors.New("gateway: the node holding the session went away while it handled the request")

// errNotHere is the owner's answer for a user whose session it does not
// hold (any more).
var errNotHere = errors.New("gateway: the user's session is not on this node")

// errNotRemote is a verb's answer when it cannot be carried to another
// node.
var errNotRemote = errors.New("gateway: this request cannot reach a session on another node")

// remoteRequest is what a node sends the owner.
type remoteRequest struct {
	User     string          `json:"user"`
	Verb     string          `json:"verb"`
	TokenID  string          `json:"tokenId,omitempty"`
	TokenExp time.Time       `json:"tokenExp,omitzero"`
	Args     json.RawMessage `json:"args"` // a JSON array
}

// remoteReply is the owner's answer.
type remoteReply struct {
	Results json.RawMessage `json:"results,omitempty"` // a JSON array
	Err     *wireError      `json:"err,omitempty"`
}

// ownerNode returns the node err says owns the user (lease.HeldError's,
// through the wrapped errors), or "" when err does not say.
func ownerNode(err error) string {
	var h interface{ OwnerNode() string }
	if !errors.Is(err, ErrOwnedElsewhere) || !errors.As(err, &h) {
		return ""
	}
	if n := h.OwnerNode(); n != "(none)" { // released meanwhile
		return n
	}
	return ""
}

// remoteFor is sessionFor's answer when openSession failed with err: a
// remote session when another node owns the user and Peers can reach it,
// else err.
func (s *Server) remoteFor(ctx context.Context, cl auth.Claims, err error) (Session, error) {
	if s.cfg.Peers == nil {
		return nil, err
	}
	node := ownerNode(err)
	if node == "" {
		return nil, err
	}
	s.knownOwners.put(cl.Subject, node) // remote_owners.go
	return &remoteSession{s: s, ctx: ctx, cl: cl, node: node}, nil
}

// startPeers serves this node's sessions to the other nodes.
func (s *Server) startPeers() error {
	if s.cfg.Peers == nil {
		return nil
	}
	// Two touch periods, and a little for a touch that is late.
	s.tabs = newRemoteTabs(2*holdEvery(s.cfg.Sessions.IdleTimeout, s.cfg.Sessions.AwayAfter) + 5*time.Second)
	stop, err := s.cfg.Peers.Serve(s.serveRemote)
	if err != nil {
		return fmt.Errorf("gateway: serve other nodes: %w", err)
	}
	s.stopPeers = stop
	return nil
}

// verbEndLogin asks the owner to forget a login's token (endLogin), and
// to close the session when it was the last.
const verbEndLogin = "EndLogin"

// holder is what an Ownership may also tell: which node owns user ("":
// none), without taking the user (lease.Owner does).
type holder interface {
	Holder(ctx context.Context, user string) (string, error)
}

// endLoginTimeout bounds the call that carries a logout to the owner.
const endLoginTimeout = 5 * time.Second

// endRemoteLogin carries endLogin to the node that owns user, if another
// node does: the token leaves the owner's session bookkeeping, and the
// session closes when it was the last login. Failures are logged: the
// token is revoked anyway, and the session closes with its expiry.
func (s *Server) endRemoteLogin(ctx context.Context, user, key, reason string) {
	h, ok := s.cfg.Ownership.(holder)
	if s.cfg.Peers == nil || !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), endLoginTimeout)
	defer cancel()
	node, err := h.Holder(ctx, user)
	if err != nil || node == "" {
		if err != nil {
			s.log.Warn("logout: the session's owner is unknown", "user", user, "err", err)
		}
		return
	}
	args, _ := json.Marshal([]string{key, reason})
	req, _ := json.Marshal(remoteRequest{User: user, Verb: verbEndLogin, Args: args})
	ans, err := s.cfg.Peers.Call(ctx, node, req)
	if err == nil {
		err = decodeReply(ans, nil)
	}
	if err != nil && !errors.Is(err, errNotHere) {
		s.log.Warn("logout: the session's owner did not hear of it", "user", user, "node", node, "err", err)
	}
}

// remoteStatus is the response to a failed call to the owner node.
func remoteStatus(err error) error {
	switch {
	case errors.Is(err, ErrNodeUnreachable), errors.Is(err, errNotHere):
		e := wrap(http.StatusServiceUnavailable, "the gateway node holding the user's session cannot be reached; try again shortly", err)
		e.RetryAfter = ownedRetryAfter
		return e
	case errors.Is(err, ErrNodeLost):
		// Not run again here: the verb may have been done there.
		e := wrap(http.StatusServiceUnavailable, "the gateway node holding the user's session went away while it handled the request, which may or may not have been done; the session moves to a live node shortly", err)
		e.RetryAfter = ownedRetryAfter
		return e
	case errors.Is(err, errNotRemote):
		return ownedElsewhere(err)
	}
	return err
}
