package store_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sparkgate/sparkgate/bookmark"
	"github.com/sparkgate/sparkgate/store"
)

var _ bookmark.Store = (*store.SQLite)(nil)

var ignoreTimes = cmpopts.IgnoreFields(bookmark.Bookmark{}, "Created", "Updated")

func TestBookmarksCRUD(t *testing.T) { eachBackend(t, testBookmarksCRUD) }

func testBookmarksCRUD(t *testing.T, newStore opener) {
	ctx := t.Context()
	s, _ := newStore(t)
	in := bookmark.Bookmark{
		Type: bookmark.TypeGroupChat, Name: "Team", Value: "team@conference.example.org",
		Creator: "alice@example.org", Users: []string{"carol", "bob"}, Groups: []string{"devs"},
		Properties: []bookmark.Property{{Name: "autojoin", Value: "true"}},
	}
	b, err := s.CreateBookmark(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if b.ID == 0 || b.Created.IsZero() {
		t.Fatalf("created %+v", b)
	}
	want := in
	want.ID = b.ID
	want.Users = []string{"bob", "carol"}
	if d := cmp.Diff(want, b, ignoreTimes); d != "" {
		t.Fatalf("created (-want +got):\n%s", d)
	}

	b.Name, b.Users, b.Groups, b.Global = "Renamed", []string{"dave"}, nil, true
	b.Properties = nil
	u, err := s.UpdateBookmark(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if u.Name != "Renamed" || !u.Global || !cmp.Equal(u.Users, []string{"dave"}) || len(u.Groups) != 0 || len(u.Properties) != 0 {
		t.Fatalf("updated %+v", u)
	}
	if u.Creator != "alice@example.org" {
		t.Fatalf("update changed the creator: %q", u.Creator)
	}

	p, err := s.SetBookmarkProperty(ctx, b.ID, "nameasnick", "false")
	if err != nil || !cmp.Equal(p.Properties, []bookmark.Property{{Name: "nameasnick", Value: "false"}}) {
		t.Fatalf("set property: %+v, %v", p.Properties, err)
	}
	p, err = s.SetBookmarkProperty(ctx, b.ID, "nameasnick", "true")
	if err != nil || len(p.Properties) != 1 || p.Properties[0].Value != "true" {
		t.Fatalf("replace property: %+v, %v", p.Properties, err)
	}
	p, err = s.DeleteBookmarkProperty(ctx, b.ID, "nameasnick")
	if err != nil || len(p.Properties) != 0 {
		t.Fatalf("delete property: %+v, %v", p.Properties, err)
	}
	if err := s.DeleteBookmark(ctx, b.ID); err != nil {
		t.Fatal(err)
	}

	missing := []struct {
		name string
		call func() error
	}{
		{"get", func() error { _, err := s.Bookmark(ctx, b.ID); return err }},
		{"update", func() error { _, err := s.UpdateBookmark(ctx, b); return err }},
		{"delete", func() error { return s.DeleteBookmark(ctx, b.ID) }},
		{"set-property", func() error { _, err := s.SetBookmarkProperty(ctx, b.ID, "a", "b"); return err }},
		{"delete-property", func() error { _, err := s.DeleteBookmarkProperty(ctx, b.ID, "a"); return err }},
	}
	for _, tt := range missing {
		t.Run("missing-"+tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, bookmark.ErrNotFound) || !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("err = %v, want bookmark.ErrNotFound and store.ErrNotFound", err)
			}
		})
	}
}

func TestBookmarksVisibility(t *testing.T) { eachBackend(t, testBookmarksVisibility) }

func testBookmarksVisibility(t *testing.T, newStore opener) {
	ctx := t.Context()
	s, _ := newStore(t)
	mk := func(name string, b bookmark.Bookmark) int64 {
		t.Helper()
		b.Type, b.Name, b.Value = bookmark.TypeURL, name, "https://example.org/"+name
		if b.Creator == "" {
			b.Creator = "admin@example.org"
		}
		got, err := s.CreateBookmark(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		return got.ID
	}
	global := mk("global", bookmark.Bookmark{Global: true})
	forBob := mk("bob", bookmark.Bookmark{Users: []string{"bob"}})
	forDevs := mk("devs", bookmark.Bookmark{Groups: []string{"devs"}})
	forOps := mk("ops", bookmark.Bookmark{Groups: []string{"ops"}})
	byCarol := mk("carol", bookmark.Bookmark{Creator: "carol@example.org"})

	tests := []struct {
		name, user, creator string
		groups              []string
		want                []int64
	}{
		{"nobody", "zed", "zed@example.org", nil, []int64{global}},
		{"named", "bob", "bob@example.org", nil, []int64{global, forBob}},
		{"group", "dan", "dan@example.org", []string{"devs"}, []int64{global, forDevs}},
		{"groups", "bob", "bob@example.org", []string{"devs", "ops"}, []int64{global, forBob, forDevs, forOps}},
		{"creator", "carol", "carol@example.org", nil, []int64{global, byCarol}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs, err := s.VisibleBookmarks(ctx, tt.user, tt.creator, tt.groups)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, b := range bs {
				ids = append(ids, b.ID)
			}
			if !cmp.Equal(ids, tt.want) {
				t.Fatalf("visible %v, want %v", ids, tt.want)
			}
		})
	}

	groups, err := s.BookmarkGroups(ctx)
	if err != nil || !cmp.Equal(groups, []string{"devs", "ops"}) {
		t.Fatalf("BookmarkGroups = %v, %v", groups, err)
	}

	if err := s.DeleteUserBookmarks(ctx, "bob", "carol@example.org"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Bookmark(ctx, byCarol); !errors.Is(err, bookmark.ErrNotFound) {
		t.Fatalf("carol's bookmark survived: %v", err)
	}
	b, err := s.Bookmark(ctx, forBob)
	if err != nil || len(b.Users) != 0 {
		t.Fatalf("bob still named: %+v, %v", b, err)
	}
}
