package gateway_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// TestIntegrationMute: a user with a push subscription and no tab mutes
// bob: bob's message pushes nothing while carol's, sent after it, does.
// A mute for two seconds holds for those and then ends by itself. The
// list has both, the timed one with its end; unmuting tells every tab
// (chatapi.muted) and a second unmute is 404; an end in the past or
// beyond a year is 400.
func TestIntegrationMute(t *testing.T) {
	t.Parallel()
	p := newPushGateway(t)
	a, b, c := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tb, tc := p.Login(t, a.Name, a.Password), p.Login(t, b.Name, b.Password), p.Login(t, c.Name, c.Password)
	p.subscribe(t, ta, "phone")
	send := func(tok, body string) {
		t.Helper()
		if r := p.Do(t, "POST", api+"/chat/message/"+a.Name, tok, "text/plain", body); r.Status != http.StatusOK {
			t.Fatalf("send %q: %d %s", body, r.Status, r.Body)
		}
	}

	if r := p.Do(t, "PUT", api+"/chat/muted/"+b.Name, ta, "", ""); r.Status != http.StatusOK {
		t.Fatalf("mute bob: %d %s", r.Status, r.Body)
	}
	send(tb, "from muted bob")
	send(tc, "from carol")
	if _, n, _ := p.next(t); n.Body != "from carol" {
		t.Fatalf("the first push after muting bob: %+v, want carol's", n)
	}

	until := time.Now().Add(2 * time.Second).UTC()
	if r := p.Do(t, "PUT", api+"/chat/muted/"+c.Name+"?until="+url.QueryEscape(until.Format(time.RFC3339Nano)), ta, "", ""); r.Status != http.StatusOK {
		t.Fatalf("mute carol for 2 s: %d %s", r.Status, r.Body)
	}
	r := p.Do(t, "GET", api+"/chat/muted", ta, "", "")
	var ms gateway.MutedConversations
	r.JSON(t, &ms)
	if r.Status != http.StatusOK || len(ms.Muted) != 2 {
		t.Fatalf("GET /chat/muted: %d %s", r.Status, r.Body)
	}
	for _, m := range ms.Muted {
		switch m.Jid {
		case b.JID:
			if m.Until != nil {
				t.Errorf("bob's mute ends at %v, want never", *m.Until)
			}
		case c.JID:
			if m.Until == nil || m.Until.Sub(until).Abs() > time.Millisecond {
				t.Errorf("carol's mute ends at %v, want %v", m.Until, until)
			}
		default:
			t.Errorf("muted: %+v", m)
		}
	}
	send(tc, "from carol, muted")
	time.Sleep(time.Until(until) + 200*time.Millisecond)
	send(tc, "from carol, the mute over")
	if _, n, _ := p.next(t); n.Body != "from carol, the mute over" {
		t.Fatalf("the push after carol's mute ended: %+v", n)
	}

	tab := p.OpenConnected(t, ta, "")
	if r := p.Do(t, "DELETE", api+"/chat/muted/"+b.JID, ta, "", ""); r.Status != http.StatusOK {
		t.Fatalf("unmute bob: %d %s", r.Status, r.Body)
	}
	// The tab, the session's first, gets what came before it too: the
	// mutes, then the unmute.
	var ev chatapi.Muted
	for i := 0; !(ev.JID == b.JID && !ev.Muted); i++ {
		if i == 4 {
			t.Fatalf("no chatapi.muted unmuting bob; the last: %+v", ev)
		}
		ev = chatapi.Muted{}
		tab.NextNamed(t, chatapi.EventMuted, 10*time.Second, &ev)
	}
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{"DELETE", "/chat/muted/" + b.Name, 404},
		{"DELETE", "/chat/muted/" + c.Name, 404}, // ran out by itself
		{"PUT", "/chat/muted/" + b.Name + "?until=" + url.QueryEscape(time.Now().Add(-time.Minute).Format(time.RFC3339)), 400},
		{"PUT", "/chat/muted/" + b.Name + "?until=" + url.QueryEscape(time.Now().Add(2*365*24*time.Hour).Format(time.RFC3339)), 400},
		{"PUT", "/chat/muted/" + b.Name + "?until=tomorrow", 400},
		{"PUT", "/chat/muted/a%20b", 400},
	} {
		if r := p.Do(t, tc.method, api+tc.path, ta, "", ""); r.Status != tc.want {
			t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, r.Status, r.Body, tc.want)
		}
	}
	if r := p.Do(t, "GET", api+"/chat/muted", ta, "", ""); r.Status != http.StatusOK || string(r.Body) != `{"muted":[]}`+"\n" {
		t.Errorf("GET /chat/muted at the end: %d %q", r.Status, r.Body)
	}
}

// TestIntegrationMutesOff: a gateway that keeps no mutes answers every
// mute operation, the strangers' too, with 501 and a JSON error saying so.
func TestIntegrationMutesOff(t *testing.T) {
	t.Parallel()
	e := newGateway(t, func(c *gateway.Config) { c.Messaging.Mutes = nil })
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta := e.Login(t, a.Name, a.Password)
	for _, op := range [][2]string{
		{"GET", "/chat/muted"}, {"PUT", "/chat/muted/" + b.Name}, {"DELETE", "/chat/muted/" + b.Name},
		{"PUT", "/chat/strangers/muted"}, {"DELETE", "/chat/strangers/muted"},
	} {
		r := e.Do(t, op[0], api+op[1], ta, "", "")
		wantAuthError(t, r, http.StatusNotImplemented, "not_implemented")
		if !strings.Contains(string(r.Body), "keeps no muted conversations") {
			t.Errorf("%s %s: %s", op[0], op[1], r.Body)
		}
	}
}
