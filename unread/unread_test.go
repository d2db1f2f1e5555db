package unread_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/sparkgate/sparkgate/unread"
)

// memStore is an in-memory Store.
type memStore struct {
	mu sync.Mutex
	m  map[[2]string]unread.Count
}

func (s *memStore) AddUnread(_ context.Context, user, peer string, room bool) (unread.Count, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.m[[2]string{user, peer}]
	c.Peer, c.Room = peer, room
	c.Unread++
	s.m[[2]string{user, peer}] = c
	return c, nil
}

func (s *memStore) MarkRead(_ context.Context, user, peer string, room bool, id string) (unread.Count, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.m[[2]string{user, peer}]
	c := unread.Count{Peer: peer, Room: room, LastRead: id}
	s.m[[2]string{user, peer}] = c
	return c, !ok || old != c, nil
}

func (s *memStore) Unread(_ context.Context, user string) ([]unread.Count, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []unread.Count
	for k, c := range s.m {
		if k[0] == user {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b unread.Count) int {
		if a.Peer < b.Peer {
			return -1
		}
		return 1
	})
	return out, nil
}

func TestTracker(t *testing.T) {
	st := &memStore{m: map[[2]string]unread.Count{}}
	var mu sync.Mutex
	var told []unread.Count
	tr, err := unread.New(unread.Config{Store: st, OnChange: func(user string, c unread.Count) {
		mu.Lock()
		told = append(told, c)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	tr.Arrived("a", "bob", false)
	tr.Arrived("a", "bob", false)
	tr.Arrived("a", "room", true)
	// Read is applied after the changes queued before it, and waits.
	if err := tr.Read(t.Context(), "a", "bob", false, "m2"); err != nil {
		t.Fatal(err)
	}
	got, err := tr.List(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	want := []unread.Count{{Peer: "bob", LastRead: "m2"}, {Peer: "room", Room: true, Unread: 1}}
	if !slices.Equal(got, want) {
		t.Errorf("List = %+v; want %+v", got, want)
	}
	// An unchanged read tells no one.
	if err := tr.Read(t.Context(), "a", "bob", false, "m2"); err != nil {
		t.Fatal(err)
	}
	tr.Close()
	tr.Close() // idempotent
	wantTold := []unread.Count{{Peer: "bob", Unread: 1}, {Peer: "bob", Unread: 2}, {Peer: "room", Room: true, Unread: 1}, {Peer: "bob", LastRead: "m2"}}
	if !slices.Equal(told, wantTold) {
		t.Errorf("OnChange told %+v; want %+v", told, wantTold)
	}
	tr.Arrived("a", "bob", false) // after Close: ignored, no panic
	if err := tr.Read(t.Context(), "a", "bob", false, "m3"); !errors.Is(err, unread.ErrClosed) {
		t.Errorf("Read after Close = %v; want ErrClosed", err)
	}
}

func TestNewWithoutStore(t *testing.T) {
	if _, err := unread.New(unread.Config{}); err == nil {
		t.Error("New without a Store succeeded")
	}
}
