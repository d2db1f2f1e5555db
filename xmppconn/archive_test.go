package xmppconn

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

func TestDropResent(t *testing.T) {
	msg := func(id, typ, from, origin string) *MAMResult {
		return &MAMResult{ID: id, Forwarded: Forwarded{Message: &Stanza{Type: typ, From: from, OriginID: origin}}}
	}
	tests := []struct {
		name string
		in   []*MAMResult
		want string // archive ids kept, in order
	}{
		{"empty", nil, ""},
		{"no origin-ids are all kept", []*MAMResult{msg("1", "chat", "a@x/r", ""), msg("2", "chat", "a@x/r", "")}, "1,2"},
		{"a resent copy goes", []*MAMResult{msg("1", "chat", "a@x/r", "o1"), msg("2", "chat", "b@x/r", "o9"), msg("3", "chat", "a@x/r", "o1")}, "1,2"},
		{"sent again from another resource", []*MAMResult{msg("1", "chat", "a@x/r1", "o1"), msg("2", "chat", "a@x/r2", "o1")}, "1"},
		{"same origin-id from another sender stays", []*MAMResult{msg("1", "chat", "a@x/r", "o1"), msg("2", "chat", "b@x/r", "o1")}, "1,2"},
		{"room occupants are told apart", []*MAMResult{msg("1", "groupchat", "room@m.x/alice", "o1"), msg("2", "groupchat", "room@m.x/bob", "o1"), msg("3", "groupchat", "room@m.x/alice", "o1")}, "1,2"},
		{"a result without a message stays", []*MAMResult{{ID: "1"}, msg("2", "chat", "a@x/r", "o1")}, "1,2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ids []string
			for _, r := range dropResent(tt.in) {
				ids = append(ids, r.ID)
			}
			if got := strings.Join(ids, ","); got != tt.want {
				t.Fatalf("kept %q, want %q", got, tt.want)
			}
		})
	}
}

// TestIntegrationArchiveDropsResentCopy: a message written twice with the
// same origin-id, as a session sends it again after a connection loss, is
// archived twice by ejabberd on both sides but listed once by QueryArchive.
func TestIntegrationArchiveDropsResentCopy(t *testing.T) {
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	m := newTestManager(t, newEvents(), nil)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	ss := openSessions(ctx, t, m, a, b)
	sa, sb := ss[0], ss[1]
	raw := func(id, body string) []byte {
		return fmt.Appendf(nil, `<message type="chat" id="%s" to="%s"><body>%s</body><origin-id xmlns="urn:xmpp:sid:0" id="%s"/></message>`, id, b.JID, body, id)
	}
	for _, w := range []struct{ id, body string }{{"r1", "first"}, {"r1", "first"}, {"r2", "second"}} {
		if err := sa.current().SendRaw(ctx, raw(w.id, w.body)); err != nil {
			t.Fatal(err)
		}
	}
	for _, side := range []struct {
		name string
		s    *Session
		with string
	}{{"sender", sa, b.JID}, {"receiver", sb, a.JID}} {
		var bodies []string
		for deadline := time.Now().Add(10 * time.Second); ; {
			res, _, err := side.s.QueryArchive(ctx, "", ArchiveFilter{With: side.with}, Page{})
			if err != nil {
				t.Fatalf("%s: %v", side.name, err)
			}
			bodies = bodies[:0]
			for _, r := range res {
				bodies = append(bodies, r.Forwarded.Message.Message.Body)
			}
			if len(bodies) >= 2 || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if got := strings.Join(bodies, ","); got != "first,second" {
			t.Errorf("%s's archive lists %q, want first,second", side.name, got)
		}
	}
}

// openSessions opens one session per user with its password.
func openSessions(ctx context.Context, t *testing.T, m *Manager, users ...ejabberdtest.User) []*Session {
	t.Helper()
	ss := make([]*Session, len(users))
	for i, u := range users {
		s, err := m.Open(ctx, u.Name, Credentials{Password: u.Password})
		if err != nil {
			t.Fatalf("open %s: %v", u.Name, err)
		}
		ss[i] = s
	}
	return ss
}
