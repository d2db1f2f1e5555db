package gateway

import (
	"context"
	"errors"
	"time"

	"github.com/sparkgate/sparkgate/rooms"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// Joined rooms are part of the user's state (issue 20): a join stores the
// room, a leave (or the room making the user leave: a kick, a ban, its
// destruction) removes it, and a session that ends stores how far it read
// in each room; while it lives, the positions that moved are written
// about once a second (roompositions.go). A session that opens again
// enters them and reads each room's archive after that point
// (xmppconn's SavedRoom), so a gateway restart loses nothing and repeats
// nothing. A gateway killed without ending its sessions loses at most
// the last second of positions: the catch-up then sends that second's
// messages again, unless the events are kept in an EventLog, which holds
// the true positions (roomlog.go).

// roomStoreTimeout bounds one store call made from a session's goroutine.
const roomStoreTimeout = 2 * time.Second

// roomStored records that the user entered room as nick.
func (s *Server) roomStored(ctx context.Context, user, room, nick, password string) {
	if s.cfg.Rooms == nil {
		return
	}
	j := rooms.Joined{User: user, Room: room, Nick: nick, Password: password, LastSeen: time.Now()}
	if err := s.cfg.Rooms.PutJoined(ctx, j); err != nil {
		s.log.Warn("room: joined room not stored", "user", user, "room", room, "err", err)
	}
}

// roomForgotten removes room from the user's joined rooms.
func (s *Server) roomForgotten(ctx context.Context, user, room string) {
	if s.cfg.Rooms == nil {
		return
	}
	if err := s.cfg.Rooms.DeleteJoined(ctx, user, room); err != nil {
		s.log.Warn("room: joined room not removed", "user", user, "room", room, "err", err)
	}
}

// savedRooms is xmppconn's Rooms: the rooms to enter again.
func (s *Server) savedRooms(ctx context.Context, user string) []xmppconn.SavedRoom {
	list, err := s.cfg.Rooms.Joined(ctx, user)
	if errors.Is(err, rooms.ErrUnsealed) { // the others are entered still
		s.log.Warn("room: joined room password not opened", "user", user, "err", err)
		err = nil
	}
	if err != nil {
		s.log.Warn("room: joined rooms not read", "user", user, "err", err)
		return nil
	}
	out := make([]xmppconn.SavedRoom, 0, len(list))
	for _, j := range list {
		out = append(out, xmppconn.SavedRoom{Room: j.Room, Nick: j.Nick, Password: j.Password, LastID: j.LastID, LastSeen: j.LastSeen})
	}
	s.withLogPositions(ctx, user, out) // roomlog.go
	return out
}

// saveRooms is xmppconn's OnRoomsSaved: how far the ending session read.
func (s *Server) saveRooms(user string, saved []xmppconn.SavedRoom) {
	ctx, cancel := context.WithTimeout(context.Background(), roomStoreTimeout)
	defer cancel()
	for _, r := range saved {
		j := rooms.Joined{User: user, Room: r.Room, Nick: r.Nick, Password: r.Password, LastID: r.LastID, LastSeen: r.LastSeen}
		if err := s.cfg.Rooms.PutJoined(ctx, j); err != nil {
			s.log.Warn("room: read position not stored", "user", user, "room", r.Room, "err", err)
		}
	}
}

// roomExited is xmppconn's OnRoomExit: the room made the user leave.
func (s *Server) roomExited(user, room string) {
	ctx, cancel := context.WithTimeout(context.Background(), roomStoreTimeout)
	defer cancel()
	s.roomForgotten(ctx, user, room)
}
