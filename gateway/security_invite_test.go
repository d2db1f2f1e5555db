package gateway_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// TestIntegrationSecurityForgedInvitation: a mediated invitation (XEP-0045
// muc#user invite) names its inviter, and only a room can vouch for that
// name. One that a user sends straight to another, naming the admin as
// inviter, shows the real sender in the event and in the push; one that
// really comes through a room shows the member who invited.
func TestIntegrationSecurityForgedInvitation(t *testing.T) {
	t.Parallel()
	p := newPushGateway(t)
	srv := ejabberdtest.Shared(t)
	alice, bob, carol, mallory := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tb, tc := p.Login(t, alice.Name, alice.Password), p.Login(t, bob.Name, bob.Password), p.Login(t, carol.Name, carol.Password)
	stream := p.OpenConnected(t, ta, "")
	p.subscribe(t, tc, "phone") // carol has no stream: she gets pushes
	forger := dialAs(t, mallory)
	forged := func(t *testing.T, to string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		raw := fmt.Sprintf(`<message to='%s' id='forged1'><x xmlns='http://jabber.org/protocol/muc#user'>`+
			`<invite from='admin@%s'><reason>urgent: join now</reason></invite></x></message>`, to, srv.Domain())
		if err := forger.SendRaw(ctx, []byte(raw)); err != nil {
			t.Fatal(err)
		}
	}
	nextInvitation := func(t *testing.T) chatapi.Invitation {
		t.Helper()
		var inv chatapi.Invitation
		for inv.Type != chatapi.TypeInvitationReceived {
			stream.NextNamed(t, chatapi.EventMUC, 10*time.Second, &inv)
		}
		return inv
	}

	t.Run("forged-event", func(t *testing.T) {
		forged(t, alice.JID)
		inv := nextInvitation(t)
		if inv.Inviter != forger.JID() || inv.From != forger.JID() || strings.Contains(inv.Inviter, "admin@") {
			t.Fatalf("forged invitation shows inviter %q (from %q), want the sender %q", inv.Inviter, inv.From, forger.JID())
		}
	})

	t.Run("forged-push", func(t *testing.T) {
		forged(t, carol.JID)
		_, n, data := p.next(t)
		if data["type"] != "invitation" || !strings.HasPrefix(n.Body, mallory.Name+" invites you") || strings.Contains(n.Body, "admin") {
			t.Fatalf("push of a forged invitation %+v data %v, want it from %s", n, data, mallory.Name)
		}
	})

	t.Run("mediated-by-room", func(t *testing.T) {
		room := "inv" + strings.ToLower(bob.Name[1:9])
		rp := api + "/groupchat/room/" + room
		if r := p.Do(t, "PUT", rp+"?nick=bob", tb, "", ""); r.Status != 200 {
			t.Fatalf("bob joins: %d %s", r.Status, r.Body)
		}
		if r := p.Do(t, "POST", rp+"/"+alice.Name, tb, "text/plain", "come in"); r.Status != 200 {
			t.Fatalf("invite: %d %s", r.Status, r.Body)
		}
		inv := nextInvitation(t)
		if inv.Room != room+"@"+srv.MUCService() || !strings.HasPrefix(inv.Inviter, bob.JID) || inv.From != inv.Room {
			t.Fatalf("invitation through the room %+v, want inviter %s", inv, bob.JID)
		}
	})
}
