package xmppconn

import (
	"context"
	"slices"
	"strings"
	"time"

	"gosrc.io/xmpp/stanza"

	"github.com/sparkgate/sparkgate/chatapi"
)

// noteRoomExit forgets a joined room the user was made to leave: the
// room's unavailable presence for the user's own occupant (status 110)
// means a kick, a ban, a removal from a members-only room or the room's
// destruction (XEP-0045 sections 8.2, 9.1, 9.4, 10.9); one that names the
// room destroyed counts without status 110, which ejabberd 23.01 leaves
// out of it. The session must not rejoin it after a reconnect (a join
// would create the destroyed room again), and Config.OnRoomExit is told
// so the gateway forgets it too.
//
// An ending session's exits are its own: its goodbye (closeConn) makes
// every room answer with the user's unavailable presence, status 110,
// which may still be read before the stream closes. Taken as a removal,
// it forgot the rooms of every user who logged out or whose gateway
// restarted, whenever the answers beat the close.
func (s *Session) noteRoomExit(st *Stanza) {
	if st.Type != "unavailable" || hasStatus(st, "303") { // 303: a nick change
		return
	}
	if s.ctx.Err() != nil {
		return
	}
	if !isSelfPresence(st) && !roomDestroyed(st) {
		return
	}
	bare, nick, ok := strings.Cut(st.From, "/")
	if !ok {
		return
	}
	s.mu.Lock()
	r, in := s.rooms[bare]
	if in && r.nick == nick {
		delete(s.rooms, bare)
		delete(s.presences, bare)
	}
	s.mu.Unlock()
	if in && r.nick == nick && s.m.cfg.OnRoomExit != nil {
		s.m.cfg.OnRoomExit(s.user, bare)
	}
}

// roomDestroyed reports whether a presence carries muc#user's <destroy/>
// (XEP-0045 section 10.9).
func roomDestroyed(st *Stanza) bool {
	if st.Presence == nil {
		return false
	}
	for _, ext := range st.Presence.Extensions {
		if n, ok := ext.(*stanza.Node); ok && n.XMLName.Space == nsMUCUser &&
			slices.ContainsFunc(n.Nodes, func(c stanza.Node) bool { return c.XMLName.Local == "destroy" }) {
			return true
		}
	}
	return false
}

// hasSubject reports whether a groupchat message sets the room's subject
// (XEP-0045 section 8.1: a subject and no body; an empty subject clears
// it).
func hasSubject(st *Stanza) bool {
	return st.Message != nil && st.Message.Body == "" && strings.Contains(string(st.Raw), "<subject")
}

// RoomSubject returns the subject of a joined room as the room last
// announced it; ok is false when the user is not in the room.
func (s *Session) RoomSubject(roomJID string) (subject string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.rooms[roomJID]
	if !ok {
		return "", false
	}
	return r.subject, true
}

// SavedRoom is a room a session was in, as ManagerConfig.Rooms gives it
// back and ManagerConfig.OnRoomsSaved hands it over.
type SavedRoom struct {
	Room, Nick, Password string
	// LastID is the room archive's id of the last message the session
	// delivered; the catch-up reads the archive after it, so nothing is
	// delivered twice. LastSeen, used when LastID is empty, is when the
	// session last heard from the room.
	LastID   string
	LastSeen time.Time
}

// restoreRooms puts the rooms the user was in into a new session, before
// it goes online: online enters them (asking for no history when the
// archive position is known) and run's first catch-up reads each room's
// archive after LastID.
func (s *Session) restoreRooms(ctx context.Context) {
	if s.m.cfg.Rooms == nil {
		return
	}
	saved := s.m.cfg.Rooms(ctx, s.user)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range saved {
		if r.Room == "" || r.Nick == "" {
			continue
		}
		s.rooms[r.Room] = &room{nick: r.Nick, password: r.Password, lastID: r.LastID, lastSeen: r.LastSeen}
	}
}

// saveRooms hands the rooms the session is in to ManagerConfig.OnRoomsSaved.
func (s *Session) saveRooms() {
	if s.m.cfg.OnRoomsSaved == nil {
		return
	}
	s.mu.Lock()
	out := make([]SavedRoom, 0, len(s.rooms))
	for j, r := range s.rooms {
		out = append(out, SavedRoom{Room: j, Nick: r.nick, Password: r.password, LastID: r.lastID, LastSeen: r.lastSeen})
	}
	s.mu.Unlock()
	s.m.cfg.OnRoomsSaved(s.user, out)
}

// roomRead hands the session's position in a joined room to
// ManagerConfig.OnRoomRead after it moved.
func (s *Session) roomRead(roomJID string) {
	if s.m.cfg.OnRoomRead == nil {
		return
	}
	s.mu.Lock()
	r, ok := s.rooms[roomJID]
	var saved SavedRoom
	if ok {
		saved = SavedRoom{Room: roomJID, Nick: r.nick, Password: r.password, LastID: r.lastID, LastSeen: r.lastSeen}
	}
	s.mu.Unlock()
	if ok {
		s.m.cfg.OnRoomRead(s.user, saved)
	}
}

func (s *Session) setJoining(roomJID string, on bool) {
	s.mu.Lock()
	if on {
		s.joining[roomJID] = true
	} else {
		delete(s.joining, roomJID)
	}
	s.mu.Unlock()
}

// heldForSnapshot handles the presences a room sends while the session
// enters it (XEP-0045 section 7.2.3: every occupant's, then the user's
// own with status 110). Those of other occupants are only noted (the
// caller has already), neither translated nor sent raw; the user's own
// first delivers one chatapi.muc occupants event with them all, then
// goes on as usual. It reports whether st is held back.
func (s *Session) heldForSnapshot(st *Stanza) bool {
	bare, _, ok := strings.Cut(st.From, "/")
	if !ok {
		return false
	}
	s.mu.Lock()
	joining := s.joining[bare]
	s.mu.Unlock()
	if !joining || (st.Type != "" && st.Type != "unavailable") {
		return false
	}
	if !isSelfPresence(st) {
		return st.Type == ""
	}
	s.mu.Lock()
	delete(s.joining, bare)
	occ := make([]chatapi.Presence, 0, len(s.presences[bare]))
	for _, p := range s.presences[bare] {
		if strings.Contains(p.From, "/") { // not the room's own presence
			occ = append(occ, p)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(occ, func(a, b chatapi.Presence) int { return strings.Compare(a.From, b.From) })
	s.deliver(chatapi.Occupants{Type: chatapi.TypeOccupants, To: s.user, Room: bare, Occupants: occ})
	return false
}
