package gateway_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/prosodytest"
)

// TestIntegrationMuteStrangers: a user who muted strangers is pushed a
// contact's message (one the user added, who has not answered yet) and
// neither a stranger's nor one from someone who asked to become a
// contact: with a session and no tab (the roster from the session), and
// signed out (the server's push, XEP-0357; the roster from the admin
// API: ejabberd's get_roster, Prosody's storage). A stranger's room
// invitation pushes nothing, a contact's does; a contact added on the way
// pushes at once (the roster kept a while is dropped by the roster push).
// The list and every tab say so; unmuted, strangers push again. On
// ejabberd and on Prosody.
func TestIntegrationMuteStrangers(t *testing.T) {
	t.Run("ejabberd", func(t *testing.T) {
		t.Parallel()
		var users [5]person
		for i := range users {
			u := ejabberdtest.NewUser(t)
			users[i] = person{u.Name, u.Password, u.JID}
		}
		muteStrangersJourney(t, newPushAppGateway(t, func(c *gateway.Config) { c.Metrics = true }), users)
	})
	t.Run("prosody", func(t *testing.T) {
		t.Parallel()
		srv := prosodytest.Start(t)
		p := newProsodyPushApp(t, srv, func(c *gateway.Config) { c.Metrics = true })
		var users [5]person
		for i := range users {
			u := prosodytest.NewUser(t, srv)
			users[i] = person{u.Name, u.Password, u.JID}
		}
		muteStrangersJourney(t, p, users)
	})
}

// person is a user of either server.
type person struct{ Name, Password, JID string }

// muteStrangersJourney is TestIntegrationMuteStrangers on p, whose
// server runs its push component, with a (the user), b (a's contact), c
// (a stranger), d (who asks a to be a contact) and e (a contact made on
// the way).
func muteStrangersJourney(t *testing.T, p *pushEnv, users [5]person) {
	a, b, c, d, e := users[0], users[1], users[2], users[3], users[4]
	ta, tb, tc, td := p.Login(t, a.Name, a.Password), p.Login(t, b.Name, b.Password), p.Login(t, c.Name, c.Password), p.Login(t, d.Name, d.Password)
	p.subscribe(t, ta, "phone")
	addContact := func(tok string, u person) {
		t.Helper()
		item, _ := json.Marshal(map[string]any{"jid": u.JID, "nickname": u.Name, "subscriptionType": 3, "groups": []string{}})
		if r := p.Do(t, "POST", api+"/roster", tok, "application/json", string(item)); r.Status != http.StatusOK {
			t.Fatalf("add %s: %d %s", u.Name, r.Status, r.Body)
		}
	}
	addContact(ta, b) // a's contact, though b has not answered
	addContact(td, a) // d asks a: a request to a, no contact of a's
	fromB, fromC, fromD := p.sender(t, tb, a.Name), p.sender(t, tc, a.Name), p.sender(t, td, a.Name)
	// pushedOnly has the stranger c and the requester d write first, then
	// the contact b, and wants b's push alone.
	pushedOnly := func(contact string) {
		t.Helper()
		fromC("from a stranger")
		fromD("from a requester")
		fromB(contact)
		if _, n, data := p.next(t); n.Body != contact || data["from"] != b.JID {
			t.Fatalf("push %+v %v, want the contact's %q", n, data, contact)
		}
		p.svc.None(t, 2*time.Second)
	}

	if r := p.Do(t, "PUT", api+"/chat/strangers/muted", ta, "", ""); r.Status != http.StatusOK {
		t.Fatalf("mute strangers: %d %s", r.Status, r.Body)
	}
	r := p.Do(t, "GET", api+"/chat/muted", ta, "", "")
	var ms gateway.MutedConversations
	r.JSON(t, &ms)
	if r.Status != http.StatusOK || ms.Strangers == nil || ms.Strangers.Until != nil || len(ms.Muted) != 0 {
		t.Fatalf("GET /chat/muted with strangers muted: %d %s", r.Status, r.Body)
	}

	t.Run("session-no-tab", func(t *testing.T) { pushedOnly("from a contact") })

	// The gateway keeps the roster it read a short while; a's roster
	// push, when a adds e, makes it read it again.
	t.Run("new-contact", func(t *testing.T) {
		addContact(ta, e)
		te := p.Login(t, e.Name, e.Password)
		p.sender(t, te, a.Name)("from a new contact")
		if _, n, _ := p.next(t); n.Body != "from a new contact" {
			t.Fatalf("push %+v, want the new contact's", n)
		}
		p.svc.None(t, time.Second)
	})

	t.Run("invitations", func(t *testing.T) {
		// Each invites a to a room of their own (an occupant who does not
		// own a room may not invite, by ejabberd's default), which names
		// its occupants' JIDs to anyone: else a Prosody room names the
		// inviter by nick, and an invitation nobody vouches for is a
		// stranger's (TestSilenced).
		room := func(tok, name string) string {
			t.Helper()
			rp := api + "/groupchat/room/" + name + strings.ToLower(a.Name[1:9])
			if r := p.Do(t, "PUT", rp+"?nick="+name, tok, "", ""); r.Status != http.StatusOK {
				t.Fatalf("join: %d %s", r.Status, r.Body)
			}
			if r := p.Do(t, "PUT", rp+"/config", tok, "application/json", `{"fields":[{"var":"muc#roomconfig_whois","values":["anyone"]}]}`); r.Status != http.StatusOK {
				t.Fatalf("configure: %d %s", r.Status, r.Body)
			}
			return rp
		}
		strangers, contacts := room(tc, "strangers"), room(tb, "contacts")
		if r := p.Do(t, "POST", strangers+"/"+a.Name, tc, "text/plain", "from a stranger"); r.Status != http.StatusOK {
			t.Fatalf("c invites: %d %s", r.Status, r.Body)
		}
		if r := p.Do(t, "POST", contacts+"/"+a.Name, tb, "text/plain", "from a contact"); r.Status != http.StatusOK {
			t.Fatalf("b invites: %d %s", r.Status, r.Body)
		}
		_, n, data := p.next(t)
		if data["type"] != "invitation" || !strings.HasPrefix(data["from"], "contacts") || !strings.HasPrefix(n.Body, b.Name+" invites you") {
			t.Fatalf("push %+v %v, want b's invitation", n, data)
		}
		p.svc.None(t, 2*time.Second)
	})

	t.Run("signed-out", func(t *testing.T) {
		if r := p.Do(t, "POST", api+"/logout", ta, "", ""); r.Status != http.StatusOK {
			t.Fatalf("logout: %d %s", r.Status, r.Body)
		}
		pushedOnly("from a contact, while out")
	})

	t.Run("unmuted", func(t *testing.T) {
		ta := p.Login(t, a.Name, a.Password)
		tab := p.OpenConnected(t, ta, "")
		if r := p.Do(t, "DELETE", api+"/chat/strangers/muted", ta, "", ""); r.Status != http.StatusOK {
			t.Fatalf("unmute strangers: %d %s", r.Status, r.Body)
		}
		var ev chatapi.Strangers
		tab.NextNamed(t, chatapi.EventStrangers, 10*time.Second, &ev)
		if ev.Muted || ev.Until != "" {
			t.Fatalf("chatapi.strangers = %+v, want unmuted", ev)
		}
		past := url.QueryEscape(time.Now().Add(-time.Minute).Format(time.RFC3339))
		for _, tc := range []struct {
			method, path string
			want         int
		}{
			{"DELETE", "/chat/strangers/muted", 404},
			{"PUT", "/chat/strangers/muted?until=" + past, 400},
			{"PUT", "/chat/strangers/muted?until=soon", 400},
		} {
			if r := p.Do(t, tc.method, api+tc.path, ta, "", ""); r.Status != tc.want {
				t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, r.Status, r.Body, tc.want)
			}
		}
		if r := p.Do(t, "GET", api+"/chat/muted", ta, "", ""); r.Status != http.StatusOK || string(r.Body) != `{"muted":[]}`+"\n" {
			t.Errorf("GET /chat/muted unmuted: %d %q", r.Status, r.Body)
		}
		if r := p.Do(t, "POST", api+"/logout", ta, "", ""); r.Status != http.StatusOK {
			t.Fatalf("logout: %d %s", r.Status, r.Body)
		}
		fromC("from a stranger, unmuted")
		if _, n, _ := p.next(t); n.Body != "from a stranger, unmuted" {
			t.Fatalf("push %+v, want the stranger's", n)
		}
	})

	// Silenced: c's and d's messages with a session and signed out, and
	// c's invitation.
	r = p.Do(t, "GET", gateway.MetricsPath, "", "", "")
	if got := sample(t, string(r.Body), `sparkgate_push_silenced_total{why="stranger"}`); got != 5 {
		t.Errorf("sparkgate_push_silenced_total{why=\"stranger\"} = %v, want 5", got)
	}
	if got := sample(t, string(r.Body), `sparkgate_push_silenced_total{why="muted"}`); got != 0 {
		t.Errorf("sparkgate_push_silenced_total{why=\"muted\"} = %v, want 0", got)
	}
}
