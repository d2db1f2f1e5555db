package xmppadmin_test

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sparkgate/sparkgate/xmppadmin"
)

const (
	usBase   = "/plugins/userService"
	usSecret = "us-s3cret-do-not-leak"
)

// fakeUserService behaves like the Openfire User Service plugin as its
// documentation (seeds 001 and 002) describes it. REST form: XML entities,
// 201 for creations, 200 otherwise, 404/409 with the error entity, the
// secret as the whole Authorization header or an admin's basic auth.
// Legacy form: GET /userservice?type=...&secret=..., answered with HTTP 200
// and <result>OK</result>, a <result> group list, or <error>Name</error>.
type fakeUserService struct {
	mu       sync.Mutex
	users    map[string]*fakeUSUser
	locked   map[string]bool
	requests []string // "METHOD path" or "legacy type"
	bodies   []string // Content-Type of each REST request with a body
}

type fakeUSUser struct {
	password, name, email string
	groups                []string
	roster                map[string]fakeUSItem
}

type fakeUSItem struct {
	nick   string
	sub    int
	groups []string
}

func newFakeUserService(t *testing.T) (*fakeUserService, *httptest.Server) {
	f := &fakeUserService{users: map[string]*fakeUSUser{}, locked: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+usBase+"/users", f.auth(f.listUsers))
	mux.HandleFunc("POST "+usBase+"/users", f.auth(f.createUser))
	mux.HandleFunc("GET "+usBase+"/users/{username}", f.auth(f.getUser))
	mux.HandleFunc("PUT "+usBase+"/users/{username}", f.auth(f.updateUser))
	mux.HandleFunc("DELETE "+usBase+"/users/{username}", f.auth(f.deleteUser))
	mux.HandleFunc("GET "+usBase+"/users/{username}/groups", f.auth(f.userGroups))
	mux.HandleFunc("POST "+usBase+"/users/{username}/groups", f.auth(f.addGroups))
	mux.HandleFunc("DELETE "+usBase+"/users/{username}/groups", f.auth(f.removeGroups))
	mux.HandleFunc("POST "+usBase+"/lockouts/{username}", f.auth(f.lock(true)))
	mux.HandleFunc("DELETE "+usBase+"/lockouts/{username}", f.auth(f.lock(false)))
	mux.HandleFunc("GET "+usBase+"/users/{username}/roster", f.auth(f.roster))
	mux.HandleFunc("POST "+usBase+"/users/{username}/roster", f.auth(f.addItem))
	mux.HandleFunc("PUT "+usBase+"/users/{username}/roster/{jid}", f.auth(f.updateItem))
	mux.HandleFunc("DELETE "+usBase+"/users/{username}/roster/{jid}", f.auth(f.deleteItem))
	mux.HandleFunc("GET "+usBase+"/userservice", f.legacy)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return f, srv
}

// auth checks the REST form's credentials: the secret or admin:12345.
func (f *fakeUserService) auth(h http.HandlerFunc) http.HandlerFunc {
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:12345"))
	return func(w http.ResponseWriter, r *http.Request) {
		if a := r.Header.Get("Authorization"); a != usSecret && a != basic {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		f.requests = append(f.requests, r.Method+" "+strings.TrimPrefix(r.URL.Path, usBase))
		if r.ContentLength > 0 {
			f.bodies = append(f.bodies, r.Header.Get("Content-Type"))
		}
		h(w, r)
	}
}

func usFail(w http.ResponseWriter, status int, exception string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><error><ressource>x</ressource><message>%s</message><exception>%s</exception></error>`, exception, exception)
}

func usXML(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	b, _ := xml.Marshal(v)
	w.Write(b)
}

type xUser struct {
	XMLName  xml.Name `xml:"user"`
	Username string   `xml:"username"`
	Password string   `xml:"password,omitempty"`
	Name     string   `xml:"name,omitempty"`
	Email    string   `xml:"email,omitempty"`
}

type xGroups struct {
	XMLName   xml.Name `xml:"groups"`
	Groupname []string `xml:"groupname"`
}

type xItem struct {
	XMLName          xml.Name `xml:"rosterItem"`
	JID              string   `xml:"jid"`
	Nickname         string   `xml:"nickname,omitempty"`
	SubscriptionType int      `xml:"subscriptionType"`
	Groups           []string `xml:"groups>group"`
}

func (f *fakeUserService) user(w http.ResponseWriter, r *http.Request) *fakeUSUser {
	u := f.users[r.PathValue("username")]
	if u == nil {
		usFail(w, http.StatusNotFound, "UserNotFoundException")
	}
	return u
}

func (f *fakeUserService) listUsers(w http.ResponseWriter, r *http.Request) {
	var res struct {
		XMLName xml.Name `xml:"users"`
		User    []xUser  `xml:"user"`
	}
	search := r.URL.Query().Get("search")
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for n := range f.users {
			if !yield(n) {
				return
			}
		}
	}) {
		if strings.Contains(name, search) {
			res.User = append(res.User, xUser{Username: name, Name: f.users[name].name})
		}
	}
	usXML(w, http.StatusOK, res)
}

func (f *fakeUserService) createUser(w http.ResponseWriter, r *http.Request) {
	var u xUser
	if xml.NewDecoder(r.Body).Decode(&u) != nil || u.Username == "" || u.Password == "" || strings.ContainsAny(u.Username, "@/ ") {
		usFail(w, http.StatusBadRequest, "IllegalArgumentException")
		return
	}
	if f.users[u.Username] != nil {
		usFail(w, http.StatusConflict, "UserAlreadyExistsException")
		return
	}
	f.users[u.Username] = &fakeUSUser{password: u.Password, name: u.Name, email: u.Email, roster: map[string]fakeUSItem{}}
	w.WriteHeader(http.StatusCreated)
}

func (f *fakeUserService) getUser(w http.ResponseWriter, r *http.Request) {
	if u := f.user(w, r); u != nil {
		usXML(w, http.StatusOK, xUser{Username: r.PathValue("username"), Name: u.name, Email: u.email})
	}
}

// updateUser overwrites the user, as the plugin's PUT does: a field left
// out is cleared.
func (f *fakeUserService) updateUser(w http.ResponseWriter, r *http.Request) {
	u := f.user(w, r)
	if u == nil {
		return
	}
	var in xUser
	if xml.NewDecoder(r.Body).Decode(&in) != nil {
		usFail(w, http.StatusBadRequest, "IllegalArgumentException")
		return
	}
	u.name, u.email = in.Name, in.Email
	if in.Password != "" {
		u.password = in.Password
	}
	w.WriteHeader(http.StatusOK)
}

func (f *fakeUserService) deleteUser(w http.ResponseWriter, r *http.Request) {
	if f.user(w, r) != nil {
		delete(f.users, r.PathValue("username"))
		w.WriteHeader(http.StatusOK)
	}
}

func (f *fakeUserService) userGroups(w http.ResponseWriter, r *http.Request) {
	if u := f.user(w, r); u != nil {
		usXML(w, http.StatusOK, xGroups{Groupname: u.groups})
	}
}

func (f *fakeUserService) addGroups(w http.ResponseWriter, r *http.Request) {
	u := f.user(w, r)
	var g xGroups
	if u == nil || xml.NewDecoder(r.Body).Decode(&g) != nil {
		return
	}
	for _, n := range g.Groupname {
		if !slices.Contains(u.groups, n) {
			u.groups = append(u.groups, n)
		}
	}
	w.WriteHeader(http.StatusCreated)
}

func (f *fakeUserService) removeGroups(w http.ResponseWriter, r *http.Request) {
	u := f.user(w, r)
	var g xGroups
	if u == nil || xml.NewDecoder(r.Body).Decode(&g) != nil {
		return
	}
	u.groups = slices.DeleteFunc(u.groups, func(n string) bool { return slices.Contains(g.Groupname, n) })
	w.WriteHeader(http.StatusOK)
}

func (f *fakeUserService) lock(on bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if f.user(w, r) == nil {
			return
		}
		f.locked[r.PathValue("username")] = on
		if on {
			w.WriteHeader(http.StatusCreated)
		}
	}
}

func (f *fakeUserService) roster(w http.ResponseWriter, r *http.Request) {
	u := f.user(w, r)
	if u == nil {
		return
	}
	var res struct {
		XMLName xml.Name `xml:"roster"`
		Item    []xItem  `xml:"rosterItem"`
	}
	for _, jid := range slices.Sorted(func(yield func(string) bool) {
		for j := range u.roster {
			if !yield(j) {
				return
			}
		}
	}) {
		it := u.roster[jid]
		res.Item = append(res.Item, xItem{JID: jid, Nickname: it.nick, SubscriptionType: it.sub, Groups: it.groups})
	}
	usXML(w, http.StatusOK, res)
}

func (f *fakeUserService) addItem(w http.ResponseWriter, r *http.Request) {
	u := f.user(w, r)
	var it xItem
	if u == nil || xml.NewDecoder(r.Body).Decode(&it) != nil {
		return
	}
	if _, ok := u.roster[it.JID]; ok {
		usFail(w, http.StatusConflict, "UserAlreadyExistsException")
		return
	}
	u.roster[it.JID] = fakeUSItem{nick: it.Nickname, sub: it.SubscriptionType, groups: it.Groups}
	w.WriteHeader(http.StatusCreated)
}

func (f *fakeUserService) updateItem(w http.ResponseWriter, r *http.Request) {
	u := f.user(w, r)
	var it xItem
	if u == nil || xml.NewDecoder(r.Body).Decode(&it) != nil {
		return
	}
	if _, ok := u.roster[r.PathValue("jid")]; !ok {
		usFail(w, http.StatusNotFound, "UserNotFoundException")
		return
	}
	u.roster[r.PathValue("jid")] = fakeUSItem{nick: it.Nickname, sub: it.SubscriptionType, groups: it.Groups}
}

func (f *fakeUserService) deleteItem(w http.ResponseWriter, r *http.Request) {
	u := f.user(w, r)
	if u == nil {
		return
	}
	if _, ok := u.roster[r.PathValue("jid")]; !ok {
		usFail(w, http.StatusNotFound, "UserNotFoundException")
		return
	}
	delete(u.roster, r.PathValue("jid"))
}

// legacy is the query-string form: every answer is HTTP 200.
func (f *fakeUserService) legacy(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	w.Header().Set("Content-Type", "text/xml")
	fail := func(name string) { fmt.Fprintf(w, "<error>%s</error>\n", name) }
	if q.Get("secret") != usSecret {
		fail("RequestNotAuthorised")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	typ := q.Get("type")
	f.requests = append(f.requests, "legacy "+typ)
	name := q.Get("username")
	u := f.users[name]
	needUser := func() bool {
		if u == nil {
			fail("UserNotFoundException")
		}
		return u != nil
	}
	var list []string
	switch typ {
	case "add":
		if name == "" || q.Get("password") == "" || strings.ContainsAny(name, "@/ ") {
			fail("IllegalArgumentException")
			return
		}
		if u != nil {
			fail("UserAlreadyExistsException")
			return
		}
		f.users[name] = &fakeUSUser{password: q.Get("password"), roster: map[string]fakeUSItem{}}
	case "delete":
		if !needUser() {
			return
		}
		delete(f.users, name)
	case "update":
		if !needUser() {
			return
		}
		if p := q.Get("password"); p != "" {
			u.password = p
		}
		if g := q.Get("groups"); g != "" {
			u.groups = strings.Split(g, ",")
		}
	case "disable", "enable":
		if !needUser() {
			return
		}
		f.locked[name] = typ == "disable"
	case "add_roster", "update_roster", "delete_roster":
		if !needUser() {
			return
		}
		jid := q.Get("item_jid")
		_, exists := u.roster[jid]
		switch {
		case typ == "add_roster" && exists:
			fail("UserAlreadyExistsException")
			return
		case typ != "add_roster" && !exists:
			fail("UserNotFoundException")
			return
		case typ == "delete_roster":
			delete(u.roster, jid)
		default:
			var sub int
			fmt.Sscan(q.Get("subscription"), &sub)
			var groups []string
			if g := q.Get("groups"); g != "" {
				groups = strings.Split(g, ",")
			}
			u.roster[jid] = fakeUSItem{nick: q.Get("name"), sub: sub, groups: groups}
		}
	case "grouplist":
		seen := map[string]bool{}
		for _, u := range f.users {
			for _, g := range u.groups {
				if !seen[g] {
					seen[g] = true
					list = append(list, g)
				}
			}
		}
		slices.Sort(list)
	case "usergrouplist":
		if !needUser() {
			return
		}
		list = u.groups
	default:
		fail("IllegalArgumentException")
		return
	}
	if typ == "grouplist" || typ == "usergrouplist" {
		fmt.Fprint(w, "<result>")
		for _, g := range list {
			fmt.Fprintf(w, "<groupname>%s</groupname>", g)
		}
		fmt.Fprint(w, "</result>")
		return
	}
	fmt.Fprint(w, "<result>OK</result>")
}

// TestUserService runs every operation against the fake plugin in both
// forms (and the REST form with an admin's basic auth) and checks what the
// plugin holds afterwards and what the Directory answers.
func TestUserService(t *testing.T) {
	for _, form := range []struct {
		name   string
		client func(base string) *xmppadmin.UserService
	}{
		{"rest secret", func(b string) *xmppadmin.UserService {
			return &xmppadmin.UserService{BaseURL: b, Domain: "example.org", Secret: usSecret}
		}},
		{"rest basic", func(b string) *xmppadmin.UserService {
			return &xmppadmin.UserService{BaseURL: b, Domain: "example.org", User: "admin", Password: "12345"}
		}},
		{"legacy", func(b string) *xmppadmin.UserService {
			return &xmppadmin.UserService{BaseURL: b, Domain: "example.org", Secret: usSecret, Legacy: true}
		}},
	} {
		t.Run(form.name, func(t *testing.T) {
			f, srv := newFakeUserService(t)
			us := form.client(srv.URL + usBase)
			legacy := us.Legacy
			ctx := t.Context()

			if err := us.Status(ctx); err != nil {
				t.Fatalf("Status: %v", err)
			}
			if err := us.Register(ctx, "kafka", "p4ss"); err != nil {
				t.Fatalf("Register: %v", err)
			}
			if err := us.Register(ctx, "kafka", "x"); !errors.Is(err, xmppadmin.ErrUserExists) {
				t.Errorf("Register twice: %v, want ErrUserExists", err)
			}
			if err := us.Register(ctx, "bad name", "x"); !errors.Is(err, xmppadmin.ErrInvalidUser) {
				t.Errorf("Register a bad name: %v, want ErrInvalidUser", err)
			}
			f.users["kafka"].name, f.users["kafka"].email = "Franz", "f@example.org"
			if err := us.ChangePassword(ctx, "kafka", "n3w"); err != nil {
				t.Fatalf("ChangePassword: %v", err)
			}
			if k := f.users["kafka"]; k.password != "n3w" || k.name != "Franz" || k.email != "f@example.org" {
				t.Errorf("after ChangePassword the plugin holds %+v: the password changed, nothing else", *k)
			}
			if err := us.ChangePassword(ctx, "nobody", "x"); !errors.Is(err, xmppadmin.ErrUserNotFound) {
				t.Errorf("ChangePassword of nobody: %v, want ErrUserNotFound", err)
			}

			// Exists and Users: the REST form only.
			ok, err := us.Exists(ctx, "kafka")
			gone, err2 := us.Exists(ctx, "nobody")
			users, err3 := us.Users(ctx)
			if legacy {
				for _, e := range []error{err, err2, err3} {
					if !errors.Is(e, xmppadmin.ErrUnsupported) {
						t.Errorf("legacy Exists/Users: %v, want ErrUnsupported", e)
					}
				}
			} else {
				if err != nil || err2 != nil || err3 != nil || !ok || gone || !slices.Equal(users, []string{"kafka"}) {
					t.Errorf("Exists = %v %v (%v %v), Users = %v (%v)", ok, gone, err, err2, users, err3)
				}
			}

			// Groups: a group comes with its first member.
			if err := us.AddGroupMember(ctx, "Support", "kafka"); err != nil {
				t.Fatalf("AddGroupMember: %v", err)
			}
			if err := us.AddGroupMember(ctx, "Admins", "kafka"); err != nil {
				t.Fatalf("AddGroupMember: %v", err)
			}
			if got := f.users["kafka"].groups; !slices.Equal(got, []string{"Support", "Admins"}) {
				t.Errorf("kafka's groups %v", got)
			}
			groups, err := us.Groups(ctx)
			switch {
			case us.Secret == "":
				if !errors.Is(err, xmppadmin.ErrUnsupported) {
					t.Errorf("Groups without the secret: %v, want ErrUnsupported", err)
				}
			case err != nil || !slices.Equal(groups, []string{"Admins", "Support"}):
				t.Errorf("Groups = %v (%v)", groups, err)
			}
			err = us.RemoveGroupMember(ctx, "Support", "kafka")
			if legacy {
				if !errors.Is(err, xmppadmin.ErrUnsupported) {
					t.Errorf("legacy RemoveGroupMember: %v, want ErrUnsupported", err)
				}
			} else if err != nil || !slices.Equal(f.users["kafka"].groups, []string{"Admins"}) {
				t.Errorf("RemoveGroupMember: %v; groups %v", err, f.users["kafka"].groups)
			}
			for name, err := range map[string]error{
				"CreateGroup":  us.CreateGroup(ctx, "g", "G", "", nil),
				"DeleteGroup":  us.DeleteGroup(ctx, "g"),
				"GroupMembers": func() error { _, err := us.GroupMembers(ctx, "g"); return err }(),
				"IssueToken":   func() error { _, err := us.IssueToken(ctx, "kafka", 0); return err }(),
			} {
				if !errors.Is(err, xmppadmin.ErrUnsupported) {
					t.Errorf("%s: %v, want ErrUnsupported", name, err)
				}
			}

			// Lockouts.
			if err := us.LockOut(ctx, "kafka"); err != nil || !f.locked["kafka"] {
				t.Errorf("LockOut: %v, locked %v", err, f.locked["kafka"])
			}
			if err := us.Unlock(ctx, "kafka"); err != nil || f.locked["kafka"] {
				t.Errorf("Unlock: %v, locked %v", err, f.locked["kafka"])
			}
			if err := us.LockOut(ctx, "nobody"); !errors.Is(err, xmppadmin.ErrUserNotFound) {
				t.Errorf("LockOut nobody: %v, want ErrUserNotFound", err)
			}

			// Rosters: add, then the same JID again updates.
			e := xmppadmin.RosterEntry{JID: "peter@pan.de", Nickname: "Peter", Subscription: "both", Groups: []string{"Friends"}}
			if err := us.SetRosterEntry(ctx, "kafka", e); err != nil {
				t.Fatalf("SetRosterEntry: %v", err)
			}
			e.Nickname, e.Subscription = "Peter Pan", "to"
			if err := us.SetRosterEntry(ctx, "kafka", e); err != nil {
				t.Fatalf("SetRosterEntry again: %v", err)
			}
			if it := f.users["kafka"].roster["peter@pan.de"]; it.nick != "Peter Pan" || it.sub != 1 || !slices.Equal(it.groups, []string{"Friends"}) {
				t.Errorf("the plugin holds %+v", it)
			}
			if err := us.SetRosterEntry(ctx, "kafka", xmppadmin.RosterEntry{JID: "x@y", Subscription: "sideways"}); !errors.Is(err, xmppadmin.ErrInvalidUser) {
				t.Errorf("a bad subscription: %v", err)
			}
			entries, err := us.RosterEntries(ctx, "kafka")
			if legacy {
				if !errors.Is(err, xmppadmin.ErrUnsupported) {
					t.Errorf("legacy RosterEntries: %v, want ErrUnsupported", err)
				}
			} else if diff := cmp.Diff([]xmppadmin.RosterEntry{e}, entries); err != nil || diff != "" {
				t.Errorf("RosterEntries (%v) (-want +got):\n%s", err, diff)
			}
			if err := us.RemoveRosterEntry(ctx, "kafka", "peter@pan.de"); err != nil || len(f.users["kafka"].roster) != 0 {
				t.Errorf("RemoveRosterEntry: %v, roster %v", err, f.users["kafka"].roster)
			}

			if err := us.Unregister(ctx, "kafka"); err != nil || f.users["kafka"] != nil {
				t.Errorf("Unregister: %v", err)
			}
			if err := us.Unregister(ctx, "kafka"); !errors.Is(err, xmppadmin.ErrUserNotFound) {
				t.Errorf("Unregister twice: %v, want ErrUserNotFound", err)
			}

			// Every REST request with a body was XML, as the plugin wants.
			for _, ct := range f.bodies {
				if ct != "application/xml" {
					t.Errorf("a request body of type %q", ct)
				}
			}
			if legacy {
				for _, r := range f.requests {
					if !strings.HasPrefix(r, "legacy ") {
						t.Errorf("legacy client made REST request %s", r)
					}
				}
			}
		})
	}
}

// TestUserServiceFailures: wrong credentials, a disabled plugin, a server
// that is down or answers 503; no error carries the secret or a password.
func TestUserServiceFailures(t *testing.T) {
	ctx := t.Context()
	_, srv := newFakeUserService(t)
	disabled := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<error>UserServiceDisabled</error>")
	}))
	defer disabled.Close()
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer busy.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()

	tests := []struct {
		name      string
		us        *xmppadmin.UserService
		call      func(*xmppadmin.UserService) error
		want      error // a sentinel, or nil for an *APIError
		wantState int   // the APIError's status when want is nil
	}{
		{"rest wrong secret", &xmppadmin.UserService{BaseURL: srv.URL + usBase, Secret: "wrong-" + usSecret},
			func(u *xmppadmin.UserService) error { return u.Register(ctx, "a", "pw-do-not-leak") }, nil, http.StatusUnauthorized},
		{"legacy wrong secret", &xmppadmin.UserService{BaseURL: srv.URL + usBase, Secret: "wrong-" + usSecret, Legacy: true},
			func(u *xmppadmin.UserService) error { return u.Register(ctx, "a", "pw-do-not-leak") }, nil, http.StatusForbidden},
		{"legacy without secret", &xmppadmin.UserService{BaseURL: srv.URL + usBase, User: "admin", Password: "12345", Legacy: true},
			func(u *xmppadmin.UserService) error { return u.LockOut(ctx, "a") }, xmppadmin.ErrUnsupported, 0},
		{"disabled", &xmppadmin.UserService{BaseURL: disabled.URL, Secret: usSecret, Legacy: true},
			func(u *xmppadmin.UserService) error { return u.Status(ctx) }, xmppadmin.ErrUnavailable, 0},
		{"503", &xmppadmin.UserService{BaseURL: busy.URL, Secret: usSecret},
			func(u *xmppadmin.UserService) error { return u.Register(ctx, "a", "pw-do-not-leak") }, xmppadmin.ErrUnavailable, 0},
		{"down rest", &xmppadmin.UserService{BaseURL: downURL, Secret: usSecret},
			func(u *xmppadmin.UserService) error { return u.Status(ctx) }, xmppadmin.ErrUnavailable, 0},
		{"down legacy", &xmppadmin.UserService{BaseURL: downURL, Secret: usSecret, Legacy: true},
			func(u *xmppadmin.UserService) error { return u.Register(ctx, "a", "pw-do-not-leak") }, xmppadmin.ErrUnavailable, 0},
		{"status wrong secret", &xmppadmin.UserService{BaseURL: srv.URL + usBase, Secret: "wrong-" + usSecret},
			func(u *xmppadmin.UserService) error { return u.Status(ctx) }, xmppadmin.ErrUnavailable, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(tt.us)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
			if tt.want == nil {
				var ae *xmppadmin.APIError
				if !errors.As(err, &ae) || ae.Status != tt.wantState {
					t.Errorf("error %v, want an APIError with status %d", err, tt.wantState)
				}
			}
			for _, secret := range []string{usSecret, "pw-do-not-leak", "12345"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q carries a secret", err)
				}
			}
		})
	}
}

// TestUserServiceCanceled: a call whose context ends says so.
func TestUserServiceCanceled(t *testing.T) {
	_, srv := newFakeUserService(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	us := &xmppadmin.UserService{BaseURL: srv.URL + usBase, Secret: usSecret, Legacy: true}
	if err := us.Register(ctx, "a", "b"); !errors.Is(err, context.Canceled) || strings.Contains(err.Error(), usSecret) {
		t.Errorf("Register with an ended context: %v", err)
	}
}

// TestIssuesTokens: only ejabberd's admin API issues login tokens.
func TestIssuesTokens(t *testing.T) {
	for _, tt := range []struct {
		d    xmppadmin.Directory
		want bool
	}{
		{&xmppadmin.Ejabberd{}, true},
		{&xmppadmin.Openfire{}, false},
		{&xmppadmin.UserService{}, false},
	} {
		if got := xmppadmin.IssuesTokens(tt.d); got != tt.want {
			t.Errorf("IssuesTokens(%T) = %v, want %v", tt.d, got, tt.want)
		}
	}
}
