package gateway_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// TestIntegrationRoomsHistoryLengthUnoffered: ejabberd 23.01's room
// configuration form has no history length (muc#maxhistoryfetch; what a
// newcomer gets is mod_muc's history_size, the same for every room), as
// the owner's form fetched from a real room shows. Asked for at creation,
// it is refused with 400 before anything is submitted and the room is
// destroyed again: nothing is left behind, and the same name is then
// created with the options asked for. In the configuration of an existing
// room it is refused the same way and nothing changes. Every other
// creation option is applied and read back, and the room outlives its
// last occupant.
func TestIntegrationRoomsHistoryLengthUnoffered(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tb := e.Login(t, a.Name, a.Password), e.Login(t, b.Name, b.Password)
	room := "hist" + strings.ToLower(a.Name[1:9])
	rp := api + "/groupchat/room/" + room
	unoffered := func(what string, status int, body []byte) {
		t.Helper()
		var got struct{ Code, Message string }
		if status != 400 || json.Unmarshal(body, &got) != nil || got.Code != "bad_request" || !strings.Contains(got.Message, "muc#maxhistoryfetch") {
			t.Fatalf("%s: %d %s, want 400 bad_request naming muc#maxhistoryfetch", what, status, body)
		}
	}

	r := e.Do(t, "PUT", rp+"?nick=alice&historyLength=5&naturalName=Gone", ta, "", "")
	unoffered("created with historyLength", r.Status, r.Body)
	r = e.Do(t, "GET", rp, ta, "", "")
	if r.Status == 504 {
		// Once in make test (2026-12-05) the room's disco#info, sent
		// right after ejabberd answered the destroy, got no answer at
		// all: most likely routed to the room's process as it stopped.
		// The gateway's 504 is right for that; the room must be gone
		// when asked again.
		t.Logf("the room right after its destruction: %d %s; asking again", r.Status, r.Body)
		r = e.Do(t, "GET", rp, ta, "", "")
	}
	if r.Status != 404 {
		t.Fatalf("the room after the refused creation: %d %s, want 404 (destroyed again)", r.Status, r.Body)
	}
	if r = e.Do(t, "GET", api+"/groupchat/rooms?search="+room, ta, "", ""); r.Status != 200 || strings.Contains(string(r.Body), room) {
		t.Fatalf("room list after the refused creation: %d %s", r.Status, r.Body)
	}
	if list, err := e.Store.Joined(t.Context(), a.JID); err != nil || len(list) != 0 {
		t.Fatalf("joined rooms after the refused creation: %v %v", list, err)
	}

	q := url.Values{"nick": {"alice"}, "naturalName": {"Kept"}, "description": {"all options"}, "membersOnly": {"true"},
		"moderated": {"true"}, "publicRoom": {"false"}, "roomPassword": {"s3cret"}}
	if r = e.Do(t, "PUT", rp+"?"+q.Encode(), ta, "", ""); r.Status != 200 {
		t.Fatalf("created without historyLength: %d %s", r.Status, r.Body)
	}
	var cfg struct {
		Options map[string]any
		Fields  []struct {
			Var    string
			Values []string
		}
	}
	readConfig := func() {
		t.Helper()
		r := e.Do(t, "GET", rp+"/config", ta, "", "")
		if r.Status != 200 {
			t.Fatalf("config: %d %s", r.Status, r.Body)
		}
		cfg.Options, cfg.Fields = nil, nil
		r.JSON(t, &cfg)
	}
	readConfig()
	for k, want := range map[string]any{"persistent": true, "naturalName": "Kept", "description": "all options", "membersOnly": true,
		"moderated": true, "publicRoom": false, "passwordProtected": true} {
		if cfg.Options[k] != want {
			t.Errorf("option %s = %v, want %v (options %v)", k, cfg.Options[k], want, cfg.Options)
		}
	}
	if _, ok := cfg.Options["historyLength"]; ok {
		t.Errorf("historyLength read back from a form without it: %v", cfg.Options)
	}
	for _, f := range cfg.Fields {
		if f.Var == "muc#maxhistoryfetch" {
			t.Fatalf("ejabberd's owner form offers muc#maxhistoryfetch now (%v): historyLength can work, change the spec and README", f)
		}
	}
	if len(cfg.Fields) < 10 {
		t.Fatalf("owner form of %d fields: %v", len(cfg.Fields), cfg.Fields)
	}
	// The password and members-only hold: bob, no member, is refused
	// with the password and without it.
	for _, p := range []string{"", "&password=s3cret"} {
		if r = e.Do(t, "PUT", rp+"?nick=bob"+p, tb, "", ""); r.Status != 403 {
			t.Fatalf("bob joins (%q): %d %s, want 403", p, r.Status, r.Body)
		}
	}

	r = e.Do(t, "PUT", rp+"/config", ta, "application/json", `{"options":{"historyLength":5,"moderated":false}}`)
	unoffered("configured with historyLength", r.Status, r.Body)
	r = e.Do(t, "PUT", rp+"/config", ta, "application/json", `{"fields":[{"var":"muc#roomconfig_nosuch","values":["1"]}]}`)
	if r.Status != 400 || !strings.Contains(string(r.Body), "muc#roomconfig_nosuch") {
		t.Fatalf("configured with a field the form has not: %d %s", r.Status, r.Body)
	}
	readConfig()
	if cfg.Options["moderated"] != true {
		t.Fatalf("a refused configuration changed the room: %v", cfg.Options)
	}
	if r = e.Do(t, "PUT", rp+"/config", ta, "application/json", `{"options":{"moderated":false}}`); r.Status != 200 {
		t.Fatalf("configured without it: %d %s", r.Status, r.Body)
	}
	readConfig()
	if cfg.Options["moderated"] != false {
		t.Fatalf("configuration not taken: %v", cfg.Options)
	}
	// Persistent by default: the room outlives its last occupant.
	if r = e.Do(t, "DELETE", rp, ta, "", ""); r.Status != 200 {
		t.Fatalf("leave: %d %s", r.Status, r.Body)
	}
	readConfig() // the owner reads it from outside (404 if it were gone)
	if cfg.Options["persistent"] != true {
		t.Fatalf("the room after its last occupant left: %v", cfg.Options)
	}
}
