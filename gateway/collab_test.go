package gateway_test

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
	"github.com/sparkgate/sparkgate/store"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// dialAs opens a plain XMPP connection as u, for setting things up behind
// the gateway's back; it is closed at the end of the test.
func dialAs(t *testing.T, u ejabberdtest.User) *xmppconn.Conn {
	t.Helper()
	srv := ejabberdtest.Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	local, _, _ := strings.Cut(u.JID, "@")
	conn, err := xmppconn.Dial(ctx, xmppconn.Config{Addr: srv.C2SAddr(), Domain: srv.Domain(), User: local, Password: u.Password, TLS: xmppconn.TLSOff})
	if err != nil {
		t.Fatalf("dial as %s: %v", u.JID, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn.Close(ctx)
	})
	return conn
}

// rawIQ sends payload (one element) in an IQ of type typ to to and returns
// the reply.
func rawIQ(t *testing.T, conn *xmppconn.Conn, typ, to, payload string) xmppconn.Stanza {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	reply, err := conn.RawIQ(ctx, typ, to, []byte(payload))
	if err != nil {
		t.Fatalf("iq %s to %q %s: %v", typ, to, payload, err)
	}
	return reply
}

// jwtClaims checks an HS256 JWT against secret and returns its header and
// claims.
func jwtClaims(t *testing.T, tok string, secret []byte) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, mac.Sum(nil)) {
		t.Fatalf("JWT signature does not verify with the secret")
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			t.Fatal(err)
		}
	}
	return header, claims
}

// TestIntegrationCollabMeetings: GET /meet/{service}/{id} gives the URL of
// the meeting id names for the caller, with a signed token when the
// service has a secret. The two people of a conversation meet in the same
// place whichever asks; a third person asking for either one's meetings
// gets a meeting of their own, never the pair's; a room's occupants share
// its meeting and someone outside the room is refused it (before, any
// signed-in user got a token for any id, and ids were easy to guess).
func TestIntegrationCollabMeetings(t *testing.T) {
	t.Parallel()
	secret := []byte("jitsi-test-secret")
	signed := newGateway(t, func(c *gateway.Config) {
		c.Collab.Meetings = gateway.MeetingsConfig{
			JitsiURL: "https://meet.example.org/", JitsiAppID: "sparkgate-test", JitsiSecret: secret,
			GaleneURL: "https://galene.example.org:8443", GaleneSecret: []byte("galene-secret"), GaleneKeyID: "k1",
			TokenTTL: 10 * time.Minute,
		}
	})
	plain := newGateway(t, func(c *gateway.Config) {
		c.Collab.Meetings = gateway.MeetingsConfig{JitsiURL: "https://meet.example.org", GaleneURL: "https://galene.example.org", GaleneGroup: "team"}
	})
	none := newGateway(t, nil)
	u, v, w := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	// The token names the user as their vCard does.
	conn := dialAs(t, u)
	rawIQ(t, conn, "set", "", `<vCard xmlns='vcard-temp'><FN>Alice Example</FN><EMAIL><INTERNET/><USERID>alice@mail.example</USERID></EMAIL></vCard>`)
	tu, tv, tw := signed.Login(t, u.Name, u.Password), signed.Login(t, v.Name, v.Password), signed.Login(t, w.Name, w.Password)
	room := "meet" + strings.ToLower(u.Name[1:9])
	roomJID := room + "@" + ejabberdtest.Shared(t).MUCService()
	for _, tok := range []string{tu, tv} {
		if r := signed.Do(t, "PUT", api+"/groupchat/room/"+room, tok, "", ""); r.Status != 200 {
			t.Fatalf("join %s: %d %s", room, r.Status, r.Body)
		}
	}

	// meet asks e for the meeting at path and returns its URL without the
	// token query, and the query.
	meet := func(t *testing.T, e *env, tok, path string, status int) (string, url.Values) {
		t.Helper()
		r := e.Do(t, "GET", api+path, tok, "", "")
		if r.Status != status {
			t.Fatalf("GET %s = %d %s, want %d", path, r.Status, r.Body, status)
		}
		checkContract(t, "GET", api+path, r)
		if status != 200 {
			if e := r.Error(t); e.Status != status {
				t.Fatalf("error body %+v", e)
			}
			return "", nil
		}
		var m gateway.OnlineMeetingEntity
		r.JSON(t, &m)
		got, err := url.Parse(m.Url)
		if err != nil {
			t.Fatal(err)
		}
		q := got.Query()
		got.RawQuery = ""
		return got.String(), q
	}
	name := regexp.MustCompile(`^[a-z2-7]{26}$`)
	lastSegment := func(t *testing.T, u, prefix string) string {
		t.Helper()
		n, ok := strings.CutPrefix(u, prefix)
		n = strings.TrimSuffix(n, "/")
		if !ok || !name.MatchString(n) {
			t.Fatalf("meeting URL %q is not %s<name>", u, prefix)
		}
		return n
	}

	t.Run("pair", func(t *testing.T) {
		uv, q := meet(t, signed, tu, "/meet/jitsi/"+v.Name, 200)
		room := lastSegment(t, uv, "https://meet.example.org/")
		vu, _ := meet(t, signed, tv, "/meet/jitsi/"+url.PathEscape(u.JID), 200)
		if vu != uv {
			t.Errorf("v's meeting with u is %s, u's with v %s: want the same", vu, uv)
		}
		for _, tt := range []struct{ who, tok, id string }{{"w asks for v", tw, v.Name}, {"w asks for u", tw, u.Name}, {"u alone", tu, u.Name}} {
			if other, _ := meet(t, signed, tt.tok, "/meet/jitsi/"+tt.id, 200); other == uv {
				t.Errorf("%s: got u and v's meeting %s", tt.who, other)
			}
		}
		_, c := jwtClaims(t, q.Get("jwt"), secret)
		exp, _ := c["exp"].(float64)
		if now := float64(time.Now().Unix()); exp < now+9*60 || exp > now+11*60 {
			t.Errorf("exp %v not about 10 minutes from now", c["exp"])
		}
		delete(c, "exp")
		delete(c, "iat")
		delete(c, "nbf")
		want := map[string]any{
			"iss": "sparkgate-test", "aud": []any{"jitsi"}, "sub": "*", "room": room,
			"context": map[string]any{"user": map[string]any{"name": "Alice Example", "email": "alice@mail.example"}},
		}
		if d := cmp.Diff(want, c); d != "" {
			t.Fatalf("jitsi claims (-want +got):\n%s", d)
		}
	})

	t.Run("room", func(t *testing.T) {
		byName, _ := meet(t, signed, tu, "/meet/jitsi/"+room, 200)
		byJID, _ := meet(t, signed, tv, "/meet/jitsi/"+url.PathEscape(roomJID), 200)
		if byName != byJID {
			t.Errorf("the room's meeting by name %s and by JID %s differ", byName, byJID)
		}
		meet(t, signed, tw, "/meet/jitsi/"+url.PathEscape(roomJID), 403)
		if other, _ := meet(t, signed, tw, "/meet/jitsi/"+room, 200); other == byName {
			t.Errorf("w, outside the room, got its meeting %s by its name", other)
		}
		group, q := meet(t, signed, tu, "/meet/galene/"+room, 200)
		lastSegment(t, group, "https://galene.example.org:8443/group/sparkgate/")
		h, c := jwtClaims(t, q.Get("token"), []byte("galene-secret"))
		local, _, _ := strings.Cut(u.JID, "@")
		if h["kid"] != "k1" || c["sub"] != local || !cmp.Equal(c["aud"], []any{group}) ||
			!cmp.Equal(c["permissions"], []any{"present"}) {
			t.Fatalf("galene header %v claims %v", h, c)
		}
	})

	t.Run("plain", func(t *testing.T) {
		tok := plain.Login(t, u.Name, u.Password)
		for _, tt := range []struct{ path, prefix string }{
			{"/meet/jitsi/" + v.Name, "https://meet.example.org/"},
			{"/meet/galene/" + v.Name, "https://galene.example.org/group/team/"},
		} {
			got, q := meet(t, plain, tok, tt.path, 200)
			lastSegment(t, got, tt.prefix)
			if len(q) != 0 {
				t.Errorf("%s: unexpected query %v", tt.path, q)
			}
		}
	})

	t.Run("refused", func(t *testing.T) {
		meet(t, signed, tu, "/meet/zoom/standup", 400)
		meet(t, signed, tu, "/meet/jitsi/a%3Fb", 400)
		meet(t, signed, tu, "/meet/jitsi/a@b@c", 400)
		meet(t, none, none.Login(t, u.Name, u.Password), "/meet/jitsi/standup", 501)
		meet(t, signed, "", "/meet/jitsi/standup", 401)
	})
}

// collabCall is one row of an operation table: a request and the status it
// gets.
type collabCall struct {
	name         string
	method, path string
	token        string
	ct, body     string
	status       int
}

// run runs the rows in order as subtests, checking statuses and that
// every error has the JSON error body; it returns the responses by row
// name.
func (e *env) run(t *testing.T, rows []collabCall) map[string]gatewaytest.Response {
	t.Helper()
	out := make(map[string]gatewaytest.Response, len(rows))
	for _, tt := range rows {
		t.Run(tt.name, func(t *testing.T) {
			r := e.Do(t, tt.method, api+tt.path, tt.token, tt.ct, tt.body)
			if r.Status != tt.status {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, r.Status, r.Body, tt.status)
			}
			checkContract(t, tt.method, api+tt.path, r)
			if tt.status >= 400 {
				if eb := r.Error(t); eb.Status != tt.status || eb.Code == "" {
					t.Fatalf("error body %s", r.Body)
				}
			}
			out[tt.name] = r
		})
	}
	return out
}

// bookmarkJSON builds a request body.
func bookmarkJSON(t *testing.T, b map[string]any) string {
	t.Helper()
	raw, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// nativeBookmarks returns the XEP-0402 items of u's PEP node, by room JID.
func nativeBookmarks(t *testing.T, u ejabberdtest.User) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reply, err := dialAs(t, u).RawIQ(ctx, "get", u.JID, []byte(`<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:bookmarks:1'/></pubsub>`))
	if errors.Is(err, xmppconn.ErrItemNotFound) {
		return map[string]string{}
	}
	if err != nil {
		t.Fatalf("bookmarks node of %s: %v", u.JID, err)
	}
	var r struct {
		Items []struct {
			ID    string `xml:"id,attr"`
			Inner string `xml:",innerxml"`
		} `xml:"pubsub>items>item"`
	}
	if err := xml.Unmarshal(reply.Raw, &r); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, it := range r.Items {
		out[it.ID] = it.Inner
	}
	return out
}

// newBookmarkGateway starts a gateway that keeps bookmarks in its store,
// with admins as its bookmark admins.
func newBookmarkGateway(t *testing.T, admins ...string) *env {
	t.Helper()
	return startEnv(t, gatewayenv.Options{Plain: true, Setup: func(c *gateway.Config, st *store.SQLite, _ *auth.Keys) {
		c.Collab.Bookmarks = st
		c.Collab.Admins = admins
	}})
}

func TestIntegrationCollabBookmarks(t *testing.T) {
	t.Parallel()
	srv := ejabberdtest.Shared(t)
	admin, alice, bob, carol, dave := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	e := newBookmarkGateway(t, admin.Name) // a username means user@domain
	// carol is in a shared roster group.
	group := "sgbm" + strings.ToLower(rand.Text()[:8])
	dir := ejabberdtest.Admin(t)
	ctx := context.Background()
	if err := dir.CreateGroup(ctx, group, "Bookmark test", "", nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dir.DeleteGroup(context.Background(), group) })
	if err := dir.AddGroupMember(ctx, group, carol.Name); err != nil {
		t.Fatal(err)
	}
	tok := map[string]string{}
	for n, u := range map[string]ejabberdtest.User{"admin": admin, "alice": alice, "bob": bob, "carol": carol, "dave": dave} {
		tok[n] = e.Login(t, u.Name, u.Password)
	}
	room := "sgroom" + strings.ToLower(rand.Text()[:8]) + "@" + srv.MUCService()

	ids := map[string]int64{}
	created := func(res map[string]gatewaytest.Response, rows ...string) {
		t.Helper()
		for _, name := range rows {
			var b gateway.Bookmark
			res[name].JSON(t, &b)
			if b.BookmarkID == nil || *b.BookmarkID < 1 {
				t.Fatalf("%s: no id in %s", name, res[name].Body)
			}
			ids[name] = *b.BookmarkID
		}
	}
	path := func(name string) string { return "/bookmark/" + strconv.FormatInt(ids[name], 10) }

	t.Run("create", func(t *testing.T) {
		res := e.run(t, []collabCall{
			{"link", "POST", "/bookmark", tok["alice"], "application/json", bookmarkJSON(t, map[string]any{
				"type": "url", "name": "Docs", "value": "https://docs.example.org/", "users": []string{bob.JID}, "bookmarkID": 777}), 200},
			{"room", "POST", "/bookmark", tok["alice"], "application/json", bookmarkJSON(t, map[string]any{
				"type": "group_chat", "name": "Team room", "value": room, "groups": []string{group},
				"properties": []map[string]string{{"key": "nick", "value": "ally"}}}), 200},
			{"global", "POST", "/bookmark", tok["admin"], "application/json", bookmarkJSON(t, map[string]any{
				"type": "url", "name": "Intranet", "value": "https://intranet.example.org/", "globalBookmark": true}), 200},
			{"global-not-admin", "POST", "/bookmark", tok["alice"], "application/json", bookmarkJSON(t, map[string]any{
				"type": "url", "name": "Mine for all", "value": "https://x.example.org/", "globalBookmark": true}), 403},
			{"bad-type", "POST", "/bookmark", tok["alice"], "application/json", `{"type": "ftp", "name": "x", "value": "ftp://x"}`, 400},
			{"bad-url", "POST", "/bookmark", tok["alice"], "application/json", `{"type": "url", "name": "x", "value": "javascript:alert(1)"}`, 400},
			{"bad-room", "POST", "/bookmark", tok["alice"], "application/json", `{"type": "group_chat", "name": "x", "value": "a@b/c"}`, 400},
			{"no-name", "POST", "/bookmark", tok["alice"], "application/json", `{"type": "url", "value": "https://x.example.org/"}`, 400},
			{"foreign-user", "POST", "/bookmark", tok["alice"], "application/json", `{"type": "url", "name": "x", "value": "https://x.example.org/", "users": ["eve@elsewhere.example"]}`, 400},
			{"not-json", "POST", "/bookmark", tok["alice"], "application/json", `{`, 400},
			{"no-token", "POST", "/bookmark", "", "application/json", `{"type": "url", "name": "x", "value": "https://x.example.org/"}`, 401},
		})
		created(res, "link", "room", "global")
		var link gateway.Bookmark
		res["link"].JSON(t, &link)
		if *link.BookmarkID == 777 || *link.Name != "Docs" || !cmp.Equal(*link.Users, []string{bob.Name}) || *link.GlobalBookmark {
			t.Fatalf("created %s", res["link"].Body)
		}
	})

	t.Run("get", func(t *testing.T) {
		e.run(t, []collabCall{
			{"creator", "GET", path("link"), tok["alice"], "", "", 200},
			{"named-user", "GET", path("link"), tok["bob"], "", "", 200},
			{"group-member", "GET", path("room"), tok["carol"], "", "", 200},
			{"global", "GET", path("global"), tok["dave"], "", "", 200},
			{"admin", "GET", path("room"), tok["admin"], "", "", 200},
			{"not-visible", "GET", path("link"), tok["dave"], "", "", 404},
			{"not-in-group", "GET", path("room"), tok["bob"], "", "", 404},
			{"missing", "GET", "/bookmark/987654321", tok["alice"], "", "", 404},
			{"bad-id", "GET", "/bookmark/0", tok["alice"], "", "", 400},
			{"no-token", "GET", path("link"), "", "", "", 401},
		})
	})

	t.Run("list", func(t *testing.T) {
		tests := []struct {
			user string
			want []string
		}{
			{"alice", []string{"Docs", "Intranet", "Team room"}},
			{"bob", []string{"Docs", "Intranet"}},
			{"carol", []string{"Intranet", "Team room"}},
			{"dave", []string{"Intranet"}},
		}
		for _, tt := range tests {
			t.Run(tt.user, func(t *testing.T) {
				r := e.Do(t, "GET", api+"/bookmarks", tok[tt.user], "", "")
				if r.Status != 200 {
					t.Fatalf("list: %d %s", r.Status, r.Body)
				}
				checkContract(t, "GET", api+"/bookmarks", r)
				var bs gateway.Bookmarks
				r.JSON(t, &bs)
				var names []string
				for _, b := range bs.Bookmarks {
					names = append(names, *b.Name)
				}
				slices.Sort(names)
				if !cmp.Equal(names, tt.want) {
					t.Fatalf("%s sees %v, want %v", tt.user, names, tt.want)
				}
			})
		}
		if r := e.Do(t, "GET", api+"/bookmarks", "", "", ""); r.Status != 401 {
			t.Fatalf("list without a token: %d", r.Status)
		}
	})

	t.Run("native", func(t *testing.T) {
		// The creator's XEP-0402 node has the room. The group member's
		// has not, though carol listed her bookmarks: alice is no admin
		// (TestIntegrationSecurityBookmarkOffer has the rest).
		items := nativeBookmarks(t, alice)
		inner, ok := items[room]
		if !ok || !strings.Contains(inner, `name="Team room"`) && !strings.Contains(inner, `name='Team room'`) ||
			!strings.Contains(inner, "autojoin") || !strings.Contains(inner, "<nick>ally</nick>") {
			t.Fatalf("alice's native bookmarks %v lack %s", items, room)
		}
		for _, u := range []ejabberdtest.User{bob, carol} {
			if _, ok := nativeBookmarks(t, u)[room]; ok {
				t.Fatalf("%s's node has a room of another user", u.Name)
			}
		}
	})

	t.Run("update", func(t *testing.T) {
		res := e.run(t, []collabCall{
			{"creator", "PUT", path("link"), tok["alice"], "application/json", `{"name": "Docs v2"}`, 200},
			{"admin", "PUT", path("link"), tok["admin"], "application/json", `{"users": ["` + bob.Name + `", "` + dave.JID + `"]}`, 200},
			{"admin-global", "PUT", path("link"), tok["admin"], "application/json", `{"globalBookmark": false}`, 200},
			{"not-creator", "PUT", path("link"), tok["bob"], "application/json", `{"name": "Mine now"}`, 403},
			{"global-not-admin", "PUT", path("link"), tok["alice"], "application/json", `{"globalBookmark": true}`, 403},
			{"not-visible", "PUT", path("room"), tok["dave"], "application/json", `{"name": "x"}`, 404},
			{"missing", "PUT", "/bookmark/987654321", tok["alice"], "application/json", `{"name": "x"}`, 404},
			{"id-mismatch", "PUT", path("link"), tok["alice"], "application/json", `{"bookmarkID": 987654321}`, 400},
			{"bad-value", "PUT", path("link"), tok["alice"], "application/json", `{"value": "not a url"}`, 400},
			{"no-token", "PUT", path("link"), "", "application/json", `{"name": "x"}`, 401},
		})
		var b gateway.Bookmark
		res["admin"].JSON(t, &b)
		if *b.Name != "Docs v2" || !cmp.Equal(*b.Users, sorted(bob.Name, dave.Name)) || *b.Value != "https://docs.example.org/" {
			t.Fatalf("after updates %s", res["admin"].Body)
		}
		if r := e.Do(t, "GET", api+path("link"), tok["dave"], "", ""); r.Status != 200 {
			t.Fatalf("dave, now named, gets %d", r.Status)
		}
	})

	t.Run("properties", func(t *testing.T) {
		res := e.run(t, []collabCall{
			{"set", "POST", path("room") + "/autojoin", tok["alice"], "text/plain", "false", 200},
			{"set-empty", "POST", path("room") + "/rss", tok["alice"], "text/plain", "", 200},
			{"not-creator", "POST", path("link") + "/autojoin", tok["bob"], "text/plain", "true", 403},
			{"not-visible", "POST", path("room") + "/autojoin", tok["dave"], "text/plain", "true", 404},
			{"missing", "POST", "/bookmark/987654321/autojoin", tok["alice"], "text/plain", "true", 404},
			{"delete", "DELETE", path("room") + "/rss", tok["alice"], "", "", 200},
			{"delete-not-creator", "DELETE", path("link") + "/x", tok["bob"], "", "", 403},
			{"delete-missing", "DELETE", "/bookmark/987654321/x", tok["alice"], "", "", 404},
			{"no-token", "POST", path("room") + "/autojoin", "", "text/plain", "true", 401},
		})
		var b gateway.Bookmark
		res["delete"].JSON(t, &b)
		want := []gateway.UserProperty{{Key: "autojoin", Value: ptrTo("false")}, {Key: "nick", Value: ptrTo("ally")}}
		if d := cmp.Diff(want, *b.Properties); d != "" || !cmp.Equal(*b.PropertyNames, []string{"autojoin", "nick"}) {
			t.Fatalf("properties (-want +got):\n%s\n%s", d, res["delete"].Body)
		}
		// autojoin=false reached the creator's native bookmark.
		if inner := nativeBookmarks(t, alice)[room]; !strings.Contains(inner, `autojoin="false"`) && !strings.Contains(inner, `autojoin='false'`) {
			t.Fatalf("native bookmark after autojoin=false: %s", inner)
		}
	})

	t.Run("delete", func(t *testing.T) {
		e.run(t, []collabCall{
			{"not-creator", "DELETE", path("link"), tok["bob"], "", "", 403},
			{"not-visible", "DELETE", path("room"), tok["dave"], "", "", 404},
			{"missing", "DELETE", "/bookmark/987654321", tok["alice"], "", "", 404},
			{"no-token", "DELETE", path("room"), "", "", "", 401},
			{"creator", "DELETE", path("room"), tok["alice"], "", "", 200},
			{"admin", "DELETE", path("link"), tok["admin"], "", "", 200},
			{"gone", "GET", path("room"), tok["alice"], "", "", 404},
		})
		if _, ok := nativeBookmarks(t, alice)[room]; ok {
			t.Fatal("the deleted room is still in alice's native bookmarks")
		}
	})

	t.Run("not-configured", func(t *testing.T) {
		off := newGateway(t, nil)
		if r := off.Do(t, "GET", api+"/bookmarks", off.Login(t, dave.Name, dave.Password), "", ""); r.Status != 501 {
			t.Fatalf("bookmarks without a store: %d", r.Status)
		}
	})
}

func ptrTo[T any](v T) *T { return &v }

func sorted(s ...string) []string {
	slices.Sort(s)
	return s
}
