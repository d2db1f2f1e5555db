package store_test

import (
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/webpush"
)

// TestMuted: a mute holds until its time (or for good), one per
// conversation, only the user's own; unmuting says whether it held; a
// mute that ran out is neither listed nor counted, and the purge takes it.
func TestMuted(t *testing.T) { eachBackend(t, testMuted) }

func testMuted(t *testing.T, newStore opener) {
	s, _ := newStore(t)
	ctx := t.Context()
	hour := t0.Add(time.Hour)
	for _, m := range []struct {
		user, peer string
		until      time.Time
	}{
		{"alice@x", "bob@x", time.Time{}},
		{"alice@x", "lobby@rooms.x", hour},
		{"alice@x", "lobby@rooms.x/Ben", t0.Add(time.Minute)},
		{"alice@x", "old@x", t0.Add(-time.Minute)},
		{"carol@x", "bob@x", time.Time{}},
	} {
		if err := s.PutMute(ctx, m.user, m.peer, m.until); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Mutes(ctx, "alice@x", t0)
	if err != nil {
		t.Fatal(err)
	}
	want := []webpush.Mute{{Peer: "bob@x"}, {Peer: "lobby@rooms.x", Until: hour}, {Peer: "lobby@rooms.x/Ben", Until: t0.Add(time.Minute)}}
	if len(got) != len(want) {
		t.Fatalf("Mutes = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].Peer != want[i].Peer || !got[i].Until.Equal(want[i].Until) {
			t.Errorf("mute %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	for _, tt := range []struct {
		peer string
		at   time.Time
		want bool
	}{
		{"bob@x", t0.Add(1000 * time.Hour), true},
		{"lobby@rooms.x", t0.Add(59 * time.Minute), true},
		{"lobby@rooms.x", hour, false},
		{"old@x", t0, false},
		{"nobody@x", t0, false},
	} {
		if m, err := s.Muted(ctx, "alice@x", tt.peer, tt.at); err != nil || m != tt.want {
			t.Errorf("Muted(%s at %v) = %v, %v; want %v", tt.peer, tt.at.Sub(t0), m, err, tt.want)
		}
	}
	// Muting again replaces the time.
	if err := s.PutMute(ctx, "alice@x", "lobby@rooms.x", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.Muted(ctx, "alice@x", "lobby@rooms.x", t0.Add(1000*time.Hour)); !m {
		t.Error("a mute for good after one for an hour does not hold")
	}
	for _, tt := range []struct {
		peer string
		want bool
	}{{"bob@x", true}, {"bob@x", false}, {"old@x", false}} {
		if held, err := s.DeleteMute(ctx, "alice@x", tt.peer, t0); err != nil || held != tt.want {
			t.Errorf("DeleteMute(%s) = %v, %v; want %v", tt.peer, held, err, tt.want)
		}
	}
	if m, _ := s.Muted(ctx, "carol@x", "bob@x", t0); !m {
		t.Error("carol's mute went with alice's")
	}
	if _, err := s.Purge(ctx, t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Mutes(ctx, "alice@x", t0) // as of before: only what the purge left
	if len(got) != 1 || got[0].Peer != "lobby@rooms.x" {
		t.Errorf("after the purge: %+v, want the lobby's alone", got)
	}
}
