package gateway_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// TestIntegrationPushInvitationSignedOut: a room invitation to a user the
// gateway holds no session for reaches the user's browsers through
// ejabberd's push, as the session's would: subject, inviter, room and
// reason, never the room's password; the open action only. A user who
// muted strangers hears nothing of a stranger's.
func TestIntegrationPushInvitationSignedOut(t *testing.T) {
	p := newPushAppGateway(t)
	srv := ejabberdtest.Shared(t)
	a, c := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
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
	config := `{"fields":[{"var":"muc#roomconfig_passwordprotectedroom","values":["1"]},{"var":"muc#roomconfig_roomsecret","values":["` + secret + `"]}]}`
	if r := p.Do(t, "PUT", rp+"/config", tc, "application/json", config); r.Status != http.StatusOK {
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
	if data["type"] != "invitation" || data["from"] != room+"@"+srv.MUCService() || n.Subject != "Invitation to "+room ||
		n.Body != c.Name+" invites you to "+room+": come in" || len(n.Actions) != 1 || n.Actions[0].Action != "open" {
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
