package gateway_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// TestIntegrationLogoutAll: a user signed in twice (one login refreshed
// and "stay signed in") with a stream on each signs out everywhere from
// one of them: both streams end with logout, every access and refresh
// token of both families is 401, the XMPP session ends (a contact, a plain
// client, sees the user go offline), and a new login works.
func TestIntegrationLogoutAll(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	srv := ejabberdtest.Shared(t)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	first := grant(t, e.Do(t, "POST", api+"/login/"+a.Name, "", "text/plain", a.Password))
	second := grant(t, e.Do(t, "POST", api+"/login/"+a.Name+"?remember=true", "", "text/plain", a.Password))
	second2 := grant(t, refresh(t, e.Client, *second.RefreshToken))
	s1 := e.OpenConnected(t, first.Token, "")
	s2 := e.OpenConnected(t, second2.Token, "")
	bc := availableClient(t, srv, b)
	befriend(t, e, first.Token, s1, a, b, bc)

	if r := e.Do(t, "POST", api+"/logout/all", second2.Token, "", ""); r.Status != 200 {
		t.Fatalf("logout everywhere: %d %s", r.Status, r.Body)
	}
	for i, s := range []*gatewaytest.Stream{s1, s2} {
		var cl chatapi.Close
		s.NextNamed(t, chatapi.EventClose, 10*time.Second, &cl)
		if cl.Reason != chatapi.CloseLogout || cl.Resume {
			t.Errorf("stream %d closed with %+v, want logout", i+1, cl)
		}
	}
	wantRefused(t, e.Client, []string{first.Token, second.Token, second2.Token}, []string{*first.RefreshToken, *second2.RefreshToken})
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	for {
		st, err := bc.Next(ctx)
		if err != nil {
			t.Fatalf("b never saw a's session end: %v", err)
		}
		if st.Name == "presence" && st.Type == "unavailable" && strings.HasPrefix(st.From, a.JID+"/") {
			break
		}
	}
	if _, r := e.Open(t, first.Token, ""); r.Status != 401 {
		t.Errorf("a stream with an old token: %d, want 401", r.Status)
	}
	fresh := e.Login(t, a.Name, a.Password)
	if r := e.Do(t, "GET", api+"/roster", fresh, "", ""); r.Status != 200 {
		t.Fatalf("a login after signing out everywhere: %d %s", r.Status, r.Body)
	}
}

// TestIntegrationLogoutAllPush: signing out everywhere removes the push
// subscriptions of every device, so that no signed-out browser goes on
// getting the user's messages; another user's stay.
func TestIntegrationLogoutAllPush(t *testing.T) {
	t.Parallel()
	p := newPushGateway(t)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	phone, laptop := p.Login(t, a.Name, a.Password), p.Login(t, a.Name, a.Password)
	tb := p.Login(t, b.Name, b.Password)
	p.subscribe(t, phone, "phone")
	p.subscribe(t, laptop, "laptop")
	p.subscribe(t, tb, "phone")

	if r := p.Do(t, "POST", api+"/logout/all", phone, "", ""); r.Status != 200 {
		t.Fatalf("logout everywhere: %d %s", r.Status, r.Body)
	}
	for _, tc := range []struct {
		user string
		want int
	}{{a.JID, 0}, {b.JID, 1}} {
		subs, err := p.store.PushSubscriptions(t.Context(), tc.user)
		if err != nil {
			t.Fatal(err)
		}
		if len(subs) != tc.want {
			t.Errorf("%s has %d push subscriptions after a's logout everywhere, want %d", tc.user, len(subs), tc.want)
		}
	}
}
