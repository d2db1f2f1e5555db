package xmppconn

// RoomNick returns the user's nick in the joined room roomJID (a bare
// JID), or "" when the session has not joined it. The gateway uses it to
// tell the user's own room messages from others' (the room reflects them
// from room/nick).
func (s *Session) RoomNick(roomJID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.rooms[roomJID]; ok {
		return r.nick
	}
	return ""
}
