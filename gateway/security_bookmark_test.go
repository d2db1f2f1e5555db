package gateway_test

import (
	"crypto/rand"
	"encoding/xml"
	"strconv"
	"strings"
	"testing"

	"github.com/sparkgate/sparkgate/gateway"
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

// TestIntegrationBookmarkOfferWithdrawn: an admin's bookmark offered into
// a user's native bookmarks is taken back from there when the admin
// deletes it, and moves when the admin points it at another room; the
// user's own entry for a room stays whatever happens to the admin's.
// Before, the offer stayed in the node for good and the user's clients
// kept joining a room the admin had withdrawn.
func TestIntegrationBookmarkOfferWithdrawn(t *testing.T) {
	t.Parallel()
	srv := ejabberdtest.Shared(t)
	admin, alice := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	e := newBookmarkGateway(t, admin.Name)
	room := func(name string) string {
		return "sgwithdraw" + name + strings.ToLower(rand.Text()[:6]) + "@" + srv.MUCService()
	}
	first, second, moved, own := room("first"), room("second"), room("moved"), room("own")
	ta, tadm := e.Login(t, alice.Name, alice.Password), e.Login(t, admin.Name, admin.Password)
	create := func(name, value string) int64 {
		t.Helper()
		r := e.Do(t, "POST", api+"/bookmark", tadm, "application/json", bookmarkJSON(t, map[string]any{
			"type": "group_chat", "name": name, "value": value, "users": []string{alice.Name}}))
		var b gateway.Bookmark
		r.JSON(t, &b)
		if r.Status != 200 || b.BookmarkID == nil {
			t.Fatalf("create %s: %d %s", name, r.Status, r.Body)
		}
		return *b.BookmarkID
	}
	list := func() map[string]string {
		t.Helper()
		if r := e.Do(t, "GET", api+"/bookmarks", ta, "", ""); r.Status != 200 {
			t.Fatalf("alice lists: %d %s", r.Status, r.Body)
		}
		return nativeBookmarks(t, alice)
	}
	one, two := create("First", first), create("Second", second)
	// alice's own entry for a room an admin bookmark names too: hers stays.
	rawIQ(t, dialAs(t, alice), "set", "", `<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:xmpp:bookmarks:1'>`+
		`<item id='`+own+`'><conference xmlns='urn:xmpp:bookmarks:1' name='Mine'/></item></publish></pubsub>`)
	create("Over hers", own)
	items := list()
	for _, r := range []string{first, second, own} {
		if _, ok := items[r]; !ok {
			t.Fatalf("%s not offered: %v", r, items)
		}
	}
	if !strings.Contains(items[first], "urn:sparkgate:bookmark:0") || strings.Contains(items[own], "urn:sparkgate:bookmark:0") {
		t.Fatalf("offers are not marked as the gateway's, or alice's own entry is: %v", items)
	}

	if r := e.Do(t, "DELETE", api+"/bookmark/"+strconv.FormatInt(one, 10), tadm, "", ""); r.Status != 200 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "PUT", api+"/bookmark/"+strconv.FormatInt(two, 10), tadm, "application/json", bookmarkJSON(t, map[string]any{
		"type": "group_chat", "name": "Second", "value": moved, "users": []string{alice.Name}})); r.Status != 200 {
		t.Fatalf("move: %d %s", r.Status, r.Body)
	}
	items = list()
	for _, tt := range []struct {
		room string
		want bool
	}{{first, false}, {second, false}, {moved, true}, {own, true}} {
		if _, ok := items[tt.room]; ok != tt.want {
			t.Errorf("%s in alice's native bookmarks: %v, want %v (%v)", tt.room, ok, tt.want, items)
		}
	}
	if !strings.Contains(items[own], "Mine") {
		t.Errorf("alice's own entry changed: %s", items[own])
	}
}
