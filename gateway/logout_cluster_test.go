package gateway_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// TestIntegrationClusterLogout: with two nodes, a logout ends the streams
// of its token on the other node too, and only those; a logout everywhere
// sent to the node that does not own the session ends the streams on both
// nodes and closes the session on the owner.
func TestIntegrationClusterLogout(t *testing.T) {
	n1, n2, _ := remoteNodes(t, 5*time.Second, nil, nil, nil)
	a := ejabberdtest.NewUser(t)
	first := n1.Login(t, a.Name, a.Password) // the session opens on node 1
	second := n1.Login(t, a.Name, a.Password)
	open := func(n *env, tok string) *gatewaytest.Stream {
		t.Helper()
		s, r := n.Open(t, tok, "")
		if r.Status != 200 {
			t.Fatalf("stream: %d %s", r.Status, r.Body)
		}
		s.NextNamed(t, chatapi.EventConnect, 5*time.Second, nil)
		return s
	}
	firstOn2 := open(n2, first)
	secondOn1, secondOn2 := open(n1, second), open(n2, second)
	closed := func(s *gatewaytest.Stream, what string) {
		t.Helper()
		var cl chatapi.Close
		s.NextNamed(t, chatapi.EventClose, 10*time.Second, &cl)
		if cl.Reason != chatapi.CloseLogout || cl.Resume {
			t.Errorf("%s closed with %+v, want logout", what, cl)
		}
	}

	if r := n1.Do(t, "POST", api+"/logout", first, "", ""); r.Status != 200 {
		t.Fatalf("logout on node 1: %d %s", r.Status, r.Body)
	}
	closed(firstOn2, "the first login's stream on node 2")
	for _, s := range []*gatewaytest.Stream{secondOn1, secondOn2} {
		if ev, err := s.TryNext(500 * time.Millisecond); err == nil && ev.Name == chatapi.EventClose {
			t.Fatalf("a stream of the second login ended with the first's logout: %s", ev.Data)
		}
	}
	if n1.gw.SessionRooms(a.JID) == nil {
		t.Fatal("node 1's session closed though the second login is signed in")
	}

	if r := n2.Do(t, "POST", api+"/logout/all", second, "", ""); r.Status != 200 {
		t.Fatalf("logout everywhere on node 2: %d %s", r.Status, r.Body)
	}
	closed(secondOn2, "the second login's stream on node 2")
	closed(secondOn1, "the second login's stream on node 1, the owner")
	for deadline := time.Now().Add(10 * time.Second); n1.gw.SessionRooms(a.JID) != nil; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("node 1's session outlived the logout everywhere sent to node 2")
		}
	}
	// Node 1 trusts its view of the store's revocations for up to
	// auth.DefaultRevocationRecheck (1 s): then the token is refused there.
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		r := n1.Do(t, "GET", api+"/roster", second, "", "")
		if r.Status == 401 && strings.Contains(string(r.Body), "revoked") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the signed-out token on node 1: %d %s, want 401", r.Status, r.Body)
		}
	}
}

// TestIntegrationClusterLogins: with two nodes, a device signed out
// (DELETE /logins/{id}) through the node that does not own the session
// loses its streams on both nodes, and only its own; the owner's session
// goes on for the other login, and closes when that one is signed out the
// same way (its last login).
func TestIntegrationClusterLogins(t *testing.T) {
	n1, n2, _ := remoteNodes(t, 5*time.Second, nil, nil, nil)
	a := ejabberdtest.NewUser(t)
	lost := n1.Login(t, a.Name, a.Password) // the session opens on node 1
	kept := n1.Login(t, a.Name, a.Password)
	lostOn1, lostOn2, keptOn1 := n1.OpenConnected(t, lost, ""), n2.OpenConnected(t, lost, ""), n1.OpenConnected(t, kept, "")
	var ls gateway.Logins
	if r := n2.Do(t, "GET", api+"/logins", kept, "", ""); r.Status != 200 {
		t.Fatalf("GET /logins on node 2: %d %s", r.Status, r.Body)
	} else {
		r.JSON(t, &ls)
	}
	if len(ls.Logins) != 2 {
		t.Fatalf("logins: %+v", ls.Logins)
	}
	var lostID, keptID string
	for _, l := range ls.Logins {
		if l.Current {
			keptID = l.Id
		} else {
			lostID = l.Id
		}
	}

	if r := n2.Do(t, "DELETE", api+"/logins/"+lostID, kept, "", ""); r.Status != 200 {
		t.Fatalf("sign the lost device out on node 2: %d %s", r.Status, r.Body)
	}
	for _, s := range []*gatewaytest.Stream{lostOn2, lostOn1} {
		var cl chatapi.Close
		s.NextNamed(t, chatapi.EventClose, 10*time.Second, &cl)
		if cl.Reason != chatapi.CloseLogout || cl.Resume {
			t.Errorf("the lost device's stream closed with %+v, want logout", cl)
		}
	}
	if ev, err := keptOn1.TryNext(500 * time.Millisecond); err == nil && ev.Name == chatapi.EventClose {
		t.Fatalf("the kept login's stream ended: %s", ev.Data)
	}
	if n1.gw.SessionRooms(a.JID) == nil {
		t.Fatal("node 1's session closed though the other login is signed in")
	}

	if r := n2.Do(t, "DELETE", api+"/logins/"+keptID, kept, "", ""); r.Status != 200 {
		t.Fatalf("sign the last device out on node 2: %d %s", r.Status, r.Body)
	}
	for deadline := time.Now().Add(10 * time.Second); n1.gw.SessionRooms(a.JID) != nil; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("node 1's session outlived its last login, signed out through node 2")
		}
	}
}
