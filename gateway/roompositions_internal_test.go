package gateway

import (
	"testing"

	"github.com/sparkgate/sparkgate/xmppconn"
)

// TestRoomPositionsCoalesce: of many moves of one position, one write
// (the latest) is pending; other rooms and users keep their own; a take
// empties them.
func TestRoomPositionsCoalesce(t *testing.T) {
	p := newRoomPositions()
	moves := []struct{ user, room, id string }{
		{"a@x", "r@m", "1"}, {"a@x", "r@m", "2"}, {"b@x", "r@m", "7"}, {"a@x", "s@m", "4"}, {"a@x", "r@m", "3"},
	}
	for _, m := range moves {
		p.note(m.user, xmppconn.SavedRoom{Room: m.room, LastID: m.id})
	}
	got := p.take()
	want := map[roomKey]string{{"a@x", "r@m"}: "3", {"b@x", "r@m"}: "7", {"a@x", "s@m"}: "4"}
	if len(got) != len(want) {
		t.Fatalf("pending %v, want %v", got, want)
	}
	for k, id := range want {
		if got[k].LastID != id {
			t.Errorf("%v: %q, want %q", k, got[k].LastID, id)
		}
	}
	if n := len(p.take()); n != 0 {
		t.Fatalf("%d pending after a take", n)
	}
	select {
	case <-p.wake:
	default:
		t.Fatal("no wake-up pending after the moves")
	}
}
