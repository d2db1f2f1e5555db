package gateway_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// TestIntegrationRoomsHistoryLengthRefused: ejabberd 23.01's rooms have
// no history length (muc#maxhistoryfetch): asked for at creation or in
// the configuration, the form is refused with internal-server-error, and
// the gateway answers what the spec and the README say: 502,
// xmpp_unavailable. The room created on the way keeps ejabberd's
// defaults, and the configuration without it is taken.
func TestIntegrationRoomsHistoryLengthRefused(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	a := ejabberdtest.NewUser(t)
	ta := e.Login(t, a.Name, a.Password)
	room := "hist" + strings.ToLower(a.Name[1:9])
	rp := api + "/groupchat/room/" + room
	refused := func(what string, status int, body []byte) {
		t.Helper()
		var got struct{ Code, Message string }
		if status != 502 || json.Unmarshal(body, &got) != nil || got.Code != "xmpp_unavailable" || !strings.Contains(got.Message, "internal-server-error") {
			t.Fatalf("%s: %d %s, want 502 xmpp_unavailable (internal-server-error)", what, status, body)
		}
	}
	r := e.Do(t, "PUT", rp+"?nick=alice&historyLength=5", ta, "", "")
	refused("created with historyLength", r.Status, r.Body)
	r = e.Do(t, "GET", rp, ta, "", "")
	if r.Status != 200 || !strings.Contains(string(r.Body), `"persistent":false`) {
		t.Fatalf("the room after the refused creation: %d %s", r.Status, r.Body)
	}
	r = e.Do(t, "PUT", rp+"/config", ta, "application/json", `{"options":{"historyLength":5}}`)
	refused("configured with historyLength", r.Status, r.Body)
	if r = e.Do(t, "PUT", rp+"/config", ta, "application/json", `{"options":{"persistent":true}}`); r.Status != 200 {
		t.Fatalf("configured without it: %d %s", r.Status, r.Body)
	}
}
