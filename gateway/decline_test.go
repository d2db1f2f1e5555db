package gateway_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// plainNone fails the test when the plain client c receives a stanza
// holding all of parts within d.
func plainNone(t *testing.T, c *xmppconn.Conn, d time.Duration, parts ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	for {
		st, err := c.Next(ctx)
		if errors.Is(err, context.DeadlineExceeded) {
			return
		}
		if err != nil {
			t.Fatalf("plain client: %v", err)
		}
		raw, hit := string(st.Raw), true
		for _, p := range parts {
			hit = hit && strings.Contains(raw, p)
		}
		if hit {
			t.Fatalf("plain client got %s, want nothing with %q within %s", raw, parts, d)
		}
	}
}

// TestIntegrationDeclineContactRequest: b, a plain XMPP client, asks to
// see a's presence; a declines through the API. b receives the
// unsubscribed presence, both of a's tabs hear of it (chatapi.request),
// and the XMPP server forgets the request: a new client of a is no longer
// offered it, as it was before.
func TestIntegrationDeclineContactRequest(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	srv := ejabberdtest.Shared(t)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta := e.Login(t, a.Name, a.Password)
	tab1 := e.OpenConnected(t, ta, "")
	tab2 := e.OpenConnected(t, ta, "")
	bc := availableClient(t, srv, b)

	if err := bc.SendRaw(t.Context(), []byte(`<presence type='subscribe' to='`+a.JID+`'/>`)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		var p chatapi.Presence
		tab1.NextNamed(t, chatapi.EventPresence, time.Until(deadline), &p)
		if p.PresenceType == chatapi.PresenceSubscribe && strings.HasPrefix(p.From, b.JID) {
			break
		}
	}
	// The server keeps the request: another client of a is offered it.
	before := availableClient(t, srv, a)
	plainUntil(t, before, `type='subscribe'`, b.JID)
	before.Close(t.Context())

	for _, tt := range []struct{ name, jid string }{
		{"own-jid", a.JID},
		{"full-jid", b.JID + "%2Fphone"},
		{"not-a-jid", "a@b@c"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if r := e.Do(t, "POST", api+"/roster/"+tt.jid+"/decline", ta, "", ""); r.Status != 400 {
				t.Errorf("decline %s = %d %s, want 400", tt.jid, r.Status, r.Body)
			}
		})
	}

	if r := e.Do(t, "POST", api+"/roster/"+b.JID+"/decline", ta, "", ""); r.Status != 200 {
		t.Fatalf("decline: %d %s", r.Status, r.Body)
	}
	plainUntil(t, bc, `type='unsubscribed'`, a.JID)
	for i, tab := range []*gatewaytest.Stream{tab1, tab2} {
		var got chatapi.Request
		tab.NextNamed(t, chatapi.EventRequest, 10*time.Second, &got)
		if got != (chatapi.Request{JID: b.JID, Answer: chatapi.RequestDeclined}) {
			t.Errorf("tab %d: %+v", i+1, got)
		}
	}
	after := availableClient(t, srv, a)
	plainNone(t, after, 3*time.Second, `type='subscribe'`, b.JID)

	// b's roster (a alone in it) shows no request waiting any more.
	if raw := string(rawIQ(t, bc, "get", "", `<query xmlns='jabber:iq:roster'/>`).Raw); strings.Contains(raw, "ask=") {
		t.Errorf("b's roster still asks: %s", raw)
	}
}
