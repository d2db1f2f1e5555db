package gateway

import (
	"context"
	"fmt"

	"github.com/sparkgate/sparkgate/xmppconn"
)

// Several gateway nodes (issue 18) hold the limits MaxSessions and
// MaxStreams together when a Census tells each node what the others hold:
// a node admits one more session or stream only while its own count plus
// the others' is under the limit. The others' counts are as fresh as the
// Census keeps them (package census: one publishing period behind).

// Census counts the XMPP sessions and event streams of the other gateway
// nodes (package census implements it on NATS).
type Census interface {
	// Track makes the census publish this node's counts, read from local
	// when it publishes. New calls it once.
	Track(local func() (sessions, streams int))
	// Others returns what the other live nodes hold.
	Others() (sessions, streams int)
}

// trackCensus hands this node's counts to the Census, if there is one,
// and makes the stream limit count the other nodes' streams.
func (s *Server) trackCensus() {
	c := s.cfg.Census
	if c == nil {
		return
	}
	c.Track(func() (int, int) { return s.sessions.Len(), s.limits.streamCount() })
	s.limits.mu.Lock()
	s.limits.others = func() int { _, n := c.Others(); return n }
	s.limits.mu.Unlock()
}

// clusterFull reports, before a new session opens, whether the sessions
// of every node together are at MaxSessions (xmppconn enforces the node's
// own bound, alone, when there is no Census).
func (s *Server) clusterFull(ctx context.Context) error {
	c, max := s.cfg.Census, s.cfg.Sessions.MaxSessions
	if c == nil || max <= 0 {
		return nil
	}
	others, _ := c.Others()
	if n := s.sessions.Len() + others; n >= max {
		return fmt.Errorf("%w: %d in the cluster", xmppconn.ErrTooManySessions, n)
	}
	return ctx.Err()
}
