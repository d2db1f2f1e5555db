package xmppconn

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// TestIntegrationSessionArchiveAfter: a session opened at the archive
// position a previous session reached (ManagerConfig.ArchiveAfter, as on
// another gateway node) delivers exactly what came after it; a position
// the archive does not know falls back to the catch-up by time, losing
// nothing.
func TestIntegrationSessionArchiveAfter(t *testing.T) {
	srv := ejabberdtest.Shared(t)
	for _, tc := range []struct {
		name    string
		after   func(reached string) string
		exactly bool // else: at least the message sent while away
	}{
		{"reached", func(p string) string { return p }, true},
		{"unknown", func(string) string { return "1" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
			ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
			defer cancel()
			bconn := dialUser(t, srv, b, nil)
			online(t, bconn)

			ev1 := newEvents()
			m1 := newTestManager(t, ev1, nil)
			s1, err := m1.Open(ctx, a.Name, Credentials{Password: a.Password})
			if err != nil {
				t.Fatal(err)
			}
			if err := bconn.Send(ctx, chatTo(a.JID, "one")); err != nil {
				t.Fatal(err)
			}
			ev1.waitFor(t, 10*time.Second, "one", func() bool { return len(ev1.chats(a.JID)) == 1 })
			reached := s1.ArchivePosition()
			if reached == "" {
				t.Fatal("no archive position after a delivered message")
			}
			m1.End(ctx, a.JID, chatapi.CloseLogout)
			if err := bconn.Send(ctx, chatTo(a.JID, "two")); err != nil {
				t.Fatal(err)
			}

			ev2 := newEvents()
			m2 := newTestManager(t, ev2, func(c *ManagerConfig) {
				c.ArchiveAfter = func(context.Context, string) string { return tc.after(reached) }
			})
			if _, err := m2.Open(ctx, a.Name, Credentials{Password: a.Password}); err != nil {
				t.Fatal(err)
			}
			if err := bconn.Send(ctx, chatTo(a.JID, "three")); err != nil {
				t.Fatal(err)
			}
			ev2.waitFor(t, 20*time.Second, "three", func() bool { return slices.Contains(ev2.chats(a.JID), "three") })
			got := ev2.chats(a.JID)
			if tc.exactly && fmt.Sprint(got) != fmt.Sprint([]string{"two", "three"}) {
				t.Fatalf("messages %q, want [two three]", got)
			}
			if !slices.Contains(got, "two") {
				t.Fatalf("messages %q: the one sent while away is lost", got)
			}
		})
	}
}
