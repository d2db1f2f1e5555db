package gateway_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// TestIntegrationStreamTicket: a ticket from POST /sse/ticket opens one
// event stream in place of the token (?ticket=), within a minute, and
// never a second one; it is no token anywhere else; the stream it opened
// is its token's, and ends with the token's logout, which also makes the
// token's unused tickets worthless.
func TestIntegrationStreamTicket(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tb := e.Login(t, a.Name, a.Password), e.Login(t, b.Name, b.Password)
	ticket := func(tok string) gateway.StreamTicket {
		t.Helper()
		r := e.Do(t, http.MethodPost, api+"/sse/ticket", tok, "", "")
		if r.Status != http.StatusOK {
			t.Fatalf("ticket: %d %s", r.Status, r.Body)
		}
		var st gateway.StreamTicket
		if err := json.Unmarshal(r.Body, &st); err != nil || st.Ticket == "" {
			t.Fatalf("ticket body %s: %v", r.Body, err)
		}
		return st
	}
	first := ticket(ta)
	if left := time.Until(first.ExpiresAt); left <= 0 || left > 61*time.Second {
		t.Fatalf("the ticket expires in %v, want within a minute", left)
	}
	s, r := e.OpenTicket(t, first.Ticket, "")
	if s == nil {
		t.Fatalf("stream with a ticket: %d %s", r.Status, r.Body)
	}
	s.NextNamed(t, chatapi.EventConnect, 10*time.Second, nil)
	// The stream is a's: b's message reaches it.
	if r := e.Do(t, http.MethodPost, api+"/chat/message/"+a.JID, tb, "text/plain", "over a ticket"); r.Status != http.StatusOK {
		t.Fatalf("send: %d %s", r.Status, r.Body)
	}
	var m chatapi.Chat
	for m.Body != "over a ticket" {
		s.NextNamed(t, chatapi.EventChat, 10*time.Second, &m)
	}

	unused := ticket(ta)
	for _, tc := range []struct {
		name string
		do   func() int
	}{
		{"the same ticket again", func() int { _, r := e.OpenTicket(t, first.Ticket, ""); return r.Status }},
		{"a ticket as a token in the URL", func() int { _, r := e.Open(t, unused.Ticket, ""); return r.Status }},
		{"a ticket as a bearer token", func() int { return e.Do(t, http.MethodGet, api+"/chat/unread", unused.Ticket, "", "").Status }},
		{"a ticket without a token", func() int { return e.Do(t, http.MethodPost, api+"/sse/ticket", "", "", "").Status }},
		{"a ticket for a ticket", func() int { return e.Do(t, http.MethodPost, api+"/sse/ticket", unused.Ticket, "", "").Status }},
		{"a made-up ticket", func() int { _, r := e.OpenTicket(t, "not.a.ticket", ""); return r.Status }},
	} {
		if got := tc.do(); got != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", tc.name, got)
		}
	}

	if r := e.Do(t, http.MethodPost, api+"/logout", ta, "", ""); r.Status != http.StatusOK {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	var cl chatapi.Close
	s.NextNamed(t, chatapi.EventClose, 10*time.Second, &cl)
	if cl.Reason != chatapi.CloseLogout {
		t.Fatalf("the ticket's stream closed with %+v, want logout", cl)
	}
	if _, r := e.OpenTicket(t, unused.Ticket, ""); r.Status != http.StatusUnauthorized {
		t.Fatalf("a ticket of a logged-out token: %d %s, want 401", r.Status, r.Body)
	}
}

// TestIntegrationStreamTokenQueryRefused: with RefuseQueryToken
// (-stream-token-query=false) the stream refuses ?token=, and a ticket
// still opens it.
func TestIntegrationStreamTokenQueryRefused(t *testing.T) {
	t.Parallel()
	e := newGateway(t, func(c *gateway.Config) { c.Auth.RefuseQueryToken = true })
	a := ejabberdtest.NewUser(t)
	ta := e.Login(t, a.Name, a.Password)
	if s, r := e.Open(t, ta, ""); s != nil || r.Status != http.StatusUnauthorized {
		t.Fatalf("?token= with query tokens refused: %d %s, want 401", r.Status, r.Body)
	}
	r := e.Do(t, http.MethodPost, api+"/sse/ticket", ta, "", "")
	var st gateway.StreamTicket
	if r.Status != http.StatusOK || json.Unmarshal(r.Body, &st) != nil {
		t.Fatalf("ticket: %d %s", r.Status, r.Body)
	}
	s, r := e.OpenTicket(t, st.Ticket, "")
	if s == nil {
		t.Fatalf("stream with a ticket: %d %s", r.Status, r.Body)
	}
	s.NextNamed(t, chatapi.EventConnect, 10*time.Second, nil)
}
