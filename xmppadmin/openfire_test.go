package xmppadmin_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sparkgate/sparkgate/xmppadmin"
)

var (
	_ xmppadmin.Directory      = (*xmppadmin.Openfire)(nil)
	_ xmppadmin.GroupDirectory = (*xmppadmin.Openfire)(nil)
)

const (
	ofBase   = "/plugins/restapi/v1"
	ofSecret = "s3cretKey-do-not-leak"
)

// fakeOpenfire behaves like the Openfire REST API plugin as its
// documentation describes it: JSON entities, 201 for creations, 200 for
// other successes, 404 and 409 with the plugin's error entity, and every
// request authenticated by the Authorization header.
type fakeOpenfire struct {
	t    *testing.T
	auth string // the Authorization header every request must carry

	mu       sync.Mutex
	users    map[string]string // username → password
	groups   map[string]*fakeGroup
	requests []string // "METHOD path" of each authenticated request
	badAuth  int      // requests without the right Authorization
	down     bool     // answer 503
	locked   map[string]bool
	online   map[string][]string // username → resources
	messages []string            // bodies sent to every online user
}

// lockout locks a user out (201) or lets them in (200), as the plugin's
// POST and DELETE /lockouts/{username}; 404 for no such user.
func (f *fakeOpenfire) lockout(on bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("username")
		if _, ok := f.users[name]; !ok {
			f.fail(w, http.StatusNotFound, name, "UserNotFoundException")
			return
		}
		if f.locked == nil {
			f.locked = map[string]bool{}
		}
		f.locked[name] = on
		if on {
			w.WriteHeader(http.StatusCreated)
		}
	}
}

type fakeGroup struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Shared      bool     `json:"shared"`
	Admins      []string `json:"admins"`
	Members     []string `json:"members"`
}

func (f *fakeOpenfire) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+ofBase+"/users", f.listUsers)
	mux.HandleFunc("POST "+ofBase+"/users", f.createUser)
	mux.HandleFunc("GET "+ofBase+"/users/{username}", f.getUser)
	mux.HandleFunc("PUT "+ofBase+"/users/{username}", f.updateUser)
	mux.HandleFunc("DELETE "+ofBase+"/users/{username}", f.deleteUser)
	mux.HandleFunc("POST "+ofBase+"/users/{username}/groups/{groupName}", f.addMember)
	mux.HandleFunc("DELETE "+ofBase+"/users/{username}/groups/{groupName}", f.removeMember)
	mux.HandleFunc("GET "+ofBase+"/groups", f.listGroups)
	mux.HandleFunc("POST "+ofBase+"/groups", f.createGroup)
	mux.HandleFunc("GET "+ofBase+"/groups/{groupName}", f.getGroup)
	mux.HandleFunc("PUT "+ofBase+"/groups/{groupName}", f.updateGroup)
	mux.HandleFunc("DELETE "+ofBase+"/groups/{groupName}", f.deleteGroup)
	mux.HandleFunc("POST "+ofBase+"/lockouts/{username}", f.lockout(true))
	mux.HandleFunc("DELETE "+ofBase+"/lockouts/{username}", f.lockout(false))
	mux.HandleFunc("GET "+ofBase+"/sessions", f.listSessions)
	mux.HandleFunc("DELETE "+ofBase+"/sessions/{username}", f.kick)
	mux.HandleFunc("POST "+ofBase+"/messages/users", f.broadcast)
	mux.HandleFunc("GET "+ofBase+"/system/statistics/sessions", func(w http.ResponseWriter, r *http.Request) {
		f.json(w, http.StatusOK, map[string]int{"clusterSessions": 3, "localSessions": 2})
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if r.Header.Get("Authorization") != f.auth {
			f.badAuth++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if f.down {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if r.Header.Get("Accept") != "application/json" {
			f.t.Errorf("%s %s: Accept = %q", r.Method, r.URL.Path, r.Header.Get("Accept"))
		}
		if (r.Method == http.MethodPost || r.Method == http.MethodPut) && r.ContentLength > 0 &&
			r.Header.Get("Content-Type") != "application/json" {
			f.t.Errorf("%s %s: Content-Type = %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		}
		f.requests = append(f.requests, r.Method+" "+strings.TrimPrefix(r.URL.EscapedPath(), ofBase))
		mux.ServeHTTP(w, r)
	})
}

func (f *fakeOpenfire) json(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		f.t.Error(err)
	}
}

// fail answers the plugin's error entity.
func (f *fakeOpenfire) fail(w http.ResponseWriter, status int, resource, exception string) {
	f.json(w, status, map[string]string{
		"ressource":      resource,
		"message":        "Could not do it",
		"exception":      exception,
		"exceptionStack": "org.jivesoftware...\n\tat a.very.long.Stack",
	})
}

type fakeUser struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Name     string `json:"name"`
}

func (f *fakeOpenfire) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		f.t.Errorf("%s %s: body: %v", r.Method, r.URL.Path, err)
		w.WriteHeader(http.StatusBadRequest)
		return false
	}
	return true
}

func (f *fakeOpenfire) listUsers(w http.ResponseWriter, r *http.Request) {
	var out []map[string]string
	for name := range f.users {
		out = append(out, map[string]string{"username": name, "name": strings.ToUpper(name)})
	}
	slices.SortFunc(out, func(a, b map[string]string) int { return strings.Compare(a["username"], b["username"]) })
	f.json(w, http.StatusOK, map[string]any{"users": out})
}

func (f *fakeOpenfire) createUser(w http.ResponseWriter, r *http.Request) {
	var u fakeUser
	if !f.decode(w, r, &u) {
		return
	}
	switch _, ok := f.users[u.Username]; {
	case u.Username == "" || u.Password == "" || strings.ContainsAny(u.Username, " @"):
		f.fail(w, http.StatusBadRequest, "users", "IllegalArgumentException")
	case ok:
		f.fail(w, http.StatusConflict, u.Username, "UserAlreadyExistsException")
	default:
		f.users[u.Username] = u.Password
		w.WriteHeader(http.StatusCreated)
	}
}

func (f *fakeOpenfire) getUser(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("username")
	if strings.ContainsAny(name, " @") {
		f.fail(w, http.StatusBadRequest, name, "IllegalArgumentException")
		return
	}
	if _, ok := f.users[name]; !ok {
		f.fail(w, http.StatusNotFound, name, "UserNotFoundException")
		return
	}
	f.json(w, http.StatusOK, map[string]any{"username": name, "name": "", "properties": []any{}})
}

func (f *fakeOpenfire) updateUser(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("username")
	var u fakeUser
	if !f.decode(w, r, &u) {
		return
	}
	if _, ok := f.users[name]; !ok {
		f.fail(w, http.StatusNotFound, name, "UserNotFoundException")
		return
	}
	if u.Username != name {
		f.t.Errorf("PUT /users/%s renames to %q", name, u.Username)
	}
	if u.Password != "" {
		f.users[name] = u.Password
	}
	w.WriteHeader(http.StatusOK)
}

func (f *fakeOpenfire) deleteUser(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("username")
	if _, ok := f.users[name]; !ok {
		f.fail(w, http.StatusNotFound, name, "UserNotFoundException")
		return
	}
	delete(f.users, name)
	w.WriteHeader(http.StatusOK)
}

func (f *fakeOpenfire) listGroups(w http.ResponseWriter, r *http.Request) {
	var out []*fakeGroup
	for _, g := range f.groups {
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b *fakeGroup) int { return strings.Compare(a.Name, b.Name) })
	f.json(w, http.StatusOK, map[string]any{"groups": out})
}

func (f *fakeOpenfire) createGroup(w http.ResponseWriter, r *http.Request) {
	var g fakeGroup
	if !f.decode(w, r, &g) {
		return
	}
	if _, ok := f.groups[g.Name]; ok {
		f.fail(w, http.StatusConflict, g.Name, "GroupAlreadyExistsException")
		return
	}
	f.groups[g.Name] = &g
	w.WriteHeader(http.StatusCreated)
}

func (f *fakeOpenfire) group(w http.ResponseWriter, name string) *fakeGroup {
	g := f.groups[name]
	if g == nil {
		f.fail(w, http.StatusNotFound, name, "GroupNotFoundException")
	}
	return g
}

func (f *fakeOpenfire) getGroup(w http.ResponseWriter, r *http.Request) {
	if g := f.group(w, r.PathValue("groupName")); g != nil {
		f.json(w, http.StatusOK, g)
	}
}

func (f *fakeOpenfire) updateGroup(w http.ResponseWriter, r *http.Request) {
	g := f.group(w, r.PathValue("groupName"))
	if g == nil {
		return
	}
	var in fakeGroup
	if !f.decode(w, r, &in) {
		return
	}
	g.Description, g.Shared = in.Description, in.Shared
	w.WriteHeader(http.StatusOK)
}

func (f *fakeOpenfire) deleteGroup(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("groupName")
	if f.group(w, name) != nil {
		delete(f.groups, name)
		w.WriteHeader(http.StatusOK)
	}
}

func (f *fakeOpenfire) addMember(w http.ResponseWriter, r *http.Request) {
	user := r.PathValue("username")
	if _, ok := f.users[user]; !ok {
		f.fail(w, http.StatusNotFound, user, "UserNotFoundException")
		return
	}
	g := f.group(w, r.PathValue("groupName"))
	if g == nil {
		return
	}
	jid := user + "@example.com"
	if !slices.Contains(g.Members, jid) {
		g.Members = append(g.Members, jid)
	}
	w.WriteHeader(http.StatusCreated)
}

func (f *fakeOpenfire) removeMember(w http.ResponseWriter, r *http.Request) {
	g := f.group(w, r.PathValue("groupName"))
	if g == nil {
		return
	}
	g.Members = slices.DeleteFunc(g.Members, func(m string) bool { return m == r.PathValue("username")+"@example.com" })
	w.WriteHeader(http.StatusOK)
}

// newOpenfire starts a fake plugin expecting auth and returns a client for
// it built by mk.
func newOpenfire(t *testing.T, auth string, mk func(base string) *xmppadmin.Openfire) (*xmppadmin.Openfire, *fakeOpenfire) {
	t.Helper()
	f := &fakeOpenfire{t: t, auth: auth, users: map[string]string{}, groups: map[string]*fakeGroup{}}
	srv := httptest.NewServer(f.handler())
	t.Cleanup(srv.Close)
	o := mk(srv.URL + ofBase + "/")
	o.HTTP = srv.Client()
	t.Cleanup(func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.badAuth != 0 {
			t.Errorf("%d requests without the right Authorization header", f.badAuth)
		}
	})
	return o, f
}

func secretOpenfire(t *testing.T) (*xmppadmin.Openfire, *fakeOpenfire) {
	t.Helper()
	return newOpenfire(t, ofSecret, func(base string) *xmppadmin.Openfire {
		return &xmppadmin.Openfire{BaseURL: base, Domain: "example.com", Secret: ofSecret}
	})
}

func TestOpenfireUsers(t *testing.T) {
	ctx := t.Context()
	o, f := secretOpenfire(t)

	if err := o.Register(ctx, "alice", "pw1"); err != nil {
		t.Fatalf("Register = %v", err)
	}
	if err := o.Register(ctx, "bob", "pw2"); err != nil {
		t.Fatalf("Register = %v", err)
	}
	if err := o.Register(ctx, "alice", "pw3"); !errors.Is(err, xmppadmin.ErrUserExists) {
		t.Errorf("Register existing = %v, want ErrUserExists", err)
	}
	if err := o.Register(ctx, "bad name", "pw"); !errors.Is(err, xmppadmin.ErrInvalidUser) {
		t.Errorf("Register malformed = %v, want ErrInvalidUser", err)
	}
	for user, want := range map[string]bool{"alice": true, "nobody": false, "bad name": false} {
		if ok, err := o.Exists(ctx, user); err != nil || ok != want {
			t.Errorf("Exists(%q) = %v, %v; want %v", user, ok, err, want)
		}
	}
	if got, err := o.Users(ctx); err != nil || !cmp.Equal(got, []string{"alice", "bob"}) {
		t.Errorf("Users = %q, %v", got, err)
	}
	if err := o.ChangePassword(ctx, "alice", "new-pw"); err != nil {
		t.Errorf("ChangePassword = %v", err)
	}
	if err := o.ChangePassword(ctx, "nobody", "x"); !errors.Is(err, xmppadmin.ErrUserNotFound) {
		t.Errorf("ChangePassword missing = %v, want ErrUserNotFound", err)
	}
	if err := o.Unregister(ctx, "bob"); err != nil {
		t.Errorf("Unregister = %v", err)
	}
	if err := o.Unregister(ctx, "bob"); !errors.Is(err, xmppadmin.ErrUserNotFound) {
		t.Errorf("Unregister missing = %v, want ErrUserNotFound", err)
	}
	tok, err := o.IssueToken(ctx, "alice", time.Hour)
	if !errors.Is(err, xmppadmin.ErrUnsupported) || tok != "" {
		t.Errorf("IssueToken = %q, %v; want ErrUnsupported", tok, err)
	}
	if err := o.Status(ctx); err != nil {
		t.Errorf("Status = %v", err)
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	if diff := cmp.Diff(map[string]string{"alice": "new-pw"}, f.users); diff != "" {
		t.Errorf("server's users (-want +got):\n%s", diff)
	}
	want := []string{
		"POST /users", "POST /users", "POST /users", "POST /users",
		"GET /users/alice", "GET /users/bad%20name", "GET /users/nobody",
		"GET /users",
		"PUT /users/alice", "PUT /users/nobody",
		"DELETE /users/bob", "DELETE /users/bob",
		"GET /system/statistics/sessions",
	}
	// Exists runs over a map: sort those.
	slices.Sort(f.requests[4:7])
	if diff := cmp.Diff(want, f.requests); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

// TestOpenfireLockouts: lock a user out and let them in again; an unknown
// user is ErrUserNotFound.
func TestOpenfireLockouts(t *testing.T) {
	ctx := t.Context()
	o, f := secretOpenfire(t)
	var _ xmppadmin.Lockouts = o
	if err := o.Register(ctx, "alice", "pw1"); err != nil {
		t.Fatal(err)
	}
	if err := o.LockOut(ctx, "alice"); err != nil || !f.locked["alice"] {
		t.Fatalf("LockOut = %v, locked %v", err, f.locked["alice"])
	}
	if err := o.Unlock(ctx, "alice"); err != nil || f.locked["alice"] {
		t.Fatalf("Unlock = %v, locked %v", err, f.locked["alice"])
	}
	if err := o.LockOut(ctx, "nobody"); !errors.Is(err, xmppadmin.ErrUserNotFound) {
		t.Errorf("LockOut(nobody) = %v, want ErrUserNotFound", err)
	}
}

func TestOpenfireGroups(t *testing.T) {
	ctx := t.Context()
	o, f := secretOpenfire(t)
	for _, u := range []string{"alice", "bob"} {
		if err := o.Register(ctx, u, "pw"); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.CreateGroup(ctx, "team", "Team", "the team", nil); err != nil {
		t.Fatalf("CreateGroup = %v", err)
	}
	// Again: updates the existing group.
	if err := o.CreateGroup(ctx, "team", "Team", "our team", nil); err != nil {
		t.Fatalf("CreateGroup existing = %v", err)
	}
	if err := o.CreateGroup(ctx, "hidden", "", "", []string{}); err != nil {
		t.Fatalf("CreateGroup = %v", err)
	}
	if got, err := o.Groups(ctx); err != nil || !cmp.Equal(got, []string{"hidden", "team"}) {
		t.Errorf("Groups = %q, %v", got, err)
	}
	for _, u := range []string{"alice", "bob"} {
		if err := o.AddGroupMember(ctx, "team", u); err != nil {
			t.Errorf("AddGroupMember(%q) = %v", u, err)
		}
	}
	if err := o.AddGroupMember(ctx, "nope", "alice"); err == nil {
		t.Error("AddGroupMember to a missing group succeeded")
	}
	if err := o.RemoveGroupMember(ctx, "team", "bob"); err != nil {
		t.Errorf("RemoveGroupMember = %v", err)
	}
	f.mu.Lock()
	f.groups["team"].Admins = []string{"carol@example.com", "alice@example.com"}
	f.groups["team"].Members = append(f.groups["team"].Members, "dave") // a bare username
	f.mu.Unlock()
	got, err := o.GroupMembers(ctx, "team")
	if diff := cmp.Diff([]string{"alice@example.com", "dave@example.com", "carol@example.com"}, got); err != nil || diff != "" {
		t.Errorf("GroupMembers = %v (-want +got):\n%s", err, diff)
	}
	if _, err := o.GroupMembers(ctx, "nope"); err == nil {
		t.Error("GroupMembers of a missing group succeeded")
	}
	if err := o.DeleteGroup(ctx, "hidden"); err != nil {
		t.Errorf("DeleteGroup = %v", err)
	}
	if err := o.DeleteGroup(ctx, "hidden"); err == nil {
		t.Error("DeleteGroup missing succeeded")
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	if g := f.groups["team"]; g.Description != "our team" || !g.Shared {
		t.Errorf("team = %+v; want shared, described %q", g, "our team")
	}
	if _, ok := f.groups["hidden"]; ok {
		t.Error("hidden still exists")
	}
	want := []string{
		"POST /users", "POST /users",
		"POST /groups", "POST /groups", "PUT /groups/team", "POST /groups",
		"GET /groups",
		"POST /users/alice/groups/team", "POST /users/bob/groups/team", "POST /users/alice/groups/nope",
		"DELETE /users/bob/groups/team",
		"GET /groups/team", "GET /groups/nope",
		"DELETE /groups/hidden", "DELETE /groups/hidden",
	}
	if diff := cmp.Diff(want, f.requests); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestOpenfireBasicAuth(t *testing.T) {
	// admin:12345, the documentation's example.
	o, _ := newOpenfire(t, "Basic YWRtaW46MTIzNDU=", func(base string) *xmppadmin.Openfire {
		return &xmppadmin.Openfire{BaseURL: base, Domain: "example.com", User: "admin", Password: "12345"}
	})
	if err := o.Register(t.Context(), "alice", "pw"); err != nil {
		t.Errorf("Register = %v", err)
	}
	if err := o.Status(t.Context()); err != nil {
		t.Errorf("Status = %v", err)
	}
}

func TestOpenfireEscapesNames(t *testing.T) {
	o, f := secretOpenfire(t)
	if _, err := o.Exists(t.Context(), "a/b?c"); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if diff := cmp.Diff([]string{"GET /users/a%2Fb%3Fc"}, f.requests); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestOpenfireErrors(t *testing.T) {
	ctx := t.Context()

	t.Run("wrong secret", func(t *testing.T) {
		f := &fakeOpenfire{t: t, auth: ofSecret, users: map[string]string{}}
		srv := httptest.NewServer(f.handler())
		t.Cleanup(srv.Close)
		o := &xmppadmin.Openfire{BaseURL: srv.URL + ofBase, Secret: "wrong-" + ofSecret, HTTP: srv.Client()}
		err := o.Register(ctx, "alice", "hunter2-password")
		var ae *xmppadmin.APIError
		if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
			t.Errorf("Register = %v, want an *APIError with 401", err)
		}
		checkNoSecret(t, err, ofSecret, "hunter2-password")
		if err := o.Status(ctx); !errors.Is(err, xmppadmin.ErrUnavailable) {
			t.Errorf("Status = %v, want ErrUnavailable", err)
		}
	})

	t.Run("server says unavailable", func(t *testing.T) {
		o, f := secretOpenfire(t)
		f.mu.Lock()
		f.down = true
		f.mu.Unlock()
		if _, err := o.Users(ctx); !errors.Is(err, xmppadmin.ErrUnavailable) {
			t.Errorf("Users = %v, want ErrUnavailable", err)
		}
		if err := o.Status(ctx); !errors.Is(err, xmppadmin.ErrUnavailable) {
			t.Errorf("Status = %v, want ErrUnavailable", err)
		}
	})

	t.Run("connection refused", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		base := srv.URL
		srv.Close()
		o := &xmppadmin.Openfire{BaseURL: base + ofBase, Secret: ofSecret, User: "admin", Password: "adminpw"}
		err := o.Register(ctx, "alice", "hunter2-password")
		if !errors.Is(err, xmppadmin.ErrUnavailable) {
			t.Errorf("Register = %v, want ErrUnavailable", err)
		}
		checkNoSecret(t, err, ofSecret, "hunter2-password", "adminpw")
		if err := o.Status(ctx); !errors.Is(err, xmppadmin.ErrUnavailable) {
			t.Errorf("Status = %v, want ErrUnavailable", err)
		}
	})

	t.Run("error entity", func(t *testing.T) {
		o, _ := secretOpenfire(t)
		err := o.DeleteGroup(ctx, "missing")
		var ae *xmppadmin.APIError
		if !errors.As(err, &ae) {
			t.Fatalf("DeleteGroup = %v, want *APIError", err)
		}
		want := &xmppadmin.APIError{Command: "DELETE /groups/missing", Status: 404, Message: "GroupNotFoundException: Could not do it"}
		if diff := cmp.Diff(want, ae); diff != "" {
			t.Errorf("APIError (-want +got):\n%s", diff)
		}
	})

	t.Run("canceled", func(t *testing.T) {
		o, _ := secretOpenfire(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := o.Register(cctx, "alice", "pw"); !errors.Is(err, context.Canceled) {
			t.Errorf("Register = %v, want context.Canceled", err)
		}
	})
}

func checkNoSecret(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q contains a secret", err)
		}
	}
}
