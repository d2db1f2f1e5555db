package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// plainUntil reads a plain client's stanzas until one contains all of
// parts, and returns its raw XML.
func plainUntil(t *testing.T, c *xmppconn.Conn, parts ...string) string {
	t.Helper()
	return plainWithin(t, c, 10*time.Second, parts...)
}

// plainWithin is plainUntil with a wait of its own.
func plainWithin(t *testing.T, c *xmppconn.Conn, wait time.Duration, parts ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	for {
		st, err := c.Next(ctx)
		if err != nil {
			t.Fatalf("plain client: nothing with %q within %v: %v", parts, wait, err)
		}
		raw := string(st.Raw)
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(raw, p)
		}
		if ok {
			return raw
		}
	}
}

// plainJoin enters room as nick from a plain client.
func plainJoin(t *testing.T, c *xmppconn.Conn, room, nick string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	raw := fmt.Sprintf(`<presence to='%s/%s'><x xmlns='http://jabber.org/protocol/muc'/></presence>`, room, nick)
	if err := c.SendRaw(ctx, []byte(raw)); err != nil {
		t.Fatal(err)
	}
	plainUntil(t, c, "from='"+room+"/"+nick+"'", "110")
}

// roomWithPlain starts a gateway on dir in which a new user (alice) with
// an open stream joins a new room (its name starts with prefix), and a
// plain client (bob) joins it too.
func roomWithPlain(t *testing.T, dir, prefix string) (first *env, a ejabberdtest.User, s1 *gatewaytest.Stream, plain *xmppconn.Conn, roomJID string) {
	t.Helper()
	first = startEnv(t, gatewayenv.Options{Plain: true, Dir: dir})
	srv := ejabberdtest.Shared(t)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta := first.Login(t, a.Name, a.Password)
	s1, _ = first.Open(t, ta, "")
	s1.NextNamed(t, chatapi.EventConnect, 5*time.Second, nil)
	plain = dialAs(t, b)
	room := prefix + strings.ToLower(a.Name[1:9])
	roomJID = room + "@" + srv.MUCService()
	if r := first.Do(t, "PUT", api+"/groupchat/room/"+room+"?nick=alice", ta, "", ""); r.Status != 200 {
		t.Fatalf("join: %d %s", r.Status, r.Body)
	}
	plainJoin(t, plain, roomJID, "bob")
	return first, a, s1, plain, roomJID
}

// plainSay posts body (also its id) to room from a plain client that is
// in it, and returns once the room echoed it (so it is archived).
func plainSay(t *testing.T, plain *xmppconn.Conn, room, body string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	raw := fmt.Sprintf(`<message to='%s' type='groupchat' id='%s'><body>%s</body></message>`, room, body, body)
	if err := plain.SendRaw(ctx, []byte(raw)); err != nil {
		t.Fatal(err)
	}
	plainUntil(t, plain, "<body>"+body+"</body>")
}

// nextPresence reads a stream until a presence from from.
func nextPresence(t *testing.T, s *gatewaytest.Stream, from string) chatapi.Presence {
	t.Helper()
	var p chatapi.Presence
	for p.From != from || p.PresenceType != chatapi.PresenceUnavailable {
		p = chatapi.Presence{}
		s.NextNamed(t, chatapi.EventPresence, 10*time.Second, &p)
	}
	return p
}

// TestIntegrationRoomsLast: a room created through the API is persistent
// with the options given, its owner reads and writes its configuration,
// sets its subject, kicks, bans, grants and lists affiliations, and
// destroys it;
// a plain XMPP client in the room sees each effect, and the kicked,
// banned and destroyed members' events say why they left.
func TestIntegrationRoomsLast(t *testing.T) {
	e := newGateway(t, nil)
	srv := ejabberdtest.Shared(t)
	a, b, c, d := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tb, td := e.Login(t, a.Name, a.Password), e.Login(t, b.Name, b.Password), e.Login(t, d.Name, d.Password)
	sb, _ := e.Open(t, tb, "")
	sd, _ := e.Open(t, td, "")
	for _, s := range []*gatewaytest.Stream{sb, sd} {
		s.NextNamed(t, chatapi.EventConnect, 5*time.Second, nil)
	}
	plain := dialAs(t, c)
	room := "last" + strings.ToLower(a.Name[1:9])
	roomJID := room + "@" + srv.MUCService()
	rp := api + "/groupchat/room/" + room

	runMsgCalls(t, e, []msgCall{
		{name: "create with options", method: "PUT", path: rp + "?nick=alice&naturalName=" + url.QueryEscape("The Lasting Room") + "&description=kept", token: ta, status: 200},
		{name: "owner reads config", method: "GET", path: rp + "/config", token: ta, status: 200, check: func(t *testing.T, r gatewaytest.Response) {
			var v struct {
				Options struct {
					NaturalName, Description string
					Persistent               bool
				}
				Fields []struct {
					Var    string
					Values []string
				}
			}
			r.JSON(t, &v)
			if !v.Options.Persistent || v.Options.NaturalName != "The Lasting Room" || v.Options.Description != "kept" || len(v.Fields) < 5 {
				t.Fatalf("config %s", r.Body)
			}
		}},
		{name: "non-owner config", method: "GET", path: rp + "/config", token: tb, status: 403},
		{name: "unknown room config", method: "GET", path: rp + "nosuch/config", token: ta, status: 404},
		{name: "owner writes config", method: "PUT", path: rp + "/config", token: ta, ct: "application/json", body: `{"options":{"moderated":true,"changeSubject":false},"fields":[{"var":"muc#roomconfig_allowinvites","values":["1"]}]}`, status: 200},
		{name: "non-owner writes config", method: "PUT", path: rp + "/config", token: tb, ct: "application/json", body: `{"options":{"moderated":false}}`, status: 403},
		{name: "empty config", method: "PUT", path: rp + "/config", token: ta, ct: "application/json", body: `{}`, status: 400},
		{name: "info shows the options", method: "GET", path: rp, token: ta, status: 200, check: func(t *testing.T, r gatewaytest.Response) {
			var v map[string]any
			r.JSON(t, &v)
			if v["persistent"] != true || v["moderated"] != true || v["naturalName"] != "The Lasting Room" {
				t.Fatalf("room %v", v)
			}
		}},
		{name: "bob joins", method: "PUT", path: rp + "?nick=bob", token: tb, status: 200},
		{name: "dave joins", method: "PUT", path: rp + "?nick=dave", token: td, status: 200},
	})
	runMsgCalls(t, e, []msgCall{
		{name: "room list with occupant counts", method: "GET", path: api + "/groupchat/rooms?search=" + url.QueryEscape("Lasting"), token: tb, status: 200, check: func(t *testing.T, r gatewaytest.Response) {
			var v struct {
				ChatRooms []struct {
					RoomName  string
					Occupants int
				}
			}
			r.JSON(t, &v)
			if len(v.ChatRooms) != 1 || v.ChatRooms[0].RoomName != room || v.ChatRooms[0].Occupants != 3 {
				t.Fatalf("rooms %s", r.Body)
			}
		}},
	})
	plainJoin(t, plain, roomJID, "carol")
	for _, u := range []ejabberdtest.User{a, b, d} {
		joinedHas(t, e, u.JID, roomJID, true)
	}

	t.Run("subject", func(t *testing.T) {
		// 1,024 characters (not bytes) at most: 1,025 is refused, 1,024 of
		// a four-byte character fits.
		for _, tt := range []struct {
			subject string
			want    int
		}{{strings.Repeat("s", 1025), 400}, {strings.Repeat("😀", 1024), 200}} {
			if r := e.Do(t, "PUT", rp+"/subject", ta, "text/plain", tt.subject); r.Status != tt.want {
				t.Fatalf("subject of %d characters: %d %s, want %d", len([]rune(tt.subject)), r.Status, r.Body, tt.want)
			}
		}
		if r := e.Do(t, "PUT", rp+"/subject", ta, "text/plain", "plans for today"); r.Status != 200 {
			t.Fatalf("subject: %d %s", r.Status, r.Body)
		}
		plainUntil(t, plain, "<subject>plans for today</subject>")
		nextSubject(t, sb, "plans for today")
		msgEventually(t, 5*time.Second, func() string {
			r := e.Do(t, "GET", rp, tb, "", "")
			if !strings.Contains(string(r.Body), `"subject":"plans for today"`) {
				return "room info without the subject: " + string(r.Body)
			}
			return ""
		})
		// Occupants may not change it now (changeSubject false, bob is no
		// moderator): the room's refusal is the answer, and the subject
		// stays.
		if r := e.Do(t, "PUT", rp+"/subject", tb, "text/plain", "mine"); r.Status != 403 {
			t.Fatalf("subject by bob: %d %s, want 403", r.Status, r.Body)
		}
		if r := e.Do(t, "GET", rp, tb, "", ""); !strings.Contains(string(r.Body), `"subject":"plans for today"`) {
			t.Fatalf("room info after bob's refused subject: %s", r.Body)
		}
	})

	t.Run("voice", func(t *testing.T) {
		if r := e.Do(t, "PUT", rp+"/roles/bob?role=visitor", ta, "", ""); r.Status != 200 {
			t.Fatalf("revoke voice: %d %s", r.Status, r.Body)
		}
		plainUntil(t, plain, "from='"+roomJID+"/bob'", "role='visitor'")
		if r := e.Do(t, "PUT", rp+"/roles/bob?role=participant", ta, "", ""); r.Status != 200 {
			t.Fatalf("grant voice: %d %s", r.Status, r.Body)
		}
		plainUntil(t, plain, "from='"+roomJID+"/bob'", "role='participant'")
	})

	runMsgCalls(t, e, []msgCall{
		{name: "kick by non-moderator", method: "PUT", path: rp + "/roles/dave?role=none", token: tb, status: 403},
		{name: "kick bad role", method: "PUT", path: rp + "/roles/dave?role=king", token: ta, status: 400},
	})

	t.Run("kick", func(t *testing.T) {
		if r := e.Do(t, "PUT", rp+"/roles/bob?role=none&reason=too+loud", ta, "", ""); r.Status != 200 {
			t.Fatalf("kick: %d %s", r.Status, r.Body)
		}
		plainUntil(t, plain, "from='"+roomJID+"/bob'", "type='unavailable'", "307")
		p := nextPresence(t, sb, roomJID+"/bob")
		if !containsCode(p.Codes, "307") || !containsCode(p.Codes, "110") || p.Reason != "too loud" {
			t.Fatalf("kicked event %+v", p)
		}
		if r := e.Do(t, "POST", rp, tb, "text/plain", "still here?"); r.Status != 403 {
			t.Fatalf("post after the kick: %d %s", r.Status, r.Body)
		}
		joinedHas(t, e, b.JID, roomJID, false) // not entered again after a restart
	})

	t.Run("ban-and-affiliations", func(t *testing.T) {
		if r := e.Do(t, "PUT", rp+"/affiliations/outcast/"+d.Name+"?reason=spam", ta, "", ""); r.Status != 200 {
			t.Fatalf("ban: %d %s", r.Status, r.Body)
		}
		plainUntil(t, plain, "from='"+roomJID+"/dave'", "type='unavailable'", "301")
		p := nextPresence(t, sd, roomJID+"/dave")
		if !containsCode(p.Codes, "301") || p.Reason != "spam" {
			t.Fatalf("banned event %+v", p)
		}
		joinedHas(t, e, d.JID, roomJID, false)
		if r := e.Do(t, "PUT", rp+"/affiliations/member/"+b.Name, ta, "", ""); r.Status != 200 {
			t.Fatalf("member: %d %s", r.Status, r.Body)
		}
		// carol, the plain client, made an admin and then an owner: she
		// sees her own affiliation change, and the lists name her.
		for _, aff := range []string{"admin", "owner"} {
			if r := e.Do(t, "PUT", rp+"/affiliations/"+aff+"/"+c.JID, ta, "", ""); r.Status != 200 {
				t.Fatalf("%s: %d %s", aff, r.Status, r.Body)
			}
			plainUntil(t, plain, "from='"+roomJID+"/carol'", "affiliation='"+aff+"'")
			if r := e.Do(t, "GET", rp+"/affiliations/"+aff, ta, "", ""); r.Status != 200 || !strings.Contains(string(r.Body), c.JID) {
				t.Fatalf("%s list: %d %s", aff, r.Status, r.Body)
			}
		}
		runMsgCalls(t, e, []msgCall{
			{name: "outcasts", method: "GET", path: rp + "/affiliations/outcast", token: ta, status: 200, check: func(t *testing.T, r gatewaytest.Response) {
				if !strings.Contains(string(r.Body), d.JID) || strings.Contains(string(r.Body), b.JID) {
					t.Fatalf("outcasts %s", r.Body)
				}
			}},
			{name: "members", method: "GET", path: rp + "/affiliations/member", token: ta, status: 200, check: func(t *testing.T, r gatewaytest.Response) {
				if !strings.Contains(string(r.Body), b.JID) {
					t.Fatalf("members %s", r.Body)
				}
			}},
			{name: "owners", method: "GET", path: rp + "/affiliations/owner", token: ta, status: 200, check: func(t *testing.T, r gatewaytest.Response) {
				if !strings.Contains(string(r.Body), a.JID) {
					t.Fatalf("owners %s", r.Body)
				}
			}},
			{name: "list by non-admin", method: "GET", path: rp + "/affiliations/owner", token: tb, status: 403},
			{name: "banned rejoins", method: "PUT", path: rp + "?nick=dave", token: td, status: 403},
		})
	})

	t.Run("destroy", func(t *testing.T) {
		if r := e.Do(t, "DELETE", rp+"/config?reason=moved&alternate="+room+"new", tb, "", ""); r.Status != 403 {
			t.Fatalf("destroy by a member: %d %s", r.Status, r.Body)
		}
		if r := e.Do(t, "PUT", rp+"?nick=bob", tb, "", ""); r.Status != 200 {
			t.Fatalf("bob rejoins: %d %s", r.Status, r.Body)
		}
		if r := e.Do(t, "DELETE", rp+"/config?reason=moved&alternate="+room+"new", ta, "", ""); r.Status != 200 {
			t.Fatalf("destroy: %d %s", r.Status, r.Body)
		}
		plainUntil(t, plain, "type='unavailable'", "<destroy", room+"new@")
		p := nextPresence(t, sb, roomJID+"/bob")
		if !p.Destroyed || p.Reason != "moved" || p.Alternate != room+"new@"+srv.MUCService() {
			t.Fatalf("destroyed event %+v", p)
		}
		joinedHas(t, e, b.JID, roomJID, false)
		joinedHas(t, e, a.JID, roomJID, false)
		msgEventually(t, 10*time.Second, func() string {
			r := e.Do(t, "GET", api+"/groupchat/rooms?search="+room, ta, "", "")
			if r.Status != 200 || strings.Contains(string(r.Body), `"roomName":"`+room+`"`) {
				return fmt.Sprintf("room list after destroy: %d %s", r.Status, r.Body)
			}
			return ""
		})
	})
}

// joinedHas reports, once the user's stored joined rooms hold room (want
// true) or not (false), failing the test after 5 s.
func joinedHas(t *testing.T, e *env, user, room string, want bool) {
	t.Helper()
	msgEventually(t, 5*time.Second, func() string {
		list, err := e.Store.Joined(t.Context(), user)
		if err != nil {
			return err.Error()
		}
		has := false
		for _, j := range list {
			has = has || j.Room == room
		}
		if has != want {
			return fmt.Sprintf("%s's joined rooms %+v: has %s = %v, want %v", user, list, room, has, want)
		}
		return ""
	})
}

func containsCode(codes []string, c string) bool {
	for _, x := range codes {
		if x == c {
			return true
		}
	}
	return false
}

// TestIntegrationRoomsRejoinAfterRestart: a room joined before a gateway
// restart still delivers to its member after it: what a plain client
// said while the gateway was down arrives once, from the room's archive,
// nothing said before is repeated, and live messages follow. Leaving
// removes the room from the user's state.
func TestIntegrationRoomsRejoinAfterRestart(t *testing.T) {
	dir := t.TempDir()
	first, a, s1, plain, roomJID := roomWithPlain(t, dir, "stay")
	rp := api + "/groupchat/room/" + strings.TrimSuffix(roomJID, "@"+ejabberdtest.Shared(t).MUCService())
	say := func(t *testing.T, body string) { t.Helper(); plainSay(t, plain, roomJID, body) }
	say(t, "before")
	var m chatapi.GroupChat
	for m.Body != "before" {
		s1.NextNamed(t, chatapi.EventMUC, 10*time.Second, &m)
	}
	// A dying gateway loses up to roomPositionEvery (1 s) of read
	// positions, and its successor sends that much again (roompositions.go):
	// "before" must be stored as read before the kill for the check below.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		list, err := first.Store.Joined(t.Context(), a.JID)
		if err == nil && len(list) == 1 && list[0].LastID == m.StanzaID {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the position of %q (%s) is not stored: %+v %v", m.Body, m.StanzaID, list, err)
		}
	}

	first.Kill()
	say(t, "away1")
	say(t, "away2")

	second := startEnv(t, gatewayenv.Options{Plain: true, Dir: dir})
	ta2 := second.Login(t, a.Name, a.Password)
	s2, _ := second.Open(t, ta2, "")
	s2.NextNamed(t, chatapi.EventConnect, 5*time.Second, nil)
	// The room sees alice again. Twice, under make test's load, no
	// presence came: the first gateway's goodbye had been taken as a
	// removal from the room, which was forgotten (xmppconn's
	// TestRoomExitOnlyWhenMade has that case). 30 s tells a slow server
	// from a missing rejoin.
	plainWithin(t, plain, 30*time.Second, "from='"+roomJID+"/alice'")
	say(t, "after")
	got := s2.RoomBodiesUntil(t, "after", 15*time.Second)
	if strings.Join(got, ",") != "away1,away2,after" {
		t.Fatalf("room messages after the restart %v, want away1,away2,after (once each, nothing before)", got)
	}
	if r := second.Do(t, "DELETE", rp, ta2, "", ""); r.Status != 200 {
		t.Fatalf("leave: %d %s", r.Status, r.Body)
	}
	if list, err := second.Store.Joined(t.Context(), a.JID); err != nil || len(list) != 0 {
		t.Fatalf("joined rooms after leaving: %v %v", list, err)
	}
}

// TestIntegrationRoomsInviteGroup: an invitation with expandGroups to a
// shared roster group reaches each member (plain clients here), not the
// inviter, and not a user outside the group.
func TestIntegrationRoomsInviteGroup(t *testing.T) {
	e := newGateway(t, nil)
	srv := ejabberdtest.Shared(t)
	a, b, c, d := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	group := "sginv" + strings.ToLower(a.Name[1:9])
	dir := ejabberdtest.Admin(t)
	ctx := context.Background()
	if err := dir.CreateGroup(ctx, group, group, "", nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dir.DeleteGroup(context.Background(), group) })
	for _, u := range []ejabberdtest.User{a, b, c} {
		if err := dir.AddGroupMember(ctx, group, u.Name); err != nil {
			t.Fatal(err)
		}
	}
	pb, pc, pd := dialAs(t, b), dialAs(t, c), dialAs(t, d)
	for _, p := range []*xmppconn.Conn{pb, pc, pd} {
		// Online, so that invitations come at once, not from offline storage.
		if err := p.SendRaw(ctx, []byte(`<presence/>`)); err != nil {
			t.Fatal(err)
		}
	}
	ta := e.Login(t, a.Name, a.Password)
	room := "inv" + strings.ToLower(a.Name[1:9])
	rp := api + "/groupchat/room/" + room
	if r := e.Do(t, "PUT", rp+"?nick=alice", ta, "", ""); r.Status != 200 {
		t.Fatalf("join: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "POST", rp+"/"+group+"?expandGroups=true", ta, "text/plain", "team meeting"); r.Status != 200 {
		t.Fatalf("invite the group: %d %s", r.Status, r.Body)
	}
	for _, p := range []*xmppconn.Conn{pb, pc} {
		plainUntil(t, p, room+"@"+srv.MUCService(), "<invite", "team meeting")
	}
	// dave is not in the group: a direct invitation to him comes next,
	// and is the first invitation he sees.
	if r := e.Do(t, "POST", rp+"/"+d.Name+"?expandGroups=true", ta, "text/plain", "just you"); r.Status != 200 {
		t.Fatalf("invite a user: %d %s", r.Status, r.Body)
	}
	if raw := plainUntil(t, pd, "<invite"); !strings.Contains(raw, "just you") {
		t.Fatalf("dave got the group's invitation: %s", raw)
	}
}

// TestIntegrationRoomsOccupantSnapshot: entering a room gives one
// occupants event listing everyone, not one presence per occupant (nor a
// raw stanza per occupant); who comes later is a presence event.
func TestIntegrationRoomsOccupantSnapshot(t *testing.T) {
	e := newGateway(t, func(c *gateway.Config) { c.Sessions.RawEvents = true })
	srv := ejabberdtest.Shared(t)
	a, b, c, d := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tb := e.Login(t, a.Name, a.Password), e.Login(t, b.Name, b.Password)
	room := "snap" + strings.ToLower(a.Name[1:9])
	roomJID := room + "@" + srv.MUCService()
	rp := api + "/groupchat/room/" + room
	if r := e.Do(t, "PUT", rp+"?nick=alice", ta, "", ""); r.Status != 200 {
		t.Fatalf("alice joins: %d %s", r.Status, r.Body)
	}
	plainJoin(t, dialAs(t, c), roomJID, "carol")
	sb, _ := e.OpenRaw(t, tb, "")
	sb.NextNamed(t, chatapi.EventConnect, 5*time.Second, nil)
	if r := e.Do(t, "PUT", rp+"?nick=bob", tb, "", ""); r.Status != 200 {
		t.Fatalf("bob joins: %d %s", r.Status, r.Body)
	}
	var snap chatapi.Occupants
	for snap.Type != chatapi.TypeOccupants {
		ev := sb.Next(t, 10*time.Second)
		switch ev.Name {
		case chatapi.EventPresence:
			var p chatapi.Presence
			if err := json.Unmarshal([]byte(ev.Data), &p); err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(p.From, roomJID+"/") {
				t.Fatalf("a presence per occupant before the snapshot: %+v", p)
			}
		case chatapi.EventXMPP:
			if strings.Contains(ev.Data, roomJID+"/alice") || strings.Contains(ev.Data, roomJID+"/carol") {
				t.Fatalf("raw occupant presence before the snapshot: %s", ev.Data)
			}
		case chatapi.EventMUC:
			if err := json.Unmarshal([]byte(ev.Data), &snap); err != nil {
				t.Fatal(err)
			}
		}
	}
	var nicks []string
	for _, o := range snap.Occupants {
		nicks = append(nicks, o.Nick)
	}
	if snap.Room != roomJID || strings.Join(nicks, ",") != "alice,bob,carol" {
		t.Fatalf("snapshot %+v (nicks %v)", snap, nicks)
	}
	plainJoin(t, dialAs(t, d), roomJID, "dave")
	var p chatapi.Presence
	for p.From != roomJID+"/dave" {
		sb.NextNamed(t, chatapi.EventPresence, 10*time.Second, &p)
	}
	if p.Role != "participant" {
		t.Fatalf("later arrival %+v", p)
	}
}
