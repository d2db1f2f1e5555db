package gateway

import (
	"context"
	"time"
)

// An event stream on a node that does not own its user follows the
// owner's events through the EventLog; nothing of it reaches the owner.
// When the owner dies, the user's session must come back on a live node
// within the lease's time even though no request comes (the user may
// only be reading): watchOwner, run beside such a stream, asks the
// Census every ownerCheckEvery whether the owner node still lives, and
// once it does not, asks the seam for the user's session (sessionFor),
// which opens it here as soon as the dead owner's lease has expired, or
// names the node that took the user meanwhile. The session opened here
// catches up through the archive after the last event in the log, so
// the stream misses nothing.

// ownerCheckEvery is how often a stream of a user owned elsewhere checks
// that the owner lives: one read of the Census's memory, no NATS traffic.
const ownerCheckEvery = time.Second

// liveness is what a Census may also tell: whether a node publishes
// (census.Census.Live).
type liveness interface {
	Live(node string) bool
}

// watchOwner watches rs's owner for the stream whose context is ctx (see
// above) until stop is called, which waits for it. Without a Census that
// tells liveness it does nothing.
func (s *Server) watchOwner(ctx context.Context, rs *remoteSession) (stop func()) {
	live, ok := s.cfg.Census.(liveness)
	if !ok {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(ownerCheckEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if live.Live(rs.owner()) {
				continue
			}
			// The owner this node learned is gone: without forgetting it,
			// sessionFor would hand back a remote session on it again
			// (remote_owners.go) instead of asking the lease.
			s.knownOwners.forget(rs.cl.Subject, rs.owner())
			sess, err := s.sessionFor(ctx, rs.cl)
			if err != nil {
				continue // the lease has not expired yet, or NATS is away: next tick
			}
			other, remote := sess.(*remoteSession)
			if !remote {
				s.log.Info("session taken over from a node that is gone", "user", rs.cl.Subject, "node", rs.owner())
				return // here now: the stream follows it through the log as before
			}
			rs.mu.Lock()
			rs.node = other.owner()
			rs.mu.Unlock()
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
