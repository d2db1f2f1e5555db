package gateway_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// TestIntegrationRosterEvents: a contact added, renamed and removed through
// the API reaches the user's event stream as typed chatapi.roster events
// (the server's roster pushes), with no XML for the client to read.
func TestIntegrationRosterEvents(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta := e.Login(t, a.Name, a.Password)
	st := e.OpenConnected(t, ta, "")

	// next waits for the chatapi.roster event of b that ok accepts.
	next := func(t *testing.T, what string, ok func(chatapi.Roster) bool) chatapi.Roster {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) {
			var ev chatapi.Roster
			st.NextNamed(t, chatapi.EventRoster, time.Until(deadline), &ev)
			if ev.JID == b.JID && ok(ev) {
				return ev
			}
		}
		t.Fatalf("no chatapi.roster event: %s", what)
		return chatapi.Roster{}
	}
	call := func(t *testing.T, method, path, body string) {
		t.Helper()
		ct := ""
		if body != "" {
			ct = "application/json"
		}
		if r := e.Do(t, method, api+path, ta, ct, body); r.Status != 200 {
			t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Body)
		}
	}
	item := func(nick string, groups ...string) string {
		v, _ := json.Marshal(map[string]any{"jid": b.JID, "nickname": nick, "subscriptionType": 0, "groups": groups})
		return string(v)
	}

	call(t, "POST", "/roster", item("Bee", "friends"))
	got := next(t, "b added", func(ev chatapi.Roster) bool { return !ev.Removed })
	if got.Name != "Bee" || got.Subscription != "none" || !slices.Equal(got.Groups, []string{"friends"}) {
		t.Errorf("added: %+v, want name Bee, subscription none, groups [friends]", got)
	}

	call(t, "PUT", "/roster/"+b.JID, item("Bea", "work", "family"))
	got = next(t, "b renamed", func(ev chatapi.Roster) bool { return ev.Name == "Bea" })
	slices.Sort(got.Groups)
	if got.Removed || !slices.Equal(got.Groups, []string{"family", "work"}) {
		t.Errorf("renamed: %+v, want groups [family work]", got)
	}

	call(t, "DELETE", "/roster/"+b.JID, "")
	got = next(t, "b removed", func(ev chatapi.Roster) bool { return ev.Removed })
	if got.Subscription != "remove" {
		t.Errorf("removed: %+v, want subscription remove", got)
	}
}
