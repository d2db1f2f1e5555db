package gateway

// SessionRooms returns the rooms of user's session on this node, nil when
// the session is not here: the remote session's tests check that a verb
// ran on the owner.
func (s *Server) SessionRooms(user string) map[string]string {
	sess, ok := s.sessions.Get(user)
	if !ok {
		return nil
	}
	return sess.Rooms()
}
