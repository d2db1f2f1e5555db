package gateway_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// TestIntegrationLastSeen: GET /presence/{contact} of a contact who is
// signed in has no lastSeen; once the contact's last client has signed
// out, the presence is unavailable with lastSeen a moment ago and the
// status the contact left with. A stranger's stays 403.
func TestIntegrationLastSeen(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	lastSeen(t, e, e)
}

// TestIntegrationRemoteLastSeen: the same asked on a node that does not
// own the session (the question is carried to the owner).
func TestIntegrationRemoteLastSeen(t *testing.T) {
	n1, n2, _ := remoteNodes(t, 5*time.Second, nil, nil, nil)
	lastSeen(t, n1, n2)
}

// lastSeen is TestIntegrationLastSeen with the user's session on the node
// e, asked through the node ask.
func lastSeen(t *testing.T, e, ask *env) {
	srv := ejabberdtest.Shared(t)
	a, b, c := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta := e.Login(t, a.Name, a.Password)
	stream := e.OpenConnected(t, ta, "")
	bc := availableClient(t, srv, b)
	befriend(t, e, ta, stream, a, b, bc)

	presence := func() gateway.PresenceEntity {
		t.Helper()
		r := ask.Do(t, "GET", api+"/presence/"+b.JID, ta, "", "")
		if r.Status != http.StatusOK {
			t.Fatalf("GET /presence/b: %d %s", r.Status, r.Body)
		}
		var p gateway.PresenceEntity
		r.JSON(t, &p)
		return p
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		p := presence()
		if p.Show != nil && *p.Show != gateway.PresenceEntityShowUnavailable {
			if p.LastSeen != nil {
				t.Errorf("b, signed in: lastSeen %v", *p.LastSeen)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a never saw b online: %+v", p)
		}
	}

	if err := bc.SendRaw(t.Context(), []byte(`<presence type='unavailable'><status>Off to the mountains</status></presence>`)); err != nil {
		t.Fatal(err)
	}
	if err := bc.Close(context.Background()); err != nil {
		t.Logf("close b's client: %v", err)
	}
	left := time.Now()
	var p gateway.PresenceEntity
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		p = presence()
		// The server counts whole seconds: 0 in the second b left.
		if p.LastSeen != nil || time.Now().After(deadline) {
			break
		}
	}
	if p.Show == nil || *p.Show != gateway.PresenceEntityShowUnavailable || p.LastSeen == nil {
		t.Fatalf("b, signed out: %+v, want unavailable with lastSeen", p)
	}
	if d := left.Sub(*p.LastSeen); d < -2*time.Second || d > 30*time.Second {
		t.Errorf("b left at %v; lastSeen says %v", left.UTC(), p.LastSeen.UTC())
	}
	if p.Status == nil || *p.Status != "Off to the mountains" {
		t.Errorf("b's status on leaving: %v", p.Status)
	}

	if r := ask.Do(t, "GET", api+"/presence/"+c.JID, ta, "", ""); r.Status != http.StatusForbidden {
		t.Errorf("a stranger's presence: %d %s, want 403", r.Status, r.Body)
	}
}
