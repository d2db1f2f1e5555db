package bookmark

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// fakeGroups answers group members and counts the questions.
type fakeGroups struct {
	members map[string][]string
	fail    error
	asked   int
}

func (f *fakeGroups) get(_ context.Context, g string) ([]string, error) {
	f.asked++
	if f.fail != nil {
		return nil, f.fail
	}
	return f.members[g], nil
}

func TestAccessCanSee(t *testing.T) {
	groups := &fakeGroups{members: map[string][]string{
		"staff": {"Carol@Example.org/phone", "dave@example.org"},
	}}
	a := NewAccess(groups.get, func(context.Context) ([]string, error) { return []string{"staff", "nobody"}, nil }, nil)
	tests := []struct {
		name string
		jid  string
		b    Bookmark
		want bool
	}{
		{"global", "eve@example.org", Bookmark{Global: true}, true},
		{"creator", "alice@example.org", Bookmark{Creator: "alice@example.org"}, true},
		{"named user", "bob@example.org", Bookmark{Users: []string{"bob"}}, true},
		{"another user", "bob@example.org", Bookmark{Users: []string{"bobby"}}, false},
		{"group member, any case", "carol@example.org", Bookmark{Groups: []string{"staff"}}, true},
		{"group member", "dave@example.org", Bookmark{Groups: []string{"nobody", "staff"}}, true},
		{"not a member", "eve@example.org", Bookmark{Groups: []string{"staff"}}, false},
		{"nothing", "eve@example.org", Bookmark{}, false},
	}
	for _, tt := range tests {
		if got, err := a.CanSee(t.Context(), tt.jid, tt.b); err != nil || got != tt.want {
			t.Errorf("%s: CanSee = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
	if gs, err := a.UserGroups(t.Context(), "dave@example.org"); err != nil || !slices.Equal(gs, []string{"staff"}) {
		t.Errorf("UserGroups = %v, %v; want [staff]", gs, err)
	}
}

func TestAccessCache(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	groups := &fakeGroups{members: map[string][]string{"g": {"a@x"}}}
	a := NewAccess(groups.get, nil, func() time.Time { return now })
	for range 3 {
		if in, err := a.InGroup(t.Context(), "g", "a@x"); err != nil || !in {
			t.Fatalf("InGroup = %v, %v", in, err)
		}
	}
	if groups.asked != 1 {
		t.Fatalf("asked the server %d times within the TTL, want 1", groups.asked)
	}
	now = now.Add(GroupCacheTTL)
	a.InGroup(t.Context(), "g", "a@x")
	if groups.asked != 2 {
		t.Fatalf("asked %d times after the TTL, want 2", groups.asked)
	}
	// An unreachable server is an error, never an empty group, and is not
	// remembered.
	groups.fail = errors.New("unavailable")
	now = now.Add(GroupCacheTTL)
	if _, err := a.CanSee(t.Context(), "a@x", Bookmark{Groups: []string{"g"}}); err == nil {
		t.Fatal("CanSee hid the server's failure")
	}
	// The cache is bounded.
	groups.fail = nil
	for i := range maxCachedGroups + 5 {
		a.InGroup(t.Context(), fmt.Sprint("g", i), "a@x")
	}
	a.mu.Lock()
	n := len(a.cache)
	a.mu.Unlock()
	if n > maxCachedGroups {
		t.Fatalf("%d groups cached, bound %d", n, maxCachedGroups)
	}
}

func TestAccessWithoutGroups(t *testing.T) {
	a := NewAccess(nil, nil, nil)
	if in, err := a.CanSee(t.Context(), "a@x", Bookmark{Groups: []string{"g"}}); err != nil || in {
		t.Fatalf("CanSee without groups = %v, %v", in, err)
	}
	if gs, err := a.UserGroups(t.Context(), "a@x"); err != nil || gs != nil {
		t.Fatalf("UserGroups without groups = %v, %v", gs, err)
	}
}
