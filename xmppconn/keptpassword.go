package xmppconn

// A session keeps the user's password only when the manager is told the
// server issues no login tokens (ManagerConfig.KeepPassword): then it is
// the one way to reconnect after a dropped connection. It lives in the
// Session alone (never logged, never stored, gone with the session), and
// the latest password the server accepted for the user replaces it, so a
// password changed and used to sign in again is the one reconnects use.

// keepPassword keeps password for reconnects when the manager says to.
func (s *Session) keepPassword(password string) {
	if !s.m.cfg.KeepPassword || password == "" {
		return
	}
	s.mu.Lock()
	s.password = password
	s.mu.Unlock()
}

// keptPassword returns the kept password, or "" to reconnect with a token.
func (s *Session) keptPassword() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.password
}
