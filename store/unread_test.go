package store_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sparkgate/sparkgate/unread"
)

// TestUnread counts, clears and lists conversations, and keeps them
// across a reopen.
func TestUnread(t *testing.T) { eachBackend(t, testUnread) }

func testUnread(t *testing.T, newStore opener) {
	ctx := t.Context()
	s, path := newStore(t)
	const alice = "alice@example.org"
	for range 2 {
		if _, err := s.AddUnread(ctx, alice, "bob@example.org", false); err != nil {
			t.Fatal(err)
		}
	}
	c, err := s.AddUnread(ctx, alice, "room@conference.example.org", true)
	if err != nil || c != (unread.Count{Peer: "room@conference.example.org", Room: true, Unread: 1}) {
		t.Fatalf("AddUnread = %+v, %v", c, err)
	}
	if _, err := s.AddUnread(ctx, "carol@example.org", "bob@example.org", false); err != nil {
		t.Fatal(err)
	}
	c, changed, err := s.MarkRead(ctx, alice, "bob@example.org", false, "m2")
	if err != nil || !changed || c != (unread.Count{Peer: "bob@example.org", LastRead: "m2"}) {
		t.Fatalf("MarkRead = %+v, %v, %v", c, changed, err)
	}
	if _, changed, err := s.MarkRead(ctx, alice, "bob@example.org", false, "m2"); err != nil || changed {
		t.Fatalf("MarkRead again: changed %v, %v; want false", changed, err)
	}
	if _, changed, err := s.MarkRead(ctx, alice, "dave@example.org", false, "d1"); err != nil || !changed {
		t.Fatalf("MarkRead of a new conversation: changed %v, %v; want true", changed, err)
	}
	want := []unread.Count{
		{Peer: "bob@example.org", LastRead: "m2"},
		{Peer: "dave@example.org", LastRead: "d1"},
		{Peer: "room@conference.example.org", Room: true, Unread: 1},
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := openAt(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	got, err := s2.Unread(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Unread after reopen (-want +got):\n%s", d)
	}
	if got, err := s2.Unread(ctx, "nobody@example.org"); err != nil || got == nil || len(got) != 0 {
		t.Errorf("Unread of a user without conversations = %#v, %v; want empty, not nil", got, err)
	}
}

// TestAddUnreads stores a batch in one call: new and existing
// conversations, more arrivals than one statement takes, the new states
// answered in the order of the arrivals.
func TestAddUnreads(t *testing.T) { eachBackend(t, testAddUnreads) }

func testAddUnreads(t *testing.T, newStore opener) {
	ctx := t.Context()
	s, _ := newStore(t)
	const room = "room@conference.example.org"
	if _, err := s.AddUnread(ctx, "m3@example.org", room, true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.MarkRead(ctx, "m5@example.org", room, true, "r5"); err != nil {
		t.Fatal(err)
	}
	var batch []unread.Arrival
	for i := range 600 { // three statements' worth
		batch = append(batch, unread.Arrival{User: fmt.Sprintf("m%d@example.org", i), Peer: room, Room: true, N: 1 + i%3})
	}
	batch = append(batch, unread.Arrival{User: "m3@example.org", Peer: "bob@example.org", N: 4})
	got, err := s.AddUnreads(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(batch) {
		t.Fatalf("AddUnreads answered %d states for %d arrivals", len(got), len(batch))
	}
	for i, a := range batch {
		want := unread.Count{Peer: a.Peer, Room: a.Room, Unread: a.N}
		switch i {
		case 3:
			want.Unread++ // it had one
		case 5:
			want.LastRead = "r5"
		}
		if got[i] != want {
			t.Errorf("arrival %d (%s): %+v; want %+v", i, a.User, got[i], want)
		}
	}
	list, err := s.Unread(ctx, "m3@example.org")
	if err != nil {
		t.Fatal(err)
	}
	want := []unread.Count{{Peer: "bob@example.org", Unread: 4}, {Peer: room, Room: true, Unread: 2}}
	if d := cmp.Diff(want, list); d != "" {
		t.Errorf("Unread of m3 (-want +got):\n%s", d)
	}
	if got, err := s.AddUnreads(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("AddUnreads(nil) = %v, %v", got, err)
	}
}
