package store_test

import (
	"slices"
	"testing"
	"time"
)

// TestContactRequests records, lists and forgets contact requests, keeps
// the first time of a repeated one, and keeps them across a reopen.
func TestContactRequests(t *testing.T) { eachBackend(t, testContactRequests) }

func testContactRequests(t *testing.T, newStore opener) {
	ctx := t.Context()
	s, path := newStore(t)
	const alice, bob, carol, dave = "alice@example.org", "bob@example.org", "carol@example.org", "dave@example.org"
	t0 := time.UnixMilli(1_700_000_000_000)
	for i, r := range []struct {
		user, from string
		at         time.Time
	}{
		{alice, carol, t0},
		{alice, bob, t0.Add(time.Second)},
		{alice, dave, t0.Add(2 * time.Second)},
		{alice, carol, t0.Add(3 * time.Second)}, // asked again (a new login): stays first
		{bob, alice, t0},
	} {
		if err := s.AddContactRequest(ctx, r.user, r.from, r.at); err != nil {
			t.Fatalf("add %d: %v", i, err)
		}
	}
	if err := s.RemoveContactRequest(ctx, alice, dave); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveContactRequest(ctx, alice, "nobody@example.org"); err != nil {
		t.Fatalf("removing what is not there: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := openAt(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	for _, tt := range []struct {
		user string
		want []string
	}{
		{alice, []string{carol, bob}},
		{bob, []string{alice}},
		{carol, []string{}},
	} {
		got, err := s2.ContactRequests(ctx, tt.user)
		if err != nil || got == nil || !slices.Equal(got, tt.want) {
			t.Errorf("ContactRequests(%s) = %#v, %v; want %q", tt.user, got, err, tt.want)
		}
	}
	if err := s2.PurgeUser(ctx, alice); err != nil {
		t.Fatal(err)
	}
	if got, err := s2.ContactRequests(ctx, alice); err != nil || len(got) != 0 {
		t.Errorf("after PurgeUser: %q, %v; want none", got, err)
	}
}
