package gateway_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// TestIntegrationPresenceFollowsTabs: a user's XMPP session lasts while
// a tab is open, however long, and goes unavailable (contacts see it) a
// grace time after the last tab closed, so a closed tab no longer leaves
// the user shown as available for hours (issue 17).
func TestIntegrationPresenceFollowsTabs(t *testing.T) {
	t.Parallel()
	const grace = 2 * time.Second
	e := newGateway(t, func(c *gateway.Config) { c.Sessions.IdleTimeout = grace })
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	contacts(t, a, b)
	ta, tb := e.Login(t, a.Name, a.Password), e.Login(t, b.Name, b.Password)
	streamA := e.OpenConnected(t, ta, "")
	streamB := e.OpenConnected(t, tb, "")

	// presenceOf reads b's stream for a's next presence of type typ
	// within d, and reports whether one came.
	presenceOf := func(typ string, d time.Duration) bool {
		t.Helper()
		deadline := time.Now().Add(d)
		for {
			left := time.Until(deadline)
			if left <= 0 {
				return false
			}
			ev, err := streamB.TryNext(left)
			if err != nil {
				return false
			}
			if ev.Name != chatapi.EventPresence {
				continue
			}
			var p chatapi.Presence
			if err := json.Unmarshal([]byte(ev.Data), &p); err != nil {
				t.Fatalf("presence %q: %v", ev.Data, err)
			}
			if strings.HasPrefix(p.From, a.JID+"/") && p.PresenceType == typ {
				return true
			}
		}
	}
	// b's roster push or probe brings a's presence once; a re-announce
	// makes sure one is on b's stream now.
	if r := e.Do(t, "POST", api+"/presence?show=chat", ta, "", ""); r.Status != 200 {
		t.Fatalf("presence: %d %s", r.Status, r.Body)
	}
	if !presenceOf(chatapi.PresenceAvailable, 10*time.Second) {
		t.Fatal("b never saw a available")
	}
	// A tab open for longer than the grace keeps the session.
	if presenceOf(chatapi.PresenceUnavailable, 3*grace) {
		t.Fatal("a went unavailable while a tab was open")
	}
	start := time.Now()
	streamA.Close()
	if !presenceOf(chatapi.PresenceUnavailable, 5*grace) {
		t.Fatalf("a still available %v after the last tab closed (grace %v)", time.Since(start), grace)
	}
	t.Logf("unavailable %v after the last tab closed (grace %v)", time.Since(start).Round(10*time.Millisecond), grace)
	// The token still works: a request reopens the session on demand.
	if r := e.Do(t, "GET", api+"/roster", ta, "", ""); r.Status != 200 {
		t.Fatalf("a request after the session closed: %d %s", r.Status, r.Body)
	}
}
