package gateway

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// A session writes its read position in each room to the store about once
// a second (roompositions.go). When its node dies, the last second's
// positions are lost, and the session that takes the user over — on
// another node, or the same after a restart — would read those messages
// from the room's archive again and append them to the user's event log
// a second time: a stream that resumed from the log would show them
// twice. With an EventLog, the log itself says how far the user got in
// each room: the room archive id of the last room message it holds (after
// the user last entered the room: its occupants snapshot). The position
// the new session starts from is that one when the log has it, the
// store's otherwise.

// roomLogTimeout bounds the read of the user's event log when a session
// opens.
const roomLogTimeout = 2 * time.Second

// roomLogEvent is what roomPositionsInLog reads of a chatapi.muc event.
type roomLogEvent struct {
	Type     string `json:"type"`
	From     string `json:"from"`
	Room     string `json:"room"`
	StanzaID string `json:"stanzaId"`
}

// roomPositionsInLog returns, by room JID, the room archive id of the
// last room message in user's event log that came after the user last
// entered the room; nil without an EventLog or when the log cannot be
// read (the store's positions then stand).
func (s *Server) roomPositionsInLog(ctx context.Context, user string) map[string]string {
	remote := s.cfg.Events.Remote
	if s.cfg.EventLog == nil || remote == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, roomLogTimeout)
	defer cancel()
	pos := map[string]string{}
	_, _, err := remote.Replay(ctx, user, 0, func(_ uint64, name string, data []byte) {
		if name != chatapi.EventMUC {
			return
		}
		var e roomLogEvent
		if json.Unmarshal(data, &e) != nil {
			return
		}
		switch e.Type {
		case chatapi.TypeOccupants: // entered (again): what came before does not count
			pos[e.Room] = ""
		case chatapi.TypeGroupchat:
			if e.StanzaID != "" {
				room, _, _ := strings.Cut(e.From, "/")
				pos[room] = e.StanzaID
			}
		}
	})
	if err != nil {
		s.log.Warn("room: read positions not read from the event log", "user", user, "err", err)
		return nil
	}
	return pos
}

// withLogPositions sets each saved room's LastID to the event log's
// position in it, where the log has one (roomPositionsInLog).
func (s *Server) withLogPositions(ctx context.Context, user string, saved []xmppconn.SavedRoom) {
	if len(saved) == 0 {
		return
	}
	pos := s.roomPositionsInLog(ctx, user)
	for i := range saved {
		if id := pos[saved[i].Room]; id != "" {
			saved[i].LastID = id
		}
	}
}
