package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// fakeLog is an sse.Remote and EventLog holding one user's events.
type fakeLog struct {
	EventLog
	events []chatapi.Payload
	err    error
}

func (l fakeLog) Gen() uint64 { return 1 }

func (l fakeLog) Replay(_ context.Context, _ string, after uint64, fn func(uint64, string, []byte)) (uint64, uint64, error) {
	if l.err != nil {
		return 0, 0, l.err
	}
	for i, p := range l.events {
		b, _ := json.Marshal(p)
		fn(uint64(i+1), p.EventName(), b)
	}
	return 1, uint64(len(l.events)), nil
}

// TestWithLogPositions: a room's position after a takeover is the room
// archive id of the last room message the event log holds after the
// user's last entry to the room (its occupants snapshot); a room with no
// message in the log since, or a log that cannot be read, keeps the
// store's position.
func TestWithLogPositions(t *testing.T) {
	const r1, r2, r3 = "one@conference.x", "two@conference.x", "three@conference.x"
	msg := func(room, id string) chatapi.Payload {
		return chatapi.GroupChat{Type: chatapi.TypeGroupchat, From: room + "/nick", Body: "b", StanzaID: id}
	}
	events := []chatapi.Payload{
		chatapi.Occupants{Type: chatapi.TypeOccupants, Room: r1},
		msg(r1, "r1-a"),
		msg(r2, "r2-a"),
		chatapi.Chat{Type: chatapi.TypeChat, From: "b@x/r", Body: "not a room", StanzaID: "c-1"},
		msg(r1, "r1-b"),
		msg(r3, "r3-old"),
		chatapi.Occupants{Type: chatapi.TypeOccupants, Room: r3},                                 // left and entered again since
		chatapi.GroupChat{Type: chatapi.TypeGroupchat, From: r2 + "/nick", Subject: new(string)}, // no id
	}
	stored := func() []xmppconn.SavedRoom {
		return []xmppconn.SavedRoom{{Room: r1, LastID: "r1-stale"}, {Room: r2, LastID: "r2-stale"}, {Room: r3, LastID: ""}, {Room: "four@conference.x", LastID: "r4"}}
	}
	for i, tc := range []struct {
		log  fakeLog
		want []string
	}{
		{fakeLog{events: events}, []string{"r1-b", "r2-a", "", "r4"}},
		{fakeLog{err: errors.New("NATS away")}, []string{"r1-stale", "r2-stale", "", "r4"}},
		{fakeLog{}, []string{"r1-stale", "r2-stale", "", "r4"}},
	} {
		s := &Server{log: slog.New(slog.DiscardHandler)}
		s.cfg.EventLog, s.cfg.Events.Remote = tc.log, tc.log
		saved := stored()
		s.withLogPositions(t.Context(), "a@x", saved)
		for j, r := range saved {
			if r.LastID != tc.want[j] {
				t.Errorf("%d: %s at %q, want %q", i, r.Room, r.LastID, tc.want[j])
			}
		}
	}
}
