package gateway_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// TestIntegrationFaultRoomsEjabberdDown: with ejabberd unreachable, every
// room operation that needs it answers 502 with the JSON error, never a
// 500 or a hang, for a room the user is in and for one it is not.
func TestIntegrationFaultRoomsEjabberdDown(t *testing.T) {
	srv := ejabberdtest.Start(t)
	e := newGateway(t, func(c *gateway.Config) {
		c.XMPP.Addr = srv.C2SAddr()
		c.Directory = ejabberdtest.AdminFor(srv)
		c.Sessions.ReconnectMin = time.Minute // it stays down for the test
		c.Sessions.ReconnectMax = time.Minute
	})
	a := ejabberdtest.NewUserOn(t, srv)
	ta := e.Login(t, a.Name, a.Password)
	room := "down" + strings.ToLower(a.Name[1:9])
	rp := api + "/groupchat/room/" + room
	if r := e.Do(t, "PUT", rp+"?nick=alice", ta, "", ""); r.Status != 200 {
		t.Fatalf("join: %d %s", r.Status, r.Body)
	}
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	// The session notices the closed connection within moments.
	msgEventually(t, 10*time.Second, func() string {
		if r := e.Do(t, "GET", rp, ta, "", ""); r.Status != 502 {
			return "room info still answers " + string(r.Body)
		}
		return ""
	})
	other := api + "/groupchat/room/else" + strings.ToLower(a.Name[1:9])
	for _, tt := range []struct {
		name, method, path, ct, body string
	}{
		{"join another", "PUT", other + "?nick=alice", "", ""},
		{"post", "POST", rp, "text/plain", "anyone there?"},
		{"subject", "PUT", rp + "/subject", "text/plain", "down"},
		{"room info", "GET", rp, "", ""},
		{"config", "GET", rp + "/config", "", ""},
		{"affiliations", "GET", rp + "/affiliations/member", "", ""},
		{"kick", "PUT", rp + "/roles/bob?role=none", "", ""},
		{"room list", "GET", api + "/groupchat/rooms", "", ""},
		{"destroy", "DELETE", rp + "/config", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.Do(t, tt.method, tt.path, ta, tt.ct, tt.body)
			var body struct {
				Code, Message string
			}
			if r.Status != 502 || json.Unmarshal(r.Body, &body) != nil || body.Message == "" {
				t.Fatalf("%s %s with ejabberd down: %d %s, want 502 and a JSON error", tt.method, tt.path, r.Status, r.Body)
			}
		})
	}
}
