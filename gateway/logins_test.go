package gateway_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// loginFrom logs user in with password from a client that says it is
// userAgent, and returns the token pair.
func loginFrom(t *testing.T, p *pushEnv, user, password, userAgent string, remember bool) gateway.TokenEntity {
	t.Helper()
	path := api + "/login/" + user
	if remember {
		path += "?remember=true"
	}
	req, err := http.NewRequestWithContext(t.Context(), "POST", p.Base+path, strings.NewReader(password))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("User-Agent", userAgent)
	resp, err := p.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return grant(t, gatewaytest.Response{Status: resp.StatusCode, Header: resp.Header, Body: body})
}

// logins is GET /logins with the token.
func logins(t *testing.T, p *pushEnv, token string) []gateway.Login {
	t.Helper()
	r := p.Do(t, "GET", api+"/logins", token, "", "")
	if r.Status != http.StatusOK {
		t.Fatalf("GET /logins: %d %s", r.Status, r.Body)
	}
	var ls gateway.Logins
	r.JSON(t, &ls)
	return ls.Logins
}

// TestIntegrationLogins: a user signed in on a phone and a laptop sees
// both in GET /logins (device, method, "stay signed in", which is this
// one), and signs the phone out from the laptop: the phone's stream ends
// with logout, its access and refresh tokens are refused, its push
// subscription is gone, while the laptop's token, stream, XMPP session
// and push subscription go on. Another user's login, or one that is not
// there, is 404 and ends nothing. A password change gives the laptop a
// new login that its push subscription follows; ending the current login
// is a logout.
func TestIntegrationLogins(t *testing.T) {
	t.Parallel()
	p := newPushGateway(t)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	phone := loginFrom(t, p, a.Name, a.Password, "TestPhone/1.0 (Android 14)", true)
	laptop := loginFrom(t, p, a.Name, a.Password, "TestLaptop/2.0 (X11; Linux)", false)
	laptop = grant(t, refresh(t, p.Client, *laptop.RefreshToken)) // the laptop's is the last used
	other := loginFrom(t, p, b.Name, b.Password, "TestOther/1.0", false)
	p.subscribe(t, phone.Token, "phone")
	p.subscribe(t, laptop.Token, "laptop")
	p.subscribe(t, other.Token, "phone")
	sPhone := p.OpenConnected(t, phone.Token, "")
	sLaptop := p.OpenConnected(t, laptop.Token, "")

	ls := logins(t, p, laptop.Token)
	if len(ls) != 2 {
		t.Fatalf("GET /logins = %+v, want the laptop and the phone", ls)
	}
	lap, ph := ls[0], ls[1]
	if lap.Device == nil || *lap.Device != "TestLaptop/2.0 (X11; Linux)" || !lap.Current || lap.Remember ||
		lap.Method != gateway.LoginMethodPwd || !lap.LastUsedAt.After(lap.StartedAt) || !lap.ExpiresAt.After(time.Now()) {
		t.Errorf("the laptop's login: %+v", lap)
	}
	if ph.Device == nil || *ph.Device != "TestPhone/1.0 (Android 14)" || ph.Current || !ph.Remember || ph.Id == lap.Id {
		t.Errorf("the phone's login: %+v", ph)
	}
	if ls := logins(t, p, phone.Token); len(ls) != 2 || !ls[1].Current || ls[0].Current {
		t.Errorf("GET /logins from the phone marks %+v", ls)
	}

	// Not a's login, not there, or not an id: nothing ends.
	bs := logins(t, p, other.Token)
	if len(bs) != 1 {
		t.Fatalf("b's logins: %+v", bs)
	}
	for _, tc := range []struct {
		id   string
		want int
	}{{bs[0].Id, 404}, {"AAAAAAAAAAAAAAAAAAAAAA", 404}, {"no%20such", 400}} {
		if r := p.Do(t, "DELETE", api+"/logins/"+tc.id, laptop.Token, "", ""); r.Status != tc.want {
			t.Errorf("DELETE /logins/%s: %d %s, want %d", tc.id, r.Status, r.Body, tc.want)
		}
	}
	if r := p.Do(t, "GET", api+"/roster", other.Token, "", ""); r.Status != 200 {
		t.Errorf("b's token after a tried to end b's login: %d", r.Status)
	}

	if r := p.Do(t, "DELETE", api+"/logins/"+ph.Id, laptop.Token, "", ""); r.Status != 200 {
		t.Fatalf("sign the phone out: %d %s", r.Status, r.Body)
	}
	var cl chatapi.Close
	sPhone.NextNamed(t, chatapi.EventClose, 10*time.Second, &cl)
	if cl.Reason != chatapi.CloseLogout || cl.Resume {
		t.Errorf("the phone's stream closed with %+v, want logout", cl)
	}
	wantRefused(t, p.Client, []string{phone.Token}, []string{*phone.RefreshToken})
	if r := p.Do(t, "DELETE", api+"/logins/"+ph.Id, laptop.Token, "", ""); r.Status != 404 {
		t.Errorf("signing the phone out again: %d, want 404", r.Status)
	}

	// The laptop goes on: its session gets b's message on its stream.
	if r := p.Do(t, "POST", api+"/chat/message/"+a.Name, other.Token, "text/plain", "still there?"); r.Status != 200 {
		t.Fatalf("b sends: %d %s", r.Status, r.Body)
	}
	var m chatapi.Chat
	sLaptop.NextNamed(t, chatapi.EventChat, 10*time.Second, &m)
	if m.Body != "still there?" {
		t.Errorf("the laptop's stream got %+v", m)
	}
	if ls := logins(t, p, laptop.Token); len(ls) != 1 || ls[0].Id != lap.Id {
		t.Errorf("GET /logins after the phone's sign-out: %+v", ls)
	}
	for _, tc := range []struct {
		user string
		want []string
	}{{a.JID, []string{"laptop"}}, {b.JID, []string{"phone"}}} {
		subs, err := p.store.PushSubscriptions(t.Context(), tc.user)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range subs {
			got = append(got, s.Resource)
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s's push subscriptions after the phone's sign-out: %v, want %v", tc.user, got, tc.want)
		}
	}

	// A password change on the laptop gives it a new login, which its
	// push subscription follows.
	r := p.Do(t, "PUT", api+"/user", laptop.Token, "application/json", jsonBody(t, map[string]string{"password": "a new long password", "currentPassword": a.Password}))
	var ue gateway.UserUpdateEntity
	r.JSON(t, &ue)
	if r.Status != 200 || ue.Token == nil {
		t.Fatalf("password change: %d %s", r.Status, r.Body)
	}
	ls = logins(t, p, *ue.Token)
	if len(ls) != 1 || !ls[0].Current || ls[0].Id == lap.Id {
		t.Fatalf("logins after the password change: %+v", ls)
	}
	subs, err := p.store.PushSubscriptions(t.Context(), a.JID)
	if err != nil || len(subs) != 1 || subs[0].Login != ls[0].Id {
		t.Errorf("the laptop's push subscription after the password change: %+v, %v; want it of the login %s", subs, err, ls[0].Id)
	}

	// The current login, named: a logout, and its subscription goes.
	if r := p.Do(t, "DELETE", api+"/logins/"+ls[0].Id, *ue.Token, "", ""); r.Status != 200 {
		t.Fatalf("sign the laptop out from itself: %d %s", r.Status, r.Body)
	}
	wantRefused(t, p.Client, []string{*ue.Token}, []string{*ue.RefreshToken})
	if subs, err := p.store.PushSubscriptions(t.Context(), a.JID); err != nil || len(subs) != 0 {
		t.Errorf("push subscriptions after the last login's sign-out: %+v, %v", subs, err)
	}
}

// TestIntegrationLoginsWithoutRefresh: a gateway that issues no refresh
// tokens has no logins to list or end: 501 for both.
func TestIntegrationLoginsWithoutRefresh(t *testing.T) {
	t.Parallel()
	e := newGateway(t, func(c *gateway.Config) { c.Refresh = nil })
	u := ejabberdtest.NewUser(t)
	tok := e.Login(t, u.Name, u.Password)
	for _, op := range []struct{ method, path string }{{"GET", "/logins"}, {"DELETE", "/logins/AAAAAAAAAAAAAAAAAAAAAA"}} {
		if r := e.Do(t, op.method, api+op.path, tok, "", ""); r.Status != http.StatusNotImplemented {
			t.Errorf("%s %s: %d %s, want 501", op.method, op.path, r.Status, r.Body)
		}
	}
}
