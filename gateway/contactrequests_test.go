package gateway_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// contactRequests lists the user's waiting contact requests through the
// API.
func contactRequests(t *testing.T, e *env, token string) []string {
	t.Helper()
	r := e.Do(t, "GET", api+"/contact-requests", token, "", "")
	if r.Status != 200 {
		t.Fatalf("GET /contact-requests: %d %s", r.Status, r.Body)
	}
	var list []struct {
		JID string `json:"jid"`
	}
	if err := json.Unmarshal(r.Body, &list); err != nil {
		t.Fatalf("GET /contact-requests: %v in %s", err, r.Body)
	}
	out := []string{}
	for _, it := range list {
		out = append(out, it.JID)
	}
	return out
}

// presenceFrom waits on tab for a presence of type typ from jid.
func presenceFrom(t *testing.T, tab *gatewaytest.Stream, typ, jid string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var p chatapi.Presence
		tab.NextNamed(t, chatapi.EventPresence, time.Until(deadline), &p)
		if p.PresenceType == typ && strings.HasPrefix(p.From, jid) {
			return
		}
	}
}

// TestIntegrationContactRequests: plain XMPP clients b, c and d ask to see
// a's presence. The gateway keeps the requests: a second login of a, with
// a stream opened after they came, lists them (ejabberd's roster leaves
// them out). a declines d's and approves b's and c's on one tab: each
// leaves the list, and the other tab hears of each. (A request withdrawn
// while pending is not tested here: ejabberd tells no client of it; see
// TestTrackRequests.)
func TestIntegrationContactRequests(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	srv := ejabberdtest.Shared(t)
	a := ejabberdtest.NewUser(t)
	b, c, d := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta := e.Login(t, a.Name, a.Password)
	tab1 := e.OpenConnected(t, ta, "")
	if got := contactRequests(t, e, ta); len(got) != 0 {
		t.Fatalf("requests before any: %q", got)
	}
	bc, cc, dc := availableClient(t, srv, b), availableClient(t, srv, c), availableClient(t, srv, d)
	for _, x := range []struct {
		jid  string
		send func([]byte) error
	}{
		{b.JID, func(p []byte) error { return bc.SendRaw(t.Context(), p) }},
		{c.JID, func(p []byte) error { return cc.SendRaw(t.Context(), p) }},
		{d.JID, func(p []byte) error { return dc.SendRaw(t.Context(), p) }},
	} {
		if err := x.send([]byte(`<presence type='subscribe' to='` + a.JID + `'/>`)); err != nil {
			t.Fatal(err)
		}
		presenceFrom(t, tab1, chatapi.PresenceSubscribe, x.jid)
	}

	// A second login and a stream opened now: the requests are there.
	ta2 := e.Login(t, a.Name, a.Password)
	tab2 := e.OpenConnected(t, ta2, "")
	want := []string{b.JID, c.JID, d.JID}
	if got := contactRequests(t, e, ta2); !slices.Equal(got, want) {
		t.Fatalf("second login's requests = %q, want %q", got, want)
	}
	// ejabberd's roster does not show them.
	if r := e.Do(t, "GET", api+"/roster", ta2, "", ""); strings.Contains(string(r.Body), b.Name) {
		t.Errorf("the roster shows a pending request: %s", r.Body)
	}

	if got := contactRequests(t, e, ta2); !slices.Equal(got, want) {
		t.Fatalf("again: %q, want %q", got, want)
	}

	// d's is declined on tab 1; tab 2 hears of it.
	if r := e.Do(t, "POST", api+"/roster/"+d.JID+"/decline", ta, "", ""); r.Status != 200 {
		t.Fatalf("decline: %d %s", r.Status, r.Body)
	}
	var req chatapi.Request
	tab2.NextNamed(t, chatapi.EventRequest, 10*time.Second, &req)
	if got, want := contactRequests(t, e, ta2), []string{b.JID, c.JID}; !slices.Equal(got, want) {
		t.Fatalf("after declining d: %q, want %q", got, want)
	}

	// b's and c's are approved on tab 1 (as the web client does: a
	// contact both ways, or only their way); tab 2 sees each roster push,
	// and the list is empty everywhere.
	for _, x := range []struct{ jid, typ string }{{b.JID, "3"}, {c.JID, "2"}} {
		if r := e.Do(t, "POST", api+"/roster", ta, "application/json", `{"jid":"`+x.jid+`","subscriptionType":`+x.typ+`}`); r.Status != 200 {
			t.Fatalf("approve %s: %d %s", x.jid, r.Status, r.Body)
		}
		deadline := time.Now().Add(15 * time.Second)
		for {
			var it chatapi.Roster
			tab2.NextNamed(t, chatapi.EventRoster, time.Until(deadline), &it)
			if it.JID == x.jid && (it.Subscription == "from" || it.Subscription == "both") {
				break
			}
		}
	}
	for _, tok := range []string{ta, ta2} {
		if got := contactRequests(t, e, tok); len(got) != 0 {
			t.Errorf("after approving b: %q, want none", got)
		}
	}
	// A third login, later: still none.
	if got := contactRequests(t, e, e.Login(t, a.Name, a.Password)); len(got) != 0 {
		t.Errorf("a later login: %q, want none", got)
	}
	if r := e.Do(t, "GET", api+"/contact-requests", "", "", ""); r.Status != 401 {
		t.Errorf("without a token: %d, want 401", r.Status)
	}
}
