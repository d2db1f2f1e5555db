package xmppadmin_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sparkgate/sparkgate/xmppadmin"
)

// fakeOpenfireRosters is the roster part of the Openfire REST API plugin
// as the seed documents it: GET /users/{username}/roster answers
// {"rosterItem": [...]}, POST …/roster creates (201; 409 when the item
// exists), PUT and DELETE …/roster/{jid} change and remove (200; 404 for
// no such user or item); subscriptionType is 0 none, 1 to, 2 from, 3 both.
// Every request must carry the secret in the Authorization header.
type fakeOpenfireRosters struct {
	mu       sync.Mutex
	rosters  map[string][]map[string]any // username → items as the plugin's JSON
	requests []string
	// wrapped answers groups as {"group": [...]}, as older plugins did.
	wrapped bool
}

func (f *fakeOpenfireRosters) handler(t *testing.T) http.Handler {
	mux := http.NewServeMux()
	fail := func(w http.ResponseWriter, status int, exception string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"ressource": "roster", "message": exception, "exception": exception})
	}
	user := func(w http.ResponseWriter, r *http.Request) ([]map[string]any, bool) {
		items, ok := f.rosters[r.PathValue("username")]
		if !ok {
			fail(w, http.StatusNotFound, "UserNotFoundException")
		}
		return items, ok
	}
	find := func(items []map[string]any, jid string) int {
		return slices.IndexFunc(items, func(it map[string]any) bool { return it["jid"] == jid })
	}
	read := func(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
		if r.Header.Get("Content-Type") != "application/json" {
			fail(w, http.StatusUnsupportedMediaType, "UnsupportedMediaType")
			return nil, false
		}
		var it map[string]any
		if err := json.NewDecoder(r.Body).Decode(&it); err != nil || it["jid"] == nil {
			fail(w, http.StatusBadRequest, "BadRequest")
			return nil, false
		}
		return it, true
	}
	mux.HandleFunc("GET "+ofBase+"/users/{username}/roster", func(w http.ResponseWriter, r *http.Request) {
		items, ok := user(w, r)
		if !ok {
			return
		}
		out := make([]map[string]any, 0, len(items))
		for _, it := range items {
			c := map[string]any{}
			for k, v := range it {
				c[k] = v
			}
			if g, ok := it["groups"]; ok && f.wrapped {
				c["groups"] = map[string]any{"group": g}
			}
			out = append(out, c)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"rosterItem": out})
	})
	mux.HandleFunc("POST "+ofBase+"/users/{username}/roster", func(w http.ResponseWriter, r *http.Request) {
		items, ok := user(w, r)
		if !ok {
			return
		}
		it, ok := read(w, r)
		if !ok {
			return
		}
		if find(items, it["jid"].(string)) >= 0 {
			fail(w, http.StatusConflict, "UserAlreadyExistsException")
			return
		}
		f.rosters[r.PathValue("username")] = append(items, it)
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("PUT "+ofBase+"/users/{username}/roster/{jid}", func(w http.ResponseWriter, r *http.Request) {
		items, ok := user(w, r)
		if !ok {
			return
		}
		i := find(items, r.PathValue("jid"))
		if i < 0 {
			fail(w, http.StatusNotFound, "UserNotFoundException")
			return
		}
		if it, ok := read(w, r); ok {
			items[i] = it
		}
	})
	mux.HandleFunc("DELETE "+ofBase+"/users/{username}/roster/{jid}", func(w http.ResponseWriter, r *http.Request) {
		items, ok := user(w, r)
		if !ok {
			return
		}
		i := find(items, r.PathValue("jid"))
		if i < 0 {
			fail(w, http.StatusNotFound, "UserNotFoundException")
			return
		}
		f.rosters[r.PathValue("username")] = slices.Delete(items, i, i+1)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if r.Header.Get("Authorization") != ofSecret {
			t.Errorf("%s %s without the secret", r.Method, r.URL.Path)
			fail(w, http.StatusUnauthorized, "NotAuthorized")
			return
		}
		f.requests = append(f.requests, r.Method+" "+r.URL.EscapedPath())
		mux.ServeHTTP(w, r)
	})
}

// TestOpenfireRosters: the REST API backend's roster operations, request
// by request as the plugin documents them.
func TestOpenfireRosters(t *testing.T) {
	for _, wrapped := range []bool{false, true} {
		name := "groups as a list"
		if wrapped {
			name = "groups wrapped"
		}
		t.Run(name, func(t *testing.T) {
			f := &fakeOpenfireRosters{rosters: map[string][]map[string]any{"alice": {}}, wrapped: wrapped}
			srv := httptest.NewServer(f.handler(t))
			t.Cleanup(srv.Close)
			o := &xmppadmin.Openfire{BaseURL: srv.URL + ofBase, Domain: "example.org", Secret: ofSecret}
			ctx := t.Context()

			if err := o.SetRosterEntry(ctx, "alice", xmppadmin.RosterEntry{JID: "bob@example.org", Nickname: "Bob", Subscription: "both", Groups: []string{"Friends"}}); err != nil {
				t.Fatalf("add: %v", err)
			}
			if err := o.SetRosterEntry(ctx, "alice", xmppadmin.RosterEntry{JID: "carol@example.org"}); err != nil {
				t.Fatalf("add with defaults: %v", err)
			}
			// The same JID again is an update (409, then PUT).
			if err := o.SetRosterEntry(ctx, "alice", xmppadmin.RosterEntry{JID: "bob@example.org", Nickname: "Bobby", Subscription: "to", Groups: []string{"Work", "Friends"}}); err != nil {
				t.Fatalf("update: %v", err)
			}
			got, err := o.RosterEntries(ctx, "alice")
			if err != nil {
				t.Fatal(err)
			}
			want := []xmppadmin.RosterEntry{
				{JID: "bob@example.org", Nickname: "Bobby", Subscription: "to", Groups: []string{"Work", "Friends"}},
				{JID: "carol@example.org", Subscription: "none"},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("roster (-want +got):\n%s", diff)
			}
			if err := o.RemoveRosterEntry(ctx, "alice", "carol@example.org"); err != nil {
				t.Fatalf("remove: %v", err)
			}
			if err := o.RemoveRosterEntry(ctx, "alice", "carol@example.org"); !errors.Is(err, xmppadmin.ErrUserNotFound) {
				t.Fatalf("remove twice: %v, want ErrUserNotFound", err)
			}
			if _, err := o.RosterEntries(ctx, "nobody"); !errors.Is(err, xmppadmin.ErrUserNotFound) {
				t.Fatalf("roster of nobody: %v, want ErrUserNotFound", err)
			}
			if err := o.SetRosterEntry(ctx, "nobody", xmppadmin.RosterEntry{JID: "bob@example.org"}); !errors.Is(err, xmppadmin.ErrUserNotFound) {
				t.Fatalf("add to nobody's roster: %v, want ErrUserNotFound", err)
			}
			if err := o.SetRosterEntry(ctx, "alice", xmppadmin.RosterEntry{JID: "bob@example.org", Subscription: "sideways"}); !errors.Is(err, xmppadmin.ErrInvalidUser) {
				t.Fatalf("an unknown subscription: %v, want ErrInvalidUser", err)
			}
			wantReqs := []string{
				"POST " + ofBase + "/users/alice/roster",
				"POST " + ofBase + "/users/alice/roster",
				"POST " + ofBase + "/users/alice/roster",
				"PUT " + ofBase + "/users/alice/roster/bob@example.org",
				"GET " + ofBase + "/users/alice/roster",
				"DELETE " + ofBase + "/users/alice/roster/carol@example.org",
				"DELETE " + ofBase + "/users/alice/roster/carol@example.org",
				"GET " + ofBase + "/users/nobody/roster",
				"POST " + ofBase + "/users/nobody/roster",
			}
			if diff := cmp.Diff(wantReqs, f.requests); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}
