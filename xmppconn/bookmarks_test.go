package xmppconn

import (
	"slices"
	"strings"
	"testing"
)

// TestParseConference: a bookmark's item reads back as what was stored,
// with XEP-0402's spellings of autojoin; an item that is not a
// conference still names its room.
func TestParseConference(t *testing.T) {
	tests := []struct {
		payload string
		want    Conference
	}{
		{`<conference xmlns="urn:xmpp:bookmarks:1" name="Tea" autojoin="true"><nick>ada</nick><password>p&amp;w</password></conference>`,
			Conference{Room: "r@m", Name: "Tea", Autojoin: true, Nick: "ada", Password: "p&w"}},
		{`<conference xmlns="urn:xmpp:bookmarks:1" autojoin="1"/>`, Conference{Room: "r@m", Autojoin: true}},
		{`<conference xmlns="urn:xmpp:bookmarks:1" autojoin="false"><extensions/></conference>`, Conference{Room: "r@m"}},
		{`<conference xmlns="urn:xmpp:bookmarks:1"/>`, Conference{Room: "r@m"}},
		{`<conference xmlns="urn:xmpp:bookmarks:1" name="Team"><extensions><offer xmlns="urn:sparkgate:bookmark:0" id="42"/></extensions></conference>`,
			Conference{Room: "r@m", Name: "Team", Offer: "42"}},
		{`<conference xmlns="urn:xmpp:bookmarks:1"><extensions><offer xmlns="urn:example:other" id="42"/><x xmlns="urn:example:more"/></extensions></conference>`,
			Conference{Room: "r@m"}},
		{`<conference xmlns="storage:bookmarks" name="other" autojoin="true"/>`, Conference{Room: "r@m"}},
		{`not xml`, Conference{Room: "r@m"}},
	}
	for _, tt := range tests {
		if got := parseConference(Item{ID: "r@m", Payload: []byte(tt.payload)}); got != tt.want {
			t.Errorf("parseConference(%s) = %+v, want %+v", tt.payload, got, tt.want)
		}
	}
}

// TestIntegrationBookmarks: native bookmarks stored with SetBookmark read
// back with Bookmarks, one per room (a second one replaces the first),
// and RemoveBookmark takes one out, twice without error.
func TestIntegrationBookmarks(t *testing.T) {
	p := newPair(t, newEvents(), nil)
	ctx, sa, sb := p.ctx, p.sa, p.sb
	mucs := strings.ToLower(p.a.Name) + "@conference.example.org"

	if got, err := sa.Bookmarks(ctx); err != nil || len(got) != 0 {
		t.Fatalf("Bookmarks of a new user = %+v, %v; want none", got, err)
	}
	tea := Conference{Room: "tea-" + mucs, Name: "Tea <&>", Autojoin: true, Nick: "ada", Password: "secret"}
	work := Conference{Room: "work-" + mucs, Name: "Work"}
	for _, c := range []Conference{tea, work, {Room: work.Room, Name: "Work, renamed"}} {
		if err := sa.SetBookmark(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	got, err := sa.Bookmarks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(x, y Conference) int { return strings.Compare(x.Room, y.Room) })
	if want := []Conference{tea, {Room: work.Room, Name: "Work, renamed"}}; !slices.Equal(got, want) {
		t.Fatalf("Bookmarks = %+v, want %+v", got, want)
	}
	// The node is the user's own: another user's bookmarks are not it.
	if other, err := sb.Bookmarks(ctx); err != nil || len(other) != 0 {
		t.Fatalf("another user's Bookmarks = %+v, %v; want none", other, err)
	}
	for range 2 {
		if err := sa.RemoveBookmark(ctx, tea.Room); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := sa.Bookmarks(ctx); err != nil || len(got) != 1 || got[0].Room != work.Room {
		t.Fatalf("Bookmarks after a removal = %+v, %v", got, err)
	}
}
