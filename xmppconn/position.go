package xmppconn

import (
	"context"
	"errors"
)

// A session's archive position is the id, in the user's own archive
// (XEP-0313), of the last one-to-one message it delivered. Within one
// session it is where the catch-up after a connection loss starts. Across
// sessions it is carried by the caller: Session.ArchivePosition tells it as
// the events are delivered, and ManagerConfig.ArchiveAfter gives it back to
// the next session of the user — after a gateway restart, or on another
// node that took the user over — so that session reads the archive after
// exactly that message: nothing is delivered twice, nothing is missed.

// ArchivePosition returns the id in the user's own archive of the last
// one-to-one message the session delivered, or the position it was
// opened with (ManagerConfig.ArchiveAfter) until it delivers one; "" when
// it knows none. While Deliver runs for a message's events it already
// names that message. It is safe for concurrent use.
func (s *Session) ArchivePosition() string {
	if p := s.position.Load(); p != nil {
		return *p
	}
	return ""
}

// ArchivePosition returns the archive position of user's session (see
// Session.ArchivePosition), or "" when there is none. Unlike Get it finds
// a session that is ending: a session stopped by a shutdown still
// delivers the events of what its reader had read, and each of them must
// carry the position of the message it belongs to (an event of such a
// message logged with the position before it made the next session, after
// a restart, deliver the message again).
func (m *Manager) ArchivePosition(user string) string {
	m.mu.Lock()
	s := m.sessions[user]
	m.mu.Unlock()
	if s == nil {
		return ""
	}
	return s.ArchivePosition()
}

// setArchiveID records id as the last archived message delivered. It is
// called holding runMu, which guards lastArchiveID.
func (s *Session) setArchiveID(id string) {
	s.lastArchiveID = id
	s.position.Store(&id)
}

// restorePosition starts a new session at the archive position its
// predecessor reached, when ManagerConfig.ArchiveAfter knows it.
func (s *Session) restorePosition(ctx context.Context) {
	if s.m.cfg.ArchiveAfter == nil {
		return
	}
	if id := s.m.cfg.ArchiveAfter(ctx, s.user); id != "" {
		s.setArchiveID(id)
	}
}

// unknownPosition reports whether err is the archive's answer to a query
// after an id it does not hold (removed, or from another archive): the
// catch-up then reads by time instead.
func unknownPosition(err error) bool {
	var se *StanzaError
	return errors.As(err, &se) && se.Condition == "item-not-found"
}
