package gateway_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"gosrc.io/xmpp/stanza"

	"github.com/sparkgate/sparkgate"
	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
	"github.com/sparkgate/sparkgate/store"
	"github.com/sparkgate/sparkgate/xmppadmin"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// usersCase is one row of a users-area table: a call and the status it
// must get. Every answer is also checked against openapi.yaml.
type usersCase struct {
	name         string
	method, path string
	token        string
	ct, body     string
	status       int
}

func (tt usersCase) run(t *testing.T, e *env) gatewaytest.Response {
	t.Helper()
	r := e.Do(t, tt.method, tt.path, tt.token, tt.ct, tt.body)
	if r.Status != tt.status {
		t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, r.Status, r.Body, tt.status)
	}
	checkAgainstSpec(t, tt.method, tt.path, r)
	return r
}

func runUsersCases(t *testing.T, e *env, cases []usersCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, e) })
	}
}

var (
	specOnce   sync.Once
	specRouter routers.Router
	specErr    error
)

// checkAgainstSpec validates a response against the operation's responses
// in openapi.yaml: status documented, body of the documented schema.
func checkAgainstSpec(t testing.TB, method, path string, r gatewaytest.Response) {
	t.Helper()
	specOnce.Do(func() {
		loader := openapi3.NewLoader()
		spec, err := loader.LoadFromData(sparkgate.OpenAPI)
		if err != nil {
			specErr = err
			return
		}
		specRouter, specErr = gorillamux.NewRouter(spec)
	})
	if specErr != nil {
		t.Fatalf("load spec: %v", specErr)
	}
	req := httptest.NewRequest(method, path, nil)
	route, params, err := specRouter.FindRoute(req)
	if err != nil {
		t.Fatalf("%s %s: no route in the spec: %v", method, path, err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 r.Status,
		Header:                 r.Header,
		Body:                   io.NopCloser(bytes.NewReader(r.Body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Fatalf("%s %s: the %d answer does not follow openapi.yaml: %v\n%s", method, path, r.Status, err, r.Body)
	}
}

// newUsersGateway is newGateway keeping user properties in its store,
// with mod applied last.
func newUsersGateway(t testing.TB, mod func(*gateway.Config)) *env {
	t.Helper()
	return startEnv(t, gatewayenv.Options{Plain: true, Setup: func(c *gateway.Config, st *store.SQLite, _ *auth.Keys) {
		c.Users.Properties = st
		if mod != nil {
			mod(c)
		}
	}})
}

func jsonBody(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func getUser(t *testing.T, e *env, tok string) gateway.UserEntity {
	t.Helper()
	r := usersCase{method: "GET", path: api + "/user", token: tok, status: 200}.run(t, e)
	if bytes.Contains(r.Body, []byte("password")) {
		t.Fatalf("GET /user shows a password field: %s", r.Body)
	}
	var ue gateway.UserEntity
	r.JSON(t, &ue)
	return ue
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func TestIntegrationUsersGetUpdate(t *testing.T) {
	t.Parallel()
	e := newUsersGateway(t, func(c *gateway.Config) { c.Users.MaxProperties = 4 })
	u := ejabberdtest.NewUser(t)
	tok := e.Login(t, u.Name, u.Password)

	t.Run("get-fresh", func(t *testing.T) {
		ue := getUser(t, e, tok)
		if deref(ue.Username) != u.Name || ue.Name != nil || ue.Email != nil || ue.Password != nil {
			t.Fatalf("fresh user %+v", ue)
		}
	})

	photo := `<vCard xmlns='vcard-temp'><FN>From vCard</FN><NICKNAME>nick</NICKNAME>` +
		`<PHOTO><TYPE>image/png</TYPE><BINVAL>iVBORw0KGgo=</BINVAL></PHOTO></vCard>`
	runUsersCases(t, e, []usersCase{
		{"put-200-vcard", "PUT", api + "/user", tok, "application/json",
			jsonBody(t, map[string]any{"vcard": base64.StdEncoding.EncodeToString([]byte(photo))}), 200},
		{"put-200-name-email-properties", "PUT", api + "/user", tok, "application/json",
			jsonBody(t, map[string]any{"username": strings.ToUpper(u.Name), "name": "Ada Lovelace", "email": "ada@example.com",
				"properties": []map[string]string{{"key": "color", "value": "blue"}, {"key": "lang", "value": "en"}}}), 200},
		{"put-400-other-username", "PUT", api + "/user", tok, "application/json", `{"username":"somebodyelse"}`, 400},
		{"put-400-reserved-property", "PUT", api + "/user", tok, "application/json",
			`{"properties":[{"key":"totp.secret","value":"x"}]}`, 400},
		{"put-400-bad-vcard", "PUT", api + "/user", tok, "application/json", `{"vcard":"not base64!"}`, 400},
		{"put-400-not-a-vcard", "PUT", api + "/user", tok, "application/json",
			jsonBody(t, map[string]string{"vcard": base64.StdEncoding.EncodeToString([]byte("<x/>"))}), 400},
		{"put-400-short-password", "PUT", api + "/user", tok, "application/json", `{"password":"short"}`, 400},
		{"put-400-not-json", "PUT", api + "/user", tok, "application/json", `{`, 400},
		{"put-400-too-many-properties", "PUT", api + "/user", tok, "application/json",
			`{"properties":[{"key":"a","value":"1"},{"key":"b","value":"2"},{"key":"c","value":"3"}]}`, 400},
		{"put-401", "PUT", api + "/user", "", "application/json", `{"name":"x"}`, 401},
		{"put-413", "PUT", api + "/user", tok, "application/json", `{"name":"` + strings.Repeat("x", 600<<10) + `"}`, 413},
		{"get-401", "GET", api + "/user", "", "", "", 401},
	})

	t.Run("vcard-round-trip", func(t *testing.T) {
		ue := getUser(t, e, tok)
		if deref(ue.Name) != "Ada Lovelace" || deref(ue.Email) != "ada@example.com" {
			t.Fatalf("after PUT: name %q email %q", deref(ue.Name), deref(ue.Email))
		}
		raw, err := base64.StdEncoding.DecodeString(deref(ue.Vcard))
		if err != nil {
			t.Fatal(err)
		}
		v, err := xmppconn.ParseVCard(raw)
		if err != nil {
			t.Fatal(err)
		}
		// The photo stored by the first PUT survived the name/email change.
		if v.FN != "Ada Lovelace" || v.Nickname != "nick" || !strings.Contains(string(raw), "iVBORw0KGgo=") {
			t.Fatalf("stored vCard %s", raw)
		}
		props := map[string]string{}
		for _, p := range deref2(ue.Properties) {
			props[p.Key] = deref(p.Value)
		}
		if props["color"] != "blue" || props["lang"] != "en" || len(props) != 2 {
			t.Fatalf("properties %v", props)
		}
		// The XMPP server itself holds the vCard: another client reads it.
		conn := dialXMPP(t, ejabberdtest.NewUser(t))
		reply, err := conn.IQ(t.Context(), &stanza.IQ{Attrs: stanza.Attrs{Type: stanza.IQTypeGet, To: u.JID}, Payload: &xmppconn.VCard{}})
		if err != nil {
			t.Fatal(err)
		}
		if other, err := xmppconn.VCardOf(&reply); err != nil || other.FN != "Ada Lovelace" || other.Email() != "ada@example.com" {
			t.Fatalf("vCard seen by another user: %+v, %v", other, err)
		}
	})
}

func deref2[T any](p *[]T) []T {
	if p == nil {
		return nil
	}
	return *p
}

// dialXMPP opens a plain XMPP connection for u, closed at the end.
func dialXMPP(t testing.TB, u ejabberdtest.User) *xmppconn.Conn {
	t.Helper()
	srv := ejabberdtest.Shared(t)
	c, err := xmppconn.Dial(t.Context(), xmppconn.Config{Addr: srv.C2SAddr(), Domain: srv.Domain(), User: u.Name, Password: u.Password, TLS: xmppconn.TLSOff})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c.Close(ctx)
	})
	return c
}

func TestIntegrationUsersDelete(t *testing.T) {
	t.Parallel()
	var cleaned atomic.Value
	e := newUsersGateway(t, func(c *gateway.Config) {
		c.Users.OnDelete = append(c.Users.OnDelete, func(_ context.Context, user string) error {
			cleaned.Store(user)
			return nil
		})
	})
	u := ejabberdtest.NewUser(t)
	tok := e.Login(t, u.Name, u.Password)
	other := e.Login(t, u.Name, u.Password)
	usersCase{method: "POST", path: api + "/config/properties", token: tok, ct: "application/json",
		body: `[{"name":"color","value":"red"}]`, status: 200}.run(t, e)
	stream, r := e.Open(t, other, "")
	if r.Status != 200 {
		t.Fatalf("stream: %d", r.Status)
	}
	stream.Next(t, 5*time.Second) // onConnect

	runUsersCases(t, e, []usersCase{
		{"401", "DELETE", api + "/user", "", "", "", 401},
		{"200", "DELETE", api + "/user", tok, "", "", 200},
		{"401-same-token", "DELETE", api + "/user", tok, "", "", 401},
		{"401-token-after", "GET", api + "/user", tok, "", "", 401},
		{"401-other-token", "GET", api + "/config/properties", other, "", "", 401},
	})
	if r := e.Do(t, "POST", api+"/login/"+u.Name, "", "text/plain", u.Password); r.Status != 401 {
		t.Fatalf("login after delete: %d %s", r.Status, r.Body)
	}
	ok, err := ejabberdtest.Admin(t).Exists(t.Context(), u.Name)
	if err != nil || ok {
		t.Fatalf("the account still exists: %v, %v", ok, err)
	}
	if got, _ := cleaned.Load().(string); got != u.JID {
		t.Fatalf("OnDelete got %q, want %q", got, u.JID)
	}
	// The open stream of the other token ended, telling the tab to sign in
	// again.
	var end chatapi.Close
	stream.NextNamed(t, chatapi.EventClose, 10*time.Second, &end)
	if end.Resume {
		t.Fatalf("close event %+v invites the tab to resume", end)
	}
}

func TestIntegrationUsersSearch(t *testing.T) {
	t.Parallel()
	a, b, c := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	marker := "Zq" + b.Name[1:7]
	open := newUsersGateway(t, func(cfg *gateway.Config) { cfg.Users.SearchAll = true })
	tb := open.Login(t, b.Name, b.Password)
	usersCase{method: "PUT", path: api + "/user", token: tb, ct: "application/json",
		body: jsonBody(t, map[string]any{"name": "Bea " + marker, "email": "secret@example.com",
			"properties": []map[string]string{{"key": "team", "value": marker}}}), status: 200}.run(t, open)
	ta := open.Login(t, a.Name, a.Password)

	names := func(r gatewaytest.Response) []string {
		var ue gateway.UserEntities
		r.JSON(t, &ue)
		var out []string
		for _, u := range ue.Users {
			if u.Email != nil || u.Properties != nil || u.Vcard != nil || u.Password != nil {
				t.Fatalf("search shows private fields: %s", r.Body)
			}
			out = append(out, deref(u.Username)+"="+deref(u.Name))
		}
		return out
	}
	q := url.QueryEscape
	tests := []struct {
		usersCase
		want []string
	}{
		{usersCase{"by-name-case-insensitive", "GET", api + "/users?search=" + q(strings.ToLower(marker)), ta, "", "", 200}, []string{b.Name + "=Bea " + marker}},
		{usersCase{"by-username", "GET", api + "/users?search=" + q(strings.ToUpper(c.Name)), ta, "", "", 200}, []string{c.Name + "="}},
		{usersCase{"by-property", "GET", api + "/users?propertyKey=team&propertyValue=" + q(marker), ta, "", "", 200}, []string{b.Name + "=Bea " + marker}},
		{usersCase{"by-property-key", "GET", api + "/users?propertyKey=team&search=" + q(b.Name), ta, "", "", 200}, []string{b.Name + "=Bea " + marker}},
		{usersCase{"by-property-wrong-value", "GET", api + "/users?propertyKey=team&propertyValue=nope", ta, "", "", 200}, nil},
		{usersCase{"400-value-without-key", "GET", api + "/users?propertyValue=x", ta, "", "", 400}, nil},
		{usersCase{"401", "GET", api + "/users?search=x", "", "", "", 401}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.run(t, open)
			if tt.status == 200 {
				if got := names(r); !slices.Equal(got, tt.want) {
					t.Fatalf("users %v, want %v", got, tt.want)
				}
			}
		})
	}

	// Without SearchAll a user finds only the members of the roster, which
	// includes shared roster groups; an admin finds everyone.
	group := "search" + a.Name
	admin := ejabberdtest.Admin(t)
	ctx := t.Context()
	if err := admin.CreateGroup(ctx, group, group, "", nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.DeleteGroup(context.Background(), group) })
	closed := newUsersGateway(t, func(cfg *gateway.Config) { cfg.Users.Admins = []string{c.Name} })
	ta, tc := closed.Login(t, a.Name, a.Password), closed.Login(t, c.Name, c.Password)
	search := api + "/users?search=" + q(marker)
	if got := names(usersCase{method: "GET", path: search, token: ta, status: 200}.run(t, closed)); len(got) != 0 {
		t.Fatalf("a stranger found %v", got)
	}
	if got := names(usersCase{method: "GET", path: search, token: tc, status: 200}.run(t, closed)); len(got) != 1 {
		t.Fatalf("the admin found %v", got)
	}
	for _, u := range []ejabberdtest.User{a, b} {
		if err := admin.AddGroupMember(ctx, group, u.Name); err != nil {
			t.Fatal(err)
		}
	}
	if got := names(usersCase{method: "GET", path: search, token: ta, status: 200}.run(t, closed)); !slices.Equal(got, []string{b.Name + "=Bea " + marker}) {
		t.Fatalf("a group member found %v", got)
	}
}

func TestIntegrationUsersGroups(t *testing.T) {
	t.Parallel()
	admin := ejabberdtest.Admin(t)
	ctx := t.Context()
	a, b, boss := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	open, closed, created := "open"+a.Name, "closed"+a.Name, "new"+a.Name
	for _, g := range []string{open, closed} {
		if err := admin.CreateGroup(ctx, g, g, "", nil); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, g := range []string{open, closed, created} {
			admin.DeleteGroup(context.Background(), g)
		}
	})
	e := newUsersGateway(t, func(c *gateway.Config) {
		c.Users.JoinableGroups = []string{open, "missing" + a.Name}
		c.Users.Admins = []string{boss.JID}
		c.Users.CreateGroups = true
	})
	ta, tb, tboss := e.Login(t, a.Name, a.Password), e.Login(t, b.Name, b.Password), e.Login(t, boss.Name, boss.Password)
	groups := func(tok string) []string {
		var g gateway.UserGroupsEntity
		usersCase{method: "GET", path: api + "/user/groups", token: tok, status: 200}.run(t, e).JSON(t, &g)
		return g.Groupnames
	}
	members := func(g string) []string {
		m, err := admin.GroupMembers(ctx, g)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(m)
		return m
	}
	p := url.PathEscape
	runUsersCases(t, e, []usersCase{
		{"join-200", "POST", api + "/user/groups/" + p(open), ta, "", "", 200},
		{"join-200-again", "POST", api + "/user/groups/" + p(open), ta, "", "", 200},
		{"join-200-b", "POST", api + "/user/groups", tb, "application/json", jsonBody(t, gateway.UserGroupsEntity{Groupnames: []string{open}}), 200},
		{"join-403-closed", "POST", api + "/user/groups/" + p(closed), ta, "", "", 403},
		{"join-404-missing", "POST", api + "/user/groups/" + p("missing"+a.Name), ta, "", "", 404},
		{"join-400-empty-list", "POST", api + "/user/groups", ta, "application/json", `{"groupnames":[]}`, 400},
		{"join-400-control", "POST", api + "/user/groups/a%01b", ta, "", "", 400},
		{"join-401", "POST", api + "/user/groups/" + p(open), "", "", "", 401},
		{"admin-join-closed-200", "POST", api + "/user/groups/" + p(closed), tboss, "", "", 200},
		{"admin-create-200", "POST", api + "/user/groups/" + p(created), tboss, "", "", 200},
		{"list-401", "GET", api + "/user/groups", "", "", "", 401},
	})
	if got := groups(ta); !slices.Equal(got, []string{open}) {
		t.Fatalf("a's groups %v", got)
	}
	want := []string{a.JID, b.JID}
	slices.Sort(want)
	if got := members(open); !slices.Equal(got, want) {
		t.Fatalf("members of %s: %v, want %v", open, got, want)
	}
	if got := groups(tboss); !slices.Equal(got, []string{closed, created}) {
		t.Fatalf("boss's groups %v", got)
	}

	// Shared roster group members appear in each other's roster.
	conn := dialXMPP(t, a)
	reply, err := conn.IQ(ctx, &stanza.IQ{Attrs: stanza.Attrs{Type: stanza.IQTypeGet}, Payload: &stanza.Roster{}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(reply.Raw, []byte(b.JID)) {
		t.Fatalf("b is not in a's roster: %s", reply.Raw)
	}

	runUsersCases(t, e, []usersCase{
		{"leave-403-closed", "DELETE", api + "/user/groups/" + p(closed), ta, "", "", 403},
		{"leave-404-missing", "DELETE", api + "/user/groups/" + p("missing"+a.Name), ta, "", "", 404},
		{"leave-200", "DELETE", api + "/user/groups/" + p(open), ta, "", "", 200},
		{"leave-200-list", "DELETE", api + "/user/groups", tb, "application/json", jsonBody(t, gateway.UserGroupsEntity{Groupnames: []string{open}}), 200},
		{"leave-401", "DELETE", api + "/user/groups/" + p(open), "", "", "", 401},
	})
	if got := members(open); len(got) != 0 {
		t.Fatalf("members of %s after leaving: %v", open, got)
	}
	if got := groups(ta); len(got) != 0 {
		t.Fatalf("a's groups after leaving: %v", got)
	}

	// A directory without shared roster groups: 501.
	plain := newUsersGateway(t, func(c *gateway.Config) { c.Directory = plainDirectory{c.Directory} })
	tp := plain.Login(t, a.Name, a.Password)
	runUsersCases(t, plain, []usersCase{
		{"list-501", "GET", api + "/user/groups", tp, "", "", 501},
		{"join-501", "POST", api + "/user/groups/" + p(open), tp, "", "", 501},
	})
}

// plainDirectory hides the GroupDirectory methods of a directory.
type plainDirectory struct{ xmppadmin.Directory }

func TestIntegrationUsersConfig(t *testing.T) {
	t.Parallel()
	e := newUsersGateway(t, func(c *gateway.Config) {
		c.Users.MaxProperties = 3
		c.Users.Global.VAPIDPublicKey = func(context.Context) (string, error) { return "BPublicKey", nil }
		c.Users.Global.MeetingServices = []string{"jitsi"}
	})
	u := ejabberdtest.NewUser(t)
	tok := e.Login(t, u.Name, u.Password)
	srv := ejabberdtest.Shared(t)

	t.Run("global-public", func(t *testing.T) {
		r := usersCase{method: "GET", path: api + "/config/global", status: 200}.run(t, e)
		var g gateway.GlobalConfig
		r.JSON(t, &g)
		if g.Domain != srv.Domain() || g.About != "sparkgate" || g.Version == "" || deref(g.MucService) != srv.MUCService() ||
			deref(g.VapidPublicKey) != "BPublicKey" || g.RegistrationEnabled == nil || !*g.RegistrationEnabled ||
			g.MeetingServices == nil || !slices.Equal(*g.MeetingServices, []string{"jitsi"}) {
			t.Fatalf("global config %s", r.Body)
		}
	})

	t.Run("global-without-push", func(t *testing.T) {
		// Web Push is off in this gateway: no key, and no token needed.
		plain := newUsersGateway(t, nil)
		r := usersCase{method: "GET", path: api + "/config/global", status: 200}.run(t, plain)
		var g gateway.GlobalConfig
		r.JSON(t, &g)
		if g.VapidPublicKey != nil || g.Domain != srv.Domain() {
			t.Fatalf("global config without push: %s", r.Body)
		}
	})

	long := strings.Repeat("v", 4097)
	runUsersCases(t, e, []usersCase{
		{"get-401", "GET", api + "/config/properties", "", "", "", 401},
		{"set-200", "POST", api + "/config/properties", tok, "application/json",
			`[{"name":"color","value":"red"},{"name":"name","value":"Zed Config"},{"name":"email","value":"zed@example.com"}]`, 200},
		{"set-200-text", "POST", api + "/config/properties", tok, "text/plain", `[{"name":"lang","value":"fr"}]`, 200},
		{"set-200-remove", "POST", api + "/config/properties", tok, "application/json", `[{"name":"lang"}]`, 200},
		{"set-400-reserved-domain", "POST", api + "/config/properties", tok, "application/json", `[{"name":"domain","value":"x"}]`, 400},
		{"set-400-reserved-totp", "POST", api + "/config/properties", tok, "application/json", `[{"name":"TOTP.secret","value":"x"}]`, 400},
		{"set-400-reserved-webpush", "POST", api + "/config/properties", tok, "application/json", `[{"name":"webpush.subscription","value":"x"}]`, 400},
		{"set-400-long-value", "POST", api + "/config/properties", tok, "application/json", `[{"name":"big","value":"` + long + `"}]`, 400},
		{"set-400-too-many", "POST", api + "/config/properties", tok, "application/json",
			`[{"name":"p1","value":"1"},{"name":"p2","value":"2"},{"name":"p3","value":"3"}]`, 400},
		{"set-400-not-array", "POST", api + "/config/properties", tok, "text/plain", `{"name":"x"}`, 400},
		{"set-400-bad-vcard", "POST", api + "/config/properties", tok, "application/json", `[{"name":"vcard","value":"%%%"}]`, 400},
		{"set-401", "POST", api + "/config/properties", "", "application/json", `[]`, 401},
		{"set-413", "POST", api + "/config/properties", tok, "application/json", `[{"name":"x","value":"` + strings.Repeat("y", 600<<10) + `"}]`, 413},
	})

	t.Run("get-own-only", func(t *testing.T) {
		r := usersCase{method: "GET", path: api + "/config/properties", token: tok, status: 200}.run(t, e)
		var got map[string]string
		r.JSON(t, &got)
		if got["color"] != "red" || got["name"] != "Zed Config" || got["email"] != "zed@example.com" ||
			got["username"] != u.Name || got["domain"] != srv.Domain() || got["vcard"] == "" {
			t.Fatalf("properties %s", r.Body)
		}
		if _, ok := got["lang"]; ok {
			t.Fatalf("removed property still there: %s", r.Body)
		}
		if len(got) != 6 {
			t.Fatalf("unexpected keys: %s", r.Body)
		}
	})
}

// previewSite serves test pages on 127.0.0.2 (the address the gateway's
// test allowlist admits) and a target on 127.0.0.1 that must never be
// reached.
type previewSite struct {
	allowed, target *httptest.Server
	hits            atomic.Int64 // requests to allowed
	targetHits      atomic.Int64
}

func newPreviewSite(t testing.TB) *previewSite {
	t.Helper()
	s := &previewSite{}
	s.target = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.targetHits.Add(1)
		fmt.Fprint(w, "<title>internal secret</title>")
	}))
	t.Cleanup(s.target.Close)
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatalf("listen on 127.0.0.2: %v", err)
	}
	_, targetPort, _ := net.SplitHostPort(s.target.Listener.Addr().String())
	mux := http.NewServeMux()
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html><head><title>Fallback</title>
<meta property="og:title" content="The Page"><meta property="og:description" content="What it is about">
<meta property="og:site_name" content="Test Site"><meta property="og:image" content="/img.png">
</head><body><p>body</p></body></html>`)
	})
	mux.HandleFunc("/latin1", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=iso-8859-1")
		w.Write([]byte("<title>caf\xe9</title>"))
	})
	mux.HandleFunc("/image.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write([]byte("\x89PNG\r\n\x1a\n"))
	})
	mux.HandleFunc("/img.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
	})
	mux.HandleFunc("/evil.svg", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/svg+xml")
		fmt.Fprint(w, `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)
	})
	mux.HandleFunc("/text", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write([]byte("binary"))
	})
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<title>Big</title>")
		for range 64 {
			w.Write(bytes.Repeat([]byte("<p>filler</p>"), 8<<10))
		}
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	mux.HandleFunc("/to-self", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/page", http.StatusFound)
	})
	mux.HandleFunc("/to-loopback", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://127.0.0.1:"+targetPort+"/", http.StatusFound)
	})
	mux.HandleFunc("/to-localhost", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://localhost:"+targetPort+"/", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/to-metadata", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	s.allowed = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		mux.ServeHTTP(w, r)
	}))
	s.allowed.Listener.Close()
	s.allowed.Listener = ln
	s.allowed.Start()
	t.Cleanup(s.allowed.Close)
	return s
}

func TestIntegrationUsersPreview(t *testing.T) {
	t.Parallel()
	site := newPreviewSite(t)
	e := newUsersGateway(t, func(c *gateway.Config) {
		// Test-only allowlist: one loopback address, any port.
		c.Users.Preview.Allow = []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}
		c.Users.Preview.Ports = []uint16{0}
		c.Users.Preview.Timeout = 3 * time.Second
		c.Users.Preview.MaxBytes = 64 << 10
	})
	u := ejabberdtest.NewUser(t)
	tok := e.Login(t, u.Name, u.Password)
	base := site.allowed.URL
	_, targetPort, _ := net.SplitHostPort(site.target.Listener.Addr().String())
	pv := func(q int, target string) string {
		return fmt.Sprintf("%s/preview/%d/%s", api, q, url.PathEscape(target))
	}

	type want struct{ title, description, image, site, final string }
	ok := []struct {
		name   string
		target string
		want   want
	}{
		{"200-opengraph", base + "/page", want{"The Page", "What it is about", base + "/img.png", "Test Site", base + "/page"}},
		{"200-redirect-same-site", base + "/to-self#frag", want{"The Page", "What it is about", base + "/img.png", "Test Site", base + "/page"}},
		{"200-charset", base + "/latin1", want{title: "café", final: base + "/latin1"}},
		{"200-image", base + "/image.png", want{image: base + "/image.png", final: base + "/image.png"}},
		{"200-big-page-read-in-part", base + "/big", want{title: "Big", final: base + "/big"}},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			r := usersCase{method: "GET", path: pv(5, tt.target), token: tok, status: 200}.run(t, e)
			var lp gateway.LinkPreview
			r.JSON(t, &lp)
			got := want{deref(lp.Title), deref(lp.DescriptionShort), deref(lp.Image), deref(lp.SiteName), deref(lp.Url)}
			if got != tt.want {
				t.Fatalf("preview %+v, want %+v", got, tt.want)
			}
		})
	}
	t.Run("cached", func(t *testing.T) {
		before := site.hits.Load()
		usersCase{method: "GET", path: pv(5, base+"/page"), token: tok, status: 200}.run(t, e)
		if n := site.hits.Load() - before; n != 0 {
			t.Fatalf("a cached preview fetched the page %d times", n)
		}
	})

	p := targetPort
	refused := []usersCase{
		{"400-loopback", "GET", pv(5, "http://127.0.0.1:"+p+"/x"), tok, "", "", 400},
		{"400-localhost-dns", "GET", pv(5, "http://localhost:"+p+"/x"), tok, "", "", 400},
		{"400-localhost-dot", "GET", pv(5, "http://LOCALHOST.:"+p+"/x"), tok, "", "", 400},
		{"400-ipv6-loopback", "GET", pv(5, "http://[::1]:"+p+"/x"), tok, "", "", 400},
		{"400-private-10", "GET", pv(5, "http://10.0.0.1/x"), tok, "", "", 400},
		{"400-private-192", "GET", pv(5, "http://192.168.0.1/x"), tok, "", "", 400},
		{"400-cgnat", "GET", pv(5, "http://100.64.0.1/x"), tok, "", "", 400},
		{"400-metadata", "GET", pv(5, "http://169.254.169.254/latest/meta-data"), tok, "", "", 400},
		{"400-mapped-loopback", "GET", pv(5, "http://[::ffff:127.0.0.1]:"+p+"/x"), tok, "", "", 400},
		{"400-decimal", "GET", pv(5, "http://2130706433:"+p+"/x"), tok, "", "", 400},
		{"400-octal", "GET", pv(5, "http://0177.0.0.1:"+p+"/x"), tok, "", "", 400},
		{"400-hex", "GET", pv(5, "http://0x7f000001:"+p+"/x"), tok, "", "", 400},
		{"400-short", "GET", pv(5, "http://127.1:"+p+"/x"), tok, "", "", 400},
		{"400-unspecified", "GET", pv(5, "http://0.0.0.0:"+p+"/x"), tok, "", "", 400},
		{"400-link-local-v6", "GET", pv(5, "http://[fe80::1]/x"), tok, "", "", 400},
		{"400-redirect-to-loopback", "GET", pv(5, base+"/to-loopback"), tok, "", "", 400},
		{"400-redirect-to-localhost", "GET", pv(5, base+"/to-localhost"), tok, "", "", 400},
		{"400-redirect-to-metadata", "GET", pv(5, base+"/to-metadata"), tok, "", "", 400},
		{"400-redirect-loop", "GET", pv(5, base+"/loop"), tok, "", "", 400},
		{"400-credentials", "GET", pv(5, "http://user:pw@127.0.0.2:"+strings.Split(base, ":")[2]+"/page"), tok, "", "", 400},
		{"400-scheme", "GET", pv(5, "ftp://example.com/file"), tok, "", "", 400},
		{"400-not-html", "GET", pv(5, base+"/text"), tok, "", "", 400},
		{"400-not-found", "GET", pv(5, base+"/missing"), tok, "", "", 400},
		{"400-timeout", "GET", pv(5, base+"/slow"), tok, "", "", 400},
		{"400-quality-0", "GET", pv(0, base+"/page"), tok, "", "", 400},
		{"400-quality-10", "GET", pv(10, base+"/page"), tok, "", "", 400},
		{"401", "GET", pv(5, base+"/page"), "", "", "", 401},
	}
	// A second DNS name for loopback, where the machine has one (its own
	// host name usually resolves to 127.0.x.x): refused when connecting.
	if h, err := os.Hostname(); err == nil && !strings.Contains(h, ".localhost") {
		if addrs, err := net.LookupHost(h); err == nil && len(addrs) > 0 && !slices.ContainsFunc(addrs, func(a string) bool {
			ip, err := netip.ParseAddr(a)
			return err != nil || !ip.IsLoopback()
		}) {
			refused = append(refused, usersCase{"400-hostname-resolving-to-loopback", "GET", pv(5, "http://"+h+":"+p+"/x"), tok, "", "", 400})
		}
	}
	// "LOCALHOST." may not resolve at all (the hosts file names
	// "localhost"); either way nothing is fetched.
	guarded := map[string]bool{"400-localhost-dot": false, "400-scheme": false, "400-not-html": false, "400-not-found": false, "400-timeout": false,
		"400-quality-0": false, "400-quality-10": false, "401": false}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.run(t, e)
			if _, other := guarded[tt.name]; other {
				return
			}
			// Refused by the guard, not by a failed connection.
			if msg := r.Error(t).Message; msg != "the address of this page is not allowed" {
				t.Fatalf("refused with %q", msg)
			}
		})
	}
	if n := site.targetHits.Load(); n != 0 {
		t.Fatalf("the loopback target was reached %d times", n)
	}

	// The page's og:image through the gateway: its bytes, with the type
	// they have; a script-carrying SVG, a page and inside addresses are
	// refused.
	t.Run("image", func(t *testing.T) {
		img := func(target string) string { return api + "/preview/image/" + url.PathEscape(target) }
		r := usersCase{method: "GET", path: img(base + "/img.png"), token: tok, status: 200}.run(t, e)
		if ct := r.Header.Get("Content-Type"); ct != "image/png" || !strings.HasPrefix(string(r.Body), "\x89PNG") ||
			r.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(r.Header.Get("Content-Security-Policy"), "sandbox") {
			t.Fatalf("image answer: %s %q %v", ct, r.Body, r.Header)
		}
		for _, c := range []usersCase{
			{"400-svg", "GET", img(base + "/evil.svg"), tok, "", "", 400},
			{"400-page", "GET", img(base + "/page"), tok, "", "", 400},
			{"400-loopback", "GET", img("http://127.0.0.1:" + p + "/x.png"), tok, "", "", 400},
			{"400-redirect-to-loopback", "GET", img(base + "/to-loopback"), tok, "", "", 400},
			{"401", "GET", img(base + "/img.png"), "", "", "", 401},
		} {
			c.run(t, e)
		}
		if n := site.targetHits.Load(); n != 0 {
			t.Fatalf("the loopback target was reached %d times", n)
		}
	})

	// Without the allowlist the test site itself is refused.
	strict := newUsersGateway(t, nil)
	ts := strict.Login(t, u.Name, u.Password)
	usersCase{method: "GET", path: pv(5, base+"/page"), token: ts, status: 400}.run(t, strict)
}

// TestIntegrationHelloProfile: a stream's first event (onConnect) names
// the user as the vCard does, on the owner and on another node: before
// any vCard, the username and the JID; after PUT /user sets a name and an
// email, those (the session's kept profile follows its own change), on
// every stream opened after.
func TestIntegrationHelloProfile(t *testing.T) {
	n1, n2, _ := remoteNodes(t, 5*time.Second, nil, nil, nil)
	u := ejabberdtest.NewUser(t)
	tok := n1.Login(t, u.Name, u.Password)
	hello := func(n *env) chatapi.Connect {
		t.Helper()
		s, r := n.Open(t, tok, "")
		if r.Status != http.StatusOK {
			t.Fatalf("stream: %d %s", r.Status, r.Body)
		}
		defer s.Close()
		var h chatapi.Connect
		s.NextNamed(t, chatapi.EventConnect, 5*time.Second, &h)
		return h
	}
	for i, n := range []*env{n1, n2} {
		if h := hello(n); h.Username != u.Name || h.Name != u.Name || h.Email != u.JID || h.JID != u.JID {
			t.Errorf("node %d, no vCard: %+v", i+1, h)
		}
	}
	if r := n2.Do(t, "PUT", api+"/user", tok, "application/json", `{"name":"Ursula Example","email":"ursula@example.com"}`); r.Status != http.StatusOK {
		t.Fatalf("PUT /user: %d %s", r.Status, r.Body)
	}
	for i, n := range []*env{n1, n2} {
		if h := hello(n); h.Username != u.Name || h.Name != "Ursula Example" || h.Email != "ursula@example.com" || h.JID != u.JID {
			t.Errorf("node %d, after PUT /user: %+v", i+1, h)
		}
	}
}

// TestIntegrationPropertiesEvent: setting or removing stored properties
// tells the user's tabs which (chatapi.properties, names sorted); a call
// that changes only the vCard's fields tells nothing, and neither does a
// refused one.
func TestIntegrationPropertiesEvent(t *testing.T) {
	t.Parallel()
	e := newUsersGateway(t, nil)
	u := ejabberdtest.NewUser(t)
	tok := e.Login(t, u.Name, u.Password)
	s := e.OpenConnected(t, tok, "")
	set := func(body string, status int) {
		t.Helper()
		if r := e.Do(t, "POST", api+"/config/properties", tok, "application/json", body); r.Status != status {
			t.Fatalf("set %s: %d %s, want %d", body, r.Status, r.Body, status)
		}
	}
	set(`[{"name":"name","value":"Only The vCard"}]`, 200)
	set(`[{"name":"domain","value":"x"}]`, 400)
	set(`[{"name":"sparkweb.pinned","value":"[\"chat:a@x\"]"},{"name":"color","value":"red"}]`, 200)
	var ev chatapi.Properties
	s.NextNamed(t, chatapi.EventProperties, 10*time.Second, &ev)
	if !slices.Equal(ev.Names, []string{"color", "sparkweb.pinned"}) {
		t.Fatalf("first event names %q, want the two set, sorted (the vCard's and the refused call's tell nothing)", ev.Names)
	}
	set(`[{"name":"color"}]`, 200)
	s.NextNamed(t, chatapi.EventProperties, 10*time.Second, &ev)
	if !slices.Equal(ev.Names, []string{"color"}) {
		t.Fatalf("removal's names %q", ev.Names)
	}
}
