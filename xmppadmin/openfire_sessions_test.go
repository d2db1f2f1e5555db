package xmppadmin_test

import (
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sparkgate/sparkgate/xmppadmin"
)

// listSessions answers GET /sessions as the plugin documents its session
// entity: sessionId (the full JID), username, resource, node ("Local" or
// "Remote"), sessionStatus, presenceStatus, priority, hostAddress,
// hostName, creationDate, lastActionDate, secure. A session of another
// domain is listed too (a server with several), which the client skips.
func (f *fakeOpenfire) listSessions(w http.ResponseWriter, r *http.Request) {
	type session struct {
		SessionID      string `json:"sessionId"`
		Username       string `json:"username"`
		Resource       string `json:"resource"`
		Node           string `json:"node"`
		SessionStatus  string `json:"sessionStatus"`
		PresenceStatus string `json:"presenceStatus"`
		Priority       int    `json:"priority"`
		HostAddress    string `json:"hostAddress"`
		HostName       string `json:"hostName"`
		CreationDate   string `json:"creationDate"`
		LastActionDate string `json:"lastActionDate"`
		Secure         bool   `json:"secure"`
	}
	out := []session{{SessionID: "zed@elsewhere.example/x", Username: "zed", Resource: "x", Node: "Local"}}
	for _, u := range slices.Sorted(func(yield func(string) bool) {
		for u := range f.online {
			if !yield(u) {
				return
			}
		}
	}) {
		for _, res := range f.online[u] {
			out = append(out, session{SessionID: u + "@example.com/" + res, Username: u, Resource: res, Node: "Local",
				SessionStatus: "Authenticated", PresenceStatus: "Online", Priority: 1, HostAddress: "192.0.2.7",
				HostName: "client.example", CreationDate: "2014-07-10T09:49:12.411+02:00",
				LastActionDate: "2014-07-10T09:50:00.000+02:00", Secure: true})
		}
	}
	f.json(w, http.StatusOK, map[string]any{"sessions": out})
}

// kick ends a user's sessions (200), as DELETE /sessions/{username}; 404
// for no such user.
func (f *fakeOpenfire) kick(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("username")
	if _, ok := f.users[name]; !ok {
		f.fail(w, http.StatusNotFound, name, "UserNotFoundException")
		return
	}
	delete(f.online, name)
}

// broadcast takes the message entity (a body) and answers 201, as POST
// /messages/users.
func (f *fakeOpenfire) broadcast(w http.ResponseWriter, r *http.Request) {
	var m struct {
		Body string `json:"body"`
	}
	if !f.decode(w, r, &m) {
		return
	}
	if m.Body == "" {
		f.fail(w, http.StatusBadRequest, "messages", "IllegalArgumentException")
		return
	}
	f.messages = append(f.messages, m.Body)
	w.WriteHeader(http.StatusCreated)
}

func TestOperatorOpenfireSessions(t *testing.T) {
	ctx := t.Context()
	o, f := secretOpenfire(t)
	for _, u := range []string{"alice", "bob"} {
		if err := o.Register(ctx, u, "pw"); err != nil {
			t.Fatal(err)
		}
	}
	f.mu.Lock()
	f.online = map[string][]string{"alice": {"phone", "laptop"}, "bob": {"web"}}
	f.mu.Unlock()

	got, err := o.ServerSessions(ctx)
	if err != nil {
		t.Fatalf("ServerSessions: %v", err)
	}
	since := time.Date(2014, 7, 10, 7, 49, 12, 411e6, time.UTC)
	want := []xmppadmin.ServerSession{
		{JID: "alice@example.com/phone", IP: "192.0.2.7", Node: "Local", Priority: 1, Status: "online", Since: since},
		{JID: "alice@example.com/laptop", IP: "192.0.2.7", Node: "Local", Priority: 1, Status: "online", Since: since},
		{JID: "bob@example.com/web", IP: "192.0.2.7", Node: "Local", Priority: 1, Status: "online", Since: since},
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("ServerSessions (-want +got):\n%s", diff)
	}

	if n, err := o.Kick(ctx, "alice"); err != nil || n != -1 {
		t.Errorf("Kick = %d, %v; want -1 (not told), nil", n, err)
	}
	if _, err := o.Kick(ctx, "nobody"); !errors.Is(err, xmppadmin.ErrUserNotFound) {
		t.Errorf("Kick(nobody) = %v, want ErrUserNotFound", err)
	}
	if n, err := o.Broadcast(ctx, xmppadmin.Broadcast{Type: "headline", Subject: "Notice", Body: "back at 10"}); err != nil || n != -1 {
		t.Errorf("Broadcast = %d, %v; want -1, nil", n, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.online["alice"]; ok {
		t.Error("alice is still online after Kick")
	}
	if !slices.Equal(f.messages, []string{"Notice\nback at 10"}) {
		t.Errorf("broadcast bodies %q", f.messages)
	}
	wantReqs := []string{"GET /sessions", "DELETE /sessions/alice", "DELETE /sessions/nobody", "POST /messages/users"}
	if reqs := f.requests[len(f.requests)-len(wantReqs):]; !slices.Equal(reqs, wantReqs) {
		t.Errorf("requests %q, want %q", reqs, wantReqs)
	}
}

func TestOperatorOpenfireSessionsDown(t *testing.T) {
	ctx := t.Context()
	o, f := secretOpenfire(t)
	f.mu.Lock()
	f.down = true
	f.mu.Unlock()
	if _, err := o.ServerSessions(ctx); !errors.Is(err, xmppadmin.ErrUnavailable) {
		t.Errorf("ServerSessions = %v, want ErrUnavailable", err)
	}
	if _, err := o.Kick(ctx, "alice"); !errors.Is(err, xmppadmin.ErrUnavailable) {
		t.Errorf("Kick = %v, want ErrUnavailable", err)
	}
	if _, err := o.Broadcast(ctx, xmppadmin.Broadcast{Body: "x"}); !errors.Is(err, xmppadmin.ErrUnavailable) {
		t.Errorf("Broadcast = %v, want ErrUnavailable", err)
	}
}
