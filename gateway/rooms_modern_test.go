package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// roomStanzaID reads the room's stanza-id (XEP-0359, by the room) of a
// groupchat message's raw XML.
var roomStanzaID = regexp.MustCompile(`<stanza-id[^>]*id=['"]([^'"]+)['"]`)

// nextMUC skips events until a chatapi.muc from the occupant from with
// a body or a retraction, or a chatapi.reaction from it, and says what it
// was as the test compares it.
func nextMUC(t *testing.T, st *gatewaytest.Stream, from string) (string, chatapi.GroupChat) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ev := st.Next(t, time.Until(deadline))
		switch ev.Name {
		case chatapi.EventMUC:
			var m chatapi.GroupChat
			if err := json.Unmarshal([]byte(ev.Data), &m); err != nil {
				t.Fatal(err)
			}
			if m.From != from || (m.Body == "" && m.Retract == "") {
				continue
			}
			return fmt.Sprintf("muc %q replace=%s retract=%s replyTo=%s", m.Body, m.Replace, m.Retract, m.ReplyTo), m
		case chatapi.EventReaction:
			var r chatapi.Reactions
			if err := json.Unmarshal([]byte(ev.Data), &r); err != nil {
				t.Fatal(err)
			}
			if r.From == from {
				return fmt.Sprintf("reaction %s %s", r.ID, strings.Join(r.Reactions, "")), chatapi.GroupChat{}
			}
		}
	}
}

// TestIntegrationRoomMessageChanges: the gateway user corrects,
// retracts, reacts to and answers room messages over REST; a plain
// occupant (another XMPP client) sees each as the XEP has it in
// groupchat (a correction names the message's id, a retraction, reactions
// and a reply the room's stanza-id), the user's own stream sees them typed
// from the room's reflection, the room's archive reads folded; and the
// other way round: the plain occupant's changes reach the user's stream
// typed, and only its messages count as unread.
func TestIntegrationRoomMessageChanges(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	srv := ejabberdtest.Shared(t)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta := e.Login(t, a.Name, a.Password)
	st := e.OpenConnected(t, ta, "")
	room := "chg" + strings.ToLower(a.Name[1:9])
	roomJID := room + "@" + srv.MUCService()
	me, bob := roomJID+"/alice", roomJID+"/bob"
	rp := api + "/groupchat/room/" + room
	if r := e.Do(t, "PUT", rp+"?nick=alice", ta, "", ""); r.Status != 200 {
		t.Fatalf("join: %d %s", r.Status, r.Body)
	}
	bc := dialAs(t, b)
	plainJoin(t, bc, roomJID, "bob")

	do := func(method, path, ct, body string) string {
		t.Helper()
		r := e.Do(t, method, path, ta, ct, body)
		if r.Status != 200 {
			t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Body)
		}
		var sent struct{ ID string }
		r.JSON(t, &sent)
		if sent.ID == "" {
			t.Fatalf("%s %s: no id in %s", method, path, r.Body)
		}
		return sent.ID
	}
	// plainSees waits for the plain occupant's copy of the user's message
	// id holding every part, and answers the room's stanza-id of it.
	plainSees := func(id string, parts ...string) string {
		t.Helper()
		raw := plainUntil(t, bc, append([]string{"from='" + me + "'", "id='" + id + "'"}, parts...)...)
		m := roomStanzaID.FindStringSubmatch(raw)
		if m == nil {
			t.Fatalf("the room's copy of %s has no stanza-id: %s", id, raw)
		}
		return m[1]
	}
	// live checks the user's next event from the occupant from.
	live := func(from, want string) chatapi.GroupChat {
		t.Helper()
		got, m := nextMUC(t, st, from)
		if got != want {
			t.Fatalf("stream: %s\nwant %s", got, want)
		}
		return m
	}

	// The user writes, corrects it (by its id), reacts to it and later
	// withdraws the reaction (by the room's stanza-id).
	m1 := do("POST", rp, "text/plain", "helo all")
	sid1 := plainSees(m1, "<body>helo all</body>")
	if got := live(me, `muc "helo all" replace= retract= replyTo=`); got.StanzaID != sid1 || got.ID != m1 {
		t.Fatalf("the reflection names %s/%s, want %s/%s", got.ID, got.StanzaID, m1, sid1)
	}
	c1 := do("PUT", rp+"/message/"+m1, "text/plain", "hello all")
	plainSees(c1, "<body>hello all</body>", "<replace xmlns='urn:xmpp:message-correct:0' id='"+m1+"'")
	live(me, `muc "hello all" replace=`+m1+` retract= replyTo=`)
	r1 := do("PUT", rp+"/reactions/"+url.PathEscape(sid1), "application/json", `["👍","🎉"]`)
	plainSees(r1, "<reactions xmlns='urn:xmpp:reactions:0' id='"+sid1+"'", "<reaction>👍</reaction><reaction>🎉</reaction>")
	live(me, "reaction "+sid1+" 👍🎉")

	// The user answers the plain occupant's message by its stanza-id.
	if err := bc.SendRaw(t.Context(), []byte(`<message type='groupchat' to='`+roomJID+`' id='b1'><body>any news?</body></message>`)); err != nil {
		t.Fatal(err)
	}
	sidB := live(bob, `muc "any news?" replace= retract= replyTo=`).StanzaID
	if sidB == "" {
		t.Fatal("the plain occupant's message reached the stream with no stanzaId")
	}
	re := do("POST", rp+"?replyTo="+url.QueryEscape(sidB)+"&replyToNick=bob", "text/plain", "none yet")
	plainSees(re, "<body>none yet</body>", "<reply xmlns='urn:xmpp:reply:0' to='"+bob+"' id='"+sidB+"'")
	live(me, `muc "none yet" replace= retract= replyTo=`+sidB)

	// The user writes to the wrong room and takes it back: the plain
	// client gets the fallback body too.
	m2 := do("POST", rp, "text/plain", "wrong room")
	sid2 := plainSees(m2, "<body>wrong room</body>")
	live(me, `muc "wrong room" replace= retract= replyTo=`)
	x2 := do("DELETE", rp+"/message/"+url.PathEscape(sid2), "", "")
	plainSees(x2, "<retract xmlns='urn:xmpp:message-retract:1' id='"+sid2+"'", "<body>This person attempted to retract")
	live(me, `muc "" replace= retract=`+sid2+` replyTo=`)

	// The other way: the plain occupant corrects its message, reacts to
	// the user's and withdraws its own second one; the stream has each
	// typed.
	say := func(id, inner string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		if err := bc.SendRaw(ctx, []byte(`<message type='groupchat' to='`+roomJID+`' id='`+id+`'>`+inner+`</message>`)); err != nil {
			t.Fatal(err)
		}
	}
	say("b2", "<body>any news??</body><replace xmlns='urn:xmpp:message-correct:0' id='b1'/>")
	live(bob, `muc "any news??" replace=b1 retract= replyTo=`)
	say("b3", "<reactions xmlns='urn:xmpp:reactions:0' id='"+sid1+"'><reaction>👋</reaction></reactions><store xmlns='urn:xmpp:hints'/>")
	live(bob, "reaction "+sid1+" 👋")
	say("b4", "<body>spam</body>")
	sidSpam := live(bob, `muc "spam" replace= retract= replyTo=`).StanzaID
	say("b5", "<body>fallback</body><retract xmlns='urn:xmpp:message-retract:1' id='"+sidSpam+"'/><fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:message-retract:1'/><store xmlns='urn:xmpp:hints'/>")
	live(bob, `muc "" replace= retract=`+sidSpam+` replyTo=`)

	// The room's unread count has the plain occupant's two messages, not
	// its correction or retraction.
	msgEventually(t, 10*time.Second, func() string {
		r := e.Do(t, "GET", api+"/chat/unread", ta, "", "")
		var list []struct {
			JID   string `json:"jid"`
			Count int    `json:"count"`
		}
		r.JSON(t, &list)
		for _, u := range list {
			if u.JID == roomJID && u.Count == 2 {
				return ""
			}
		}
		return fmt.Sprintf("GET /chat/unread: %s, want the room at 2", r.Body)
	})

	// A reload reads what the stream showed.
	checkFolded(t, e, ta, rp+"/chathistory", strings.Join([]string{
		"hello all (edited) alice:👍🎉 bob:👋",
		"any news?? (edited)",
		"none yet reply",
		"(retracted)",
		"(retracted)",
	}, " | "))
}

// TestIntegrationRoomMessageChangesRefused: what the room operations
// refuse, before anything reaches the room.
func TestIntegrationRoomMessageChangesRefused(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	a, c := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tc := e.Login(t, a.Name, a.Password), e.Login(t, c.Name, c.Password)
	e.OpenConnected(t, ta, "")
	e.OpenConnected(t, tc, "")
	room := "chgno" + strings.ToLower(a.Name[1:9])
	rp := api + "/groupchat/room/" + room
	if r := e.Do(t, "PUT", rp+"?nick=alice", ta, "", ""); r.Status != 200 {
		t.Fatalf("join: %d %s", r.Status, r.Body)
	}
	missing := api + "/groupchat/room/nosuch" + strings.ToLower(a.Name[1:9])
	many := `["` + strings.Repeat(`👍","`, 32) + `👍"]`
	tests := []struct {
		name             string
		tok              string
		method, path, ct string
		body             string
		status           int
	}{
		{"correction, empty", ta, "PUT", rp + "/message/m1", "text/plain", "", 400},
		{"reactions, not JSON", ta, "PUT", rp + "/reactions/s1", "application/json", `👍`, 400},
		{"reactions, an object", ta, "PUT", rp + "/reactions/s1", "application/json", `{"r":"👍"}`, 400},
		{"reactions, 33", ta, "PUT", rp + "/reactions/s1", "application/json", many, 400},
		{"reactions, an empty one", ta, "PUT", rp + "/reactions/s1", "application/json", `[""]`, 400},
		{"reply nick without reply", ta, "POST", rp + "?replyToNick=bob", "text/plain", "hi", 400},
		{"reply, empty", ta, "POST", rp + "?replyTo=s1", "text/plain", "", 400},
		{"correction, not in the room", tc, "PUT", rp + "/message/m1", "text/plain", "x", 403},
		{"retraction, not in the room", tc, "DELETE", rp + "/message/s1", "", "", 403},
		{"reactions, not in the room", tc, "PUT", rp + "/reactions/s1", "application/json", `["👍"]`, 403},
		{"reply, not in the room", tc, "POST", rp + "?replyTo=s1", "text/plain", "x", 403},
		{"correction, no such room", ta, "PUT", missing + "/message/m1", "text/plain", "x", 404},
		{"retraction, no such room", ta, "DELETE", missing + "/message/s1", "", "", 404},
		{"reactions, no such room", ta, "PUT", missing + "/reactions/s1", "application/json", `["👍"]`, 404},
		{"no token", "", "DELETE", rp + "/message/s1", "", "", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.Do(t, tt.method, tt.path, tt.tok, tt.ct, tt.body)
			if r.Status != tt.status {
				t.Fatalf("%s %s: %d %s, want %d", tt.method, tt.path, r.Status, r.Body, tt.status)
			}
			if r.Error(t).Message == "" {
				t.Errorf("no error message: %s", r.Body)
			}
		})
	}
}
