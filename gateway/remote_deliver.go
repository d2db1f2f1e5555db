package gateway

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/sparkgate/sparkgate/chatapi"
)

// Most events come from the user's session, on the node that owns the
// user. A few are made by whichever node served a request: a read on
// some tab (chatapi.unread, from PostDisplayed) or a declined contact
// request (chatapi.request). Only the owner appends to the user's event
// log — publish drops what a node that does not own the user gives it,
// so that the last events of a session whose ownership was lost never
// reach the log — so without more such an event made on another node
// would reach no stream at all. tell carries it to the owner, which
// appends it as one of its session's.

// verbDeliver asks the owner to append an event to the user's log.
const verbDeliver = "Deliver"

// tellTimeout bounds the call that carries an event to the owner; the
// caller (a request, or the unread tracker's goroutine) waits for it.
const tellTimeout = appendTimeout

// tell is deliver for an event this node made for user (not one of a
// session's): where another node owns the user, the event is appended
// there. With no owner anywhere the user has no stream to tell.
func (s *Server) tell(user string, p chatapi.Payload) {
	if s.cfg.EventLog == nil || s.cfg.Peers == nil || s.ownsUser(user) {
		s.deliver(user, p)
		return
	}
	data, ok := s.prepare(user, p) // events.go
	if !ok {
		return
	}
	args, _ := json.Marshal([]any{p.EventName(), json.RawMessage(data)})
	req, _ := json.Marshal(remoteRequest{User: user, Verb: verbDeliver, Args: args})
	ctx, cancel := context.WithTimeout(context.Background(), tellTimeout)
	defer cancel()
	for attempt := range 2 {
		node := s.ownerOf(ctx, user, attempt > 0)
		if node == "" {
			s.log.Debug("event not delivered: no node holds the user's session", "event", p.EventName(), "user", user)
			return
		}
		ans, err := s.cfg.Peers.Call(ctx, node, req)
		if err == nil {
			err = decodeReply(ans, nil)
		}
		if err == nil {
			return
		}
		s.knownOwners.forget(user, node)
		if !errors.Is(err, errNotHere) && !errors.Is(err, ErrNodeUnreachable) {
			s.log.Warn("event not delivered to the user's owner", "event", p.EventName(), "user", user, "node", node, "err", err)
			return
		}
	}
	s.log.Warn("event not delivered: the user's owner moved meanwhile", "event", p.EventName(), "user", user)
}

// ownerOf returns the node that owns user: the one remembered, unless
// fresh, else the lease's holder ("" for none, or when it cannot tell).
func (s *Server) ownerOf(ctx context.Context, user string, fresh bool) string {
	if !fresh {
		if node, ok := s.knownOwners.get(user); ok {
			return node
		}
	}
	h, ok := s.cfg.Ownership.(holder)
	if !ok {
		return ""
	}
	node, err := h.Holder(ctx, user)
	if err != nil {
		s.log.Warn("the user's owner is unknown", "user", user, "err", err)
		return ""
	}
	return node
}

// serveDeliver is the owner's side of tell: the event is appended to the
// user's log, as its session's are, if this node still owns the user.
func (s *Server) serveDeliver(r remoteRequest) []byte {
	var name string
	var data json.RawMessage
	if err := decodeArgs(r.Args, &name, &data); err != nil {
		return encodeReply(nil, err)
	}
	if !s.ownsUser(r.User) {
		return encodeReply(nil, errNotHere)
	}
	s.publish(r.User, name, data)
	return encodeReply(nil, nil)
}
