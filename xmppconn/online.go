package xmppconn

import "slices"

// Users returns the bare JIDs of the users with an open session, sorted
// (an operator's view of who is online through this Manager); a session
// that is ending counts as none, as in Get.
func (m *Manager) Users() []string {
	m.mu.Lock()
	users := make([]string, 0, len(m.sessions))
	for u, s := range m.sessions {
		if s.ctx.Err() == nil {
			users = append(users, u)
		}
	}
	m.mu.Unlock()
	slices.Sort(users)
	return users
}

// FullJID returns the session's full JID on the XMPP server, or "" while
// it has no connection (reconnecting).
func (s *Session) FullJID() string {
	if c := s.current(); c != nil {
		return c.JID()
	}
	return ""
}
