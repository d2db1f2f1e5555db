package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// A user's event streams may be open on every node of a cluster, not only
// on the node that owns the user's session (a stream follows the session
// through the EventLog). What ends streams — a logout, a logout
// everywhere, a refresh token's reuse, a password change, an account
// removed — ends them on the node the request reached and is then
// broadcast to the other nodes (Peers that also broadcast: noderpc), each
// of which ends its own streams of the tokens, or of the user, the same
// way; the node owning the session closes it when asked to. A node cut
// off from NATS misses the broadcast; its streams then end with their
// tokens' expiry, or when NATS comes back and the leases are lost.

// broadcaster is what Peers may also do: tell every other node at once
// (noderpc.Peers).
type broadcaster interface {
	Broadcast(ctx context.Context, msg []byte) error
	Listen(h func(msg []byte)) (stop func(), err error)
}

// streamsEnd is a broadcast: end user's streams opened with one of Keys
// (a token id or familyKey), or all of them (All), with Reason; with
// EndSession, the node holding the user's XMPP session closes it too.
type streamsEnd struct {
	User       string   `json:"user"`
	Keys       []string `json:"keys,omitempty"`
	All        bool     `json:"all,omitempty"`
	EndSession bool     `json:"endSession,omitempty"`
	Reason     string   `json:"reason"`
}

// broadcastTimeout bounds the broadcast of a streamsEnd.
const broadcastTimeout = 2 * time.Second

// endSessionTimeout bounds the end of a session another node asked for.
const endSessionTimeout = 10 * time.Second

// endElsewhere tells the other nodes to do what e says (they do it as
// endStreamsHere). Failures are logged: the tokens are revoked anyway.
func (s *Server) endElsewhere(ctx context.Context, e streamsEnd) {
	b, ok := s.cfg.Peers.(broadcaster)
	if !ok {
		return
	}
	msg, err := json.Marshal(e)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), broadcastTimeout)
	defer cancel()
	if err := b.Broadcast(ctx, msg); err != nil {
		s.log.Warn("the other nodes did not hear that the user's streams end", "user", e.User, "reason", e.Reason, "err", err)
	}
}

// endStreamsHere does what another node's streamsEnd asks on this node.
func (s *Server) endStreamsHere(msg []byte) {
	var e streamsEnd
	if err := json.Unmarshal(msg, &e); err != nil || e.User == "" || e.Reason == "" {
		s.log.Warn("a node's broadcast not understood", "err", err)
		return
	}
	for _, k := range e.Keys {
		s.streams.end(k, e.Reason)
	}
	if e.All {
		s.hub.EndUser(e.User, e.Reason)
	}
	if e.EndSession {
		if _, ok := s.sessions.Get(e.User); ok {
			s.bg.run(func(ctx context.Context) { // not on NATS's goroutine
				ctx, cancel := context.WithTimeout(ctx, endSessionTimeout)
				defer cancel()
				s.sessions.End(ctx, e.User, e.Reason)
			})
		}
	}
}

// listenNodes makes this node hear the other nodes' broadcasts, when its
// Peers broadcast.
func (s *Server) listenNodes() error {
	b, ok := s.cfg.Peers.(broadcaster)
	if !ok {
		return nil
	}
	stop, err := b.Listen(s.endStreamsHere)
	if err != nil {
		return fmt.Errorf("gateway: listen to other nodes: %w", err)
	}
	s.stopListen = stop
	return nil
}
