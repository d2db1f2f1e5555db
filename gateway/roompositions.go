package gateway

import (
	"context"
	"sync"
	"time"

	"github.com/sparkgate/sparkgate/rooms"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// roomPositionEvery is how often, at most, the read positions that moved
// are written to the store: a session's position in a room moves with
// each message, and a busy room would otherwise cost a write per message
// per member. A gateway that dies loses at most this much of them, and
// the catch-up after it sends that much again.
const roomPositionEvery = time.Second

// roomPositions keeps the read positions that moved since the last write
// (xmppconn's OnRoomRead), the latest per user and room, and writes them
// on a goroutine of the Server's background (started in New, ended by
// Close), so that a position survives a gateway that dies without ending
// its sessions.
type roomPositions struct {
	mu      sync.Mutex
	pending map[roomKey]xmppconn.SavedRoom
	wake    chan struct{} // buffer 1: something is pending
}

type roomKey struct{ user, room string }

func newRoomPositions() *roomPositions {
	return &roomPositions{pending: map[roomKey]xmppconn.SavedRoom{}, wake: make(chan struct{}, 1)}
}

// note is xmppconn's OnRoomRead: it never blocks.
func (p *roomPositions) note(user string, r xmppconn.SavedRoom) {
	p.mu.Lock()
	p.pending[roomKey{user, r.Room}] = r
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// take returns what is pending and forgets it.
func (p *roomPositions) take() map[roomKey]xmppconn.SavedRoom {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.pending
	p.pending = map[roomKey]xmppconn.SavedRoom{}
	return out
}

// runRoomPositions writes the pending positions, at most once per
// roomPositionEvery, until ctx ends; then once more.
func (s *Server) runRoomPositions(ctx context.Context) {
	p := s.positions
	defer s.writeRoomPositions(p.take())
	for {
		select {
		case <-p.wake:
		case <-ctx.Done():
			return
		}
		s.writeRoomPositions(p.take())
		select {
		case <-time.After(roomPositionEvery):
		case <-ctx.Done():
			return
		}
	}
}

// writeRoomPositions stores positions; a room the user has left since
// stays left (rooms.Store.SetPositions).
func (s *Server) writeRoomPositions(positions map[roomKey]xmppconn.SavedRoom) {
	if len(positions) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), roomStoreTimeout)
	defer cancel()
	batch := make([]rooms.Joined, 0, len(positions))
	for k, r := range positions {
		batch = append(batch, rooms.Joined{User: k.user, Room: k.room, LastID: r.LastID, LastSeen: r.LastSeen})
	}
	if err := s.cfg.Rooms.SetPositions(ctx, batch); err != nil {
		s.log.Warn("room: read positions not stored", "positions", len(batch), "err", err)
	}
}
