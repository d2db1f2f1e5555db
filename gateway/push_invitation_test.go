package gateway_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/prosodytest"
)

// TestIntegrationPushInvitationSignedOut: a room invitation to a user the
// gateway holds no session for reaches the user's browsers through the
// server's push, as the session's would: subject, inviter, room and
// reason, never the room's password; the open action only. A user who
// muted strangers hears nothing of a stranger's. On ejabberd (the inviter
// named by JID) and Prosody (by nick: its rooms hide JIDs by default).
func TestIntegrationPushInvitationSignedOut(t *testing.T) {
	t.Run("ejabberd", func(t *testing.T) {
		t.Parallel()
		a, c := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
		invitationJourney(t, newPushAppGateway(t), ejabberdtest.Shared(t).MUCService(),
			person{a.Name, a.Password, a.JID}, person{c.Name, c.Password, c.JID}, c.Name)
	})
	t.Run("prosody", func(t *testing.T) {
		t.Parallel()
		srv := prosodytest.Start(t)
		p := newProsodyPushApp(t, srv)
		a, c := prosodytest.NewUser(t, srv), prosodytest.NewUser(t, srv)
		invitationJourney(t, p, srv.MUCService(), person{a.Name, a.Password, a.JID}, person{c.Name, c.Password, c.JID}, "carol")
	})
}

// invitationJourney is TestIntegrationPushInvitationSignedOut: c, as the
// nick carol, invites the signed-out a; the push names the inviter as
// inviter.
func invitationJourney(t *testing.T, p *pushEnv, muc string, a, c person, inviter string) {
	ta, tc := p.Login(t, a.Name, a.Password), p.Login(t, c.Name, c.Password)
	p.subscribe(t, ta, "phone")
	if r := p.Do(t, "POST", api+"/logout", ta, "", ""); r.Status != http.StatusOK {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	room := "inv" + strings.ToLower(a.Name[1:9])
	rp := api + "/groupchat/room/" + room
	if r := p.Do(t, "PUT", rp+"?nick=carol", tc, "", ""); r.Status != http.StatusOK {
		t.Fatalf("join: %d %s", r.Status, r.Body)
	}
	const secret = "open-sesame-42"
	// ejabberd's form has a switch beside the password; Prosody's has
	// the password alone.
	config := `{"fields":[{"var":"muc#roomconfig_passwordprotectedroom","values":["1"]},{"var":"muc#roomconfig_roomsecret","values":["` + secret + `"]}]}`
	r := p.Do(t, "PUT", rp+"/config", tc, "application/json", config)
	if r.Status == http.StatusBadRequest && strings.Contains(string(r.Body), "muc#roomconfig_passwordprotectedroom") {
		r = p.Do(t, "PUT", rp+"/config", tc, "application/json", `{"fields":[{"var":"muc#roomconfig_roomsecret","values":["`+secret+`"]}]}`)
	}
	if r.Status != http.StatusOK {
		t.Fatalf("configure: %d %s", r.Status, r.Body)
	}
	invite := func(reason string) {
		t.Helper()
		if r := p.Do(t, "POST", rp+"/"+a.Name, tc, "text/plain", reason); r.Status != http.StatusOK {
			t.Fatalf("invite: %d %s", r.Status, r.Body)
		}
	}

	invite("come in")
	_, n, data := p.next(t)
	if data["type"] != "invitation" || data["from"] != room+"@"+muc || n.Subject != "Invitation to "+room ||
		n.Body != inviter+" invites you to "+room+": come in" || len(n.Actions) != 1 || n.Actions[0].Action != "open" {
		t.Fatalf("push %+v data %v", n, data)
	}
	if strings.Contains(n.Body+n.Subject+n.Data, secret) {
		t.Fatalf("the room's password in the push: %+v", n)
	}

	// Strangers muted: carol is one.
	ta = p.Login(t, a.Name, a.Password)
	if r := p.Do(t, "PUT", api+"/chat/strangers/muted", ta, "", ""); r.Status != http.StatusOK {
		t.Fatalf("mute strangers: %d %s", r.Status, r.Body)
	}
	if r := p.Do(t, "POST", api+"/logout", ta, "", ""); r.Status != http.StatusOK {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	invite("again")
	p.svc.None(t, 3*time.Second)
}
