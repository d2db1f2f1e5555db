package gateway_test

import (
	"crypto/rand"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// nativeConf is an XEP-0402 conference element, as read back.
type nativeConf struct {
	Name     string `xml:"name,attr"`
	Autojoin string `xml:"autojoin,attr"`
	Nick     string `xml:"nick"`
	Password string `xml:"password"`
}

// TestIntegrationSecurityBookmarkOffer: group chat bookmarks that name a
// user reach the user's XEP-0402 native bookmarks (which clients join on
// their own) only when an admin made them; they never replace the user's
// own entry for a room, and they autojoin only when the admin said so.
func TestIntegrationSecurityBookmarkOffer(t *testing.T) {
	t.Parallel()
	srv := ejabberdtest.Shared(t)
	admin, alice, mallory := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	e := newBookmarkGateway(t, admin.Name)
	room := func(name string) string {
		return "sgoffer" + name + strings.ToLower(rand.Text()[:6]) + "@" + srv.MUCService()
	}
	own, strangers, adminOwn, adminPlain, adminJoin := room("own"), room("stranger"), room("adminown"), room("plain"), room("join")

	// alice's own native bookmark of two rooms, with her nick and password.
	conn := dialAs(t, alice)
	for _, r := range []string{own, adminOwn} {
		rawIQ(t, conn, "set", "", `<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:xmpp:bookmarks:1'>`+
			`<item id='`+r+`'><conference xmlns='urn:xmpp:bookmarks:1' name='Mine' autojoin='true'><nick>me</nick><password>secret</password></conference></item></publish>`+
			`<publish-options><x xmlns='jabber:x:data' type='submit'>`+
			`<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>`+
			`<field var='pubsub#persist_items'><value>true</value></field><field var='pubsub#access_model'><value>whitelist</value></field>`+
			`</x></publish-options></pubsub>`)
	}

	tm, ta, tadm := e.Login(t, mallory.Name, mallory.Password), e.Login(t, alice.Name, alice.Password), e.Login(t, admin.Name, admin.Password)
	evil := []map[string]string{{"key": "nick", "value": "evil"}, {"key": "password", "value": "x"}, {"key": "autojoin", "value": "true"}}
	e.run(t, []collabCall{
		{"stranger-over-own", "POST", "/bookmark", tm, "application/json", bookmarkJSON(t, map[string]any{
			"type": "group_chat", "name": "Trap", "value": own, "users": []string{alice.Name}, "properties": evil}), 200},
		{"stranger-new", "POST", "/bookmark", tm, "application/json", bookmarkJSON(t, map[string]any{
			"type": "group_chat", "name": "Trap", "value": strangers, "users": []string{alice.Name}, "properties": evil}), 200},
		{"admin-over-own", "POST", "/bookmark", tadm, "application/json", bookmarkJSON(t, map[string]any{
			"type": "group_chat", "name": "Team", "value": adminOwn, "users": []string{alice.Name},
			"properties": []map[string]string{{"key": "nick", "value": "team"}}}), 200},
		{"admin-plain", "POST", "/bookmark", tadm, "application/json", bookmarkJSON(t, map[string]any{
			"type": "group_chat", "name": "Plain", "value": adminPlain, "users": []string{alice.Name}}), 200},
		{"admin-autojoin", "POST", "/bookmark", tadm, "application/json", bookmarkJSON(t, map[string]any{
			"type": "group_chat", "name": "Join", "value": adminJoin, "users": []string{alice.Name},
			"properties": []map[string]string{{"key": "autojoin", "value": "true"}}}), 200},
		{"alice-lists", "GET", "/bookmarks", ta, "", "", 200},
	})

	items := nativeBookmarks(t, alice)
	conf := func(t *testing.T, r string) (nativeConf, bool) {
		t.Helper()
		inner, ok := items[r]
		if !ok {
			return nativeConf{}, false
		}
		var c nativeConf
		if err := xml.Unmarshal([]byte(inner), &c); err != nil {
			t.Fatalf("item %s: %v", r, err)
		}
		return c, true
	}
	tests := []struct {
		name string
		room string
		want *nativeConf // nil: not in the node
	}{
		{"stranger-leaves-own-alone", own, &nativeConf{Name: "Mine", Autojoin: "true", Nick: "me", Password: "secret"}},
		{"stranger-not-offered", strangers, nil},
		{"admin-leaves-own-alone", adminOwn, &nativeConf{Name: "Mine", Autojoin: "true", Nick: "me", Password: "secret"}},
		{"admin-without-autojoin", adminPlain, &nativeConf{Name: "Plain", Autojoin: "false"}},
		{"admin-with-autojoin", adminJoin, &nativeConf{Name: "Join", Autojoin: "true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := conf(t, tt.room)
			switch {
			case tt.want == nil && ok:
				t.Fatalf("%s is in alice's native bookmarks: %+v", tt.room, got)
			case tt.want != nil && !ok:
				t.Fatalf("%s is not in alice's native bookmarks %v", tt.room, items)
			case tt.want != nil && got != *tt.want:
				t.Fatalf("%s: native bookmark %+v, want %+v", tt.room, got, *tt.want)
			}
		})
	}
}
