package store_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/rooms"
)

func TestJoinedRoomPasswordsSealed(t *testing.T) { eachBackend(t, testJoinedRoomPasswordsSealed) }

// testJoinedRoomPasswordsSealed: through rooms.Sealed the store holds no
// room password in plain text and gives each back; SealExisting seals the
// rows stored in plain text before, once; a sealed password moved to
// another user or room does not open.
func testJoinedRoomPasswordsSealed(t *testing.T, newStore opener) {
	s, _ := newStore(t)
	ctx := t.Context()
	keys, err := auth.LoadOrCreateKeys(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// Rows from before sealing, written straight to the store.
	for _, j := range []rooms.Joined{
		{User: "a@x", Room: "old@muc.x", Nick: "al", Password: "old secret"},
		{User: "a@x", Room: "open@muc.x", Nick: "al"},
	} {
		if err := s.PutJoined(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := rooms.SealExisting(ctx, s, keys); err != nil || n != 1 {
		t.Fatalf("SealExisting: %d, %v; want 1 sealed", n, err)
	}
	if n, err := rooms.SealExisting(ctx, s, keys); err != nil || n != 0 {
		t.Fatalf("SealExisting again: %d, %v; want none", n, err)
	}
	sealed := rooms.Sealed(s, keys)
	if err := sealed.PutJoined(ctx, rooms.Joined{User: "a@x", Room: "new@muc.x", Nick: "al", Password: "new secret"}); err != nil {
		t.Fatal(err)
	}
	raw, err := s.Joined(ctx, "a@x")
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range raw {
		if strings.Contains(j.Password, "secret") || (j.Room != "open@muc.x") != strings.HasPrefix(j.Password, "sealed1:") {
			t.Fatalf("stored password of %s: %q", j.Room, j.Password)
		}
	}
	got, err := sealed.Joined(ctx, "a@x")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"new@muc.x": "new secret", "old@muc.x": "old secret", "open@muc.x": ""}
	for _, j := range got {
		if j.Password != want[j.Room] {
			t.Errorf("%s: password %q, want %q", j.Room, j.Password, want[j.Room])
		}
	}
	// The sealed value of old@ copied to another user's row does not open.
	var moved string
	for _, j := range raw {
		if j.Room == "old@muc.x" {
			moved = j.Password
		}
	}
	if err := s.PutJoined(ctx, rooms.Joined{User: "b@x", Room: "old@muc.x", Nick: "bo", Password: moved}); err != nil {
		t.Fatal(err)
	}
	list, err := sealed.Joined(ctx, "b@x")
	if !errors.Is(err, rooms.ErrUnsealed) || len(list) != 1 || list[0].Password != "" {
		t.Fatalf("a password sealed for another user: %+v, %v", list, err)
	}
}
