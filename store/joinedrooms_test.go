package store_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sparkgate/sparkgate/rooms"
)

func TestJoinedRooms(t *testing.T) { eachBackend(t, testJoinedRooms) }

// testJoinedRooms: a put replaces the user's entry for the room, the list
// is the user's own in room order, and a delete of none is no error.
func testJoinedRooms(t *testing.T, newStore opener) {
	s, _ := newStore(t)
	ctx := t.Context()
	seen := time.Unix(1_800_000_000, 0)
	puts := []rooms.Joined{
		{User: "a@x", Room: "r2@muc.x", Nick: "al"},
		{User: "a@x", Room: "r1@muc.x", Nick: "alice", Password: "pw", LastID: "id-1", LastSeen: seen},
		{User: "b@x", Room: "r1@muc.x", Nick: "bob"},
		{User: "a@x", Room: "r2@muc.x", Nick: "alice", LastID: "id-9"}, // replaces the first
	}
	for _, j := range puts {
		if err := s.PutJoined(ctx, j); err != nil {
			t.Fatalf("PutJoined(%+v): %v", j, err)
		}
	}
	got, err := s.Joined(ctx, "a@x")
	if err != nil {
		t.Fatal(err)
	}
	want := []rooms.Joined{puts[1], puts[3]}
	if d := cmp.Diff(want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); d != "" {
		t.Fatalf("Joined(a@x) (-want +got):\n%s", d)
	}
	if err := s.DeleteJoined(ctx, "a@x", "r1@muc.x"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteJoined(ctx, "a@x", "r1@muc.x"); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	if got, err := s.Joined(ctx, "a@x"); err != nil || len(got) != 1 || got[0].Room != "r2@muc.x" {
		t.Fatalf("after delete: %+v, %v", got, err)
	}
	if got, err := s.Joined(ctx, "b@x"); err != nil || len(got) != 1 || got[0].Nick != "bob" {
		t.Fatalf("b's rooms: %+v, %v", got, err)
	}
}

func TestJoinedRoomPosition(t *testing.T) { eachBackend(t, testJoinedRoomPosition) }

// testJoinedRoomPosition: SetPositions moves the read positions of rooms
// users are in and keeps its nick and password; it brings back no room
// the user left.
func testJoinedRoomPosition(t *testing.T, newStore opener) {
	s, _ := newStore(t)
	ctx := t.Context()
	j := rooms.Joined{User: "a@x", Room: "r@muc.x", Nick: "al", Password: "pw", LastID: "id-1", LastSeen: time.Unix(1_800_000_000, 0)}
	if err := s.PutJoined(ctx, j); err != nil {
		t.Fatal(err)
	}
	later := time.Unix(1_800_000_060, 0)
	// A second user's entry moves in the same write.
	k := rooms.Joined{User: "b@x", Room: "r@muc.x", Nick: "bo"}
	if err := s.PutJoined(ctx, k); err != nil {
		t.Fatal(err)
	}
	err := s.SetPositions(ctx, []rooms.Joined{
		{User: "a@x", Room: "r@muc.x", LastID: "id-7", LastSeen: later},
		{User: "a@x", Room: "gone@muc.x", LastID: "id-8", LastSeen: later}, // no entry: not an error
		{User: "b@x", Room: "r@muc.x", LastID: "id-9", LastSeen: later},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetPositions(ctx, nil); err != nil {
		t.Fatal(err)
	}
	gotB, err := s.Joined(ctx, "b@x")
	if err != nil || len(gotB) != 1 || gotB[0].LastID != "id-9" || !gotB[0].LastSeen.Equal(later) || gotB[0].Nick != "bo" {
		t.Fatalf("b's rooms: %+v, %v", gotB, err)
	}
	got, err := s.Joined(ctx, "a@x")
	if err != nil {
		t.Fatal(err)
	}
	j.LastID, j.LastSeen = "id-7", later
	if d := cmp.Diff([]rooms.Joined{j}, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); d != "" {
		t.Fatalf("Joined (-want +got):\n%s", d)
	}
}
