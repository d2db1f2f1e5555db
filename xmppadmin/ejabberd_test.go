package xmppadmin_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sparkgate/sparkgate/xmppadmin"
)

// answer is one canned reply of the fake API.
type answer struct {
	status int
	body   string
}

// fakeAPI plays ejabberd's mod_http_api: it answers each command from a
// table and records the requests it got, as "command {json}".
type fakeAPI struct {
	answers map[string]answer
	mu      sync.Mutex
	got     []string
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cmd := strings.TrimPrefix(r.URL.Path, "/api/")
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.got = append(f.got, cmd+" "+string(body))
	f.mu.Unlock()
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	a, ok := f.answers[cmd]
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"status":"error","code":40,"message":"Endpoint not found."}`)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	io.WriteString(w, a.body)
}

func newFake(t *testing.T, answers map[string]answer) (*xmppadmin.Ejabberd, *fakeAPI) {
	t.Helper()
	f := &fakeAPI{answers: answers}
	ts := httptest.NewServer(f)
	t.Cleanup(ts.Close)
	return &xmppadmin.Ejabberd{BaseURL: ts.URL + "/api", Domain: "example.test", HTTP: ts.Client()}, f
}

const (
	exists  = `0`
	missing = `1`
)

func TestEjabberd(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		answers map[string]answer
		run     func(e *xmppadmin.Ejabberd) (any, error)
		want    any
		wantErr error
		wantReq []string
	}{{
		name:    "register",
		answers: map[string]answer{"register": {200, `"User alice@example.test successfully registered"`}},
		run:     func(e *xmppadmin.Ejabberd) (any, error) { return nil, e.Register(ctx, "alice", "s3cret") },
		wantReq: []string{`register {"user":"alice","host":"example.test","password":"s3cret"}`},
	}, {
		name: "register-conflict",
		answers: map[string]answer{"register": {409,
			`{"status":"error","code":10090,"message":"User alice@example.test already registered"}`}},
		run:     func(e *xmppadmin.Ejabberd) (any, error) { return nil, e.Register(ctx, "alice", "s3cret") },
		wantErr: xmppadmin.ErrUserExists,
		wantReq: []string{`register {"user":"alice","host":"example.test","password":"s3cret"}`},
	}, {
		name: "register-malformed",
		answers: map[string]answer{"register": {500,
			`{"status":"error","code":10001,"message":"Can't register user a b@example.test at node n: Malformed username"}`}},
		run:     func(e *xmppadmin.Ejabberd) (any, error) { return nil, e.Register(ctx, "a b", "s3cret") },
		wantErr: xmppadmin.ErrInvalidUser,
		wantReq: []string{`register {"user":"a b","host":"example.test","password":"s3cret"}`},
	}, {
		name: "roster-entries",
		answers: map[string]answer{"get_roster": {200, `[` +
			`{"jid":"Bob@example.test","nick":"Bob","subscription":"both","ask":"undefined","group":"Friends"},` +
			`{"jid":"carol@example.test","nick":"","subscription":"to","ask":"undefined","group":""},` +
			`{"jid":"bob@example.test","nick":"Bob","subscription":"both","ask":"undefined","group":"Work"},` +
			`{"jid":"dave@example.test","nick":"","subscription":"none","ask":"in","group":""},` +
			`{"jid":"erin@example.test","nick":"","subscription":"none","ask":"subscribe","group":""}]`}},
		run: func(e *xmppadmin.Ejabberd) (any, error) { return e.RosterEntries(ctx, "alice") },
		want: []xmppadmin.RosterEntry{
			{JID: "bob@example.test", Nickname: "Bob", Subscription: "both", Groups: []string{"Friends", "Work"}},
			{JID: "carol@example.test", Subscription: "to"},
			{JID: "erin@example.test", Subscription: "none"},
		},
		wantReq: []string{`get_roster {"user":"alice","host":"example.test"}`},
	}, {
		name:    "roster-entries-empty",
		answers: map[string]answer{"get_roster": {200, `[]`}},
		run:     func(e *xmppadmin.Ejabberd) (any, error) { return e.RosterEntries(ctx, "alice") },
		want:    []xmppadmin.RosterEntry{},
		wantReq: []string{`get_roster {"user":"alice","host":"example.test"}`},
	}, {
		name:    "exists",
		answers: map[string]answer{"check_account": {200, exists}},
		run:     func(e *xmppadmin.Ejabberd) (any, error) { return e.Exists(ctx, "alice") },
		want:    true,
		wantReq: []string{`check_account {"user":"alice","host":"example.test"}`},
	}, {
		name:    "exists-missing",
		answers: map[string]answer{"check_account": {200, missing}},
		run:     func(e *xmppadmin.Ejabberd) (any, error) { return e.Exists(ctx, "bob") },
		want:    false,
		wantReq: []string{`check_account {"user":"bob","host":"example.test"}`},
	}, {
		name:    "unregister",
		answers: map[string]answer{"check_account": {200, exists}, "unregister": {200, `""`}},
		run:     func(e *xmppadmin.Ejabberd) (any, error) { return nil, e.Unregister(ctx, "alice") },
		wantReq: []string{
			`check_account {"user":"alice","host":"example.test"}`,
			`unregister {"user":"alice","host":"example.test"}`,
		},
	}, {
		name:    "unregister-missing",
		answers: map[string]answer{"check_account": {200, missing}, "unregister": {200, `""`}},
		run:     func(e *xmppadmin.Ejabberd) (any, error) { return nil, e.Unregister(ctx, "bob") },
		wantErr: xmppadmin.ErrUserNotFound,
		wantReq: []string{`check_account {"user":"bob","host":"example.test"}`},
	}, {
		name: "issue-token",
		answers: map[string]answer{"check_account": {200, exists}, "oauth_issue_token": {200,
			`{"token":"tok123","scopes":"sasl_auth","expires_in":"90 seconds"}`}},
		run:  func(e *xmppadmin.Ejabberd) (any, error) { return e.IssueToken(ctx, "alice", 90*time.Second) },
		want: "tok123",
		wantReq: []string{
			`check_account {"user":"alice","host":"example.test"}`,
			`oauth_issue_token {"jid":"alice@example.test","ttl":90,"scopes":"sasl_auth"}`,
		},
	}, {
		name: "issue-token-rounds-up",
		answers: map[string]answer{"check_account": {200, exists}, "oauth_issue_token": {200,
			`{"token":"tok123","scopes":"sasl_auth","expires_in":"1 seconds"}`}},
		run:  func(e *xmppadmin.Ejabberd) (any, error) { return e.IssueToken(ctx, "alice", time.Millisecond) },
		want: "tok123",
		wantReq: []string{
			`check_account {"user":"alice","host":"example.test"}`,
			`oauth_issue_token {"jid":"alice@example.test","ttl":1,"scopes":"sasl_auth"}`,
		},
	}, {
		name:    "issue-token-missing",
		answers: map[string]answer{"check_account": {200, missing}},
		run:     func(e *xmppadmin.Ejabberd) (any, error) { return e.IssueToken(ctx, "bob", time.Hour) },
		want:    "",
		wantErr: xmppadmin.ErrUserNotFound,
		wantReq: []string{`check_account {"user":"bob","host":"example.test"}`},
	}, {
		name:    "change-password",
		answers: map[string]answer{"change_password": {200, `0`}},
		run:     func(e *xmppadmin.Ejabberd) (any, error) { return nil, e.ChangePassword(ctx, "alice", "n3w") },
		wantReq: []string{`change_password {"user":"alice","host":"example.test","newpass":"n3w"}`},
	}, {
		name:    "change-password-missing",
		answers: map[string]answer{"change_password": {404, `"unknown_user"`}},
		run:     func(e *xmppadmin.Ejabberd) (any, error) { return nil, e.ChangePassword(ctx, "bob", "n3w") },
		wantErr: xmppadmin.ErrUserNotFound,
		wantReq: []string{`change_password {"user":"bob","host":"example.test","newpass":"n3w"}`},
	}, {
		name:    "users",
		answers: map[string]answer{"registered_users": {200, `["alice","bob"]`}},
		run:     func(e *xmppadmin.Ejabberd) (any, error) { return e.Users(ctx) },
		want:    []string{"alice", "bob"},
		wantReq: []string{`registered_users {"host":"example.test"}`},
	}, {
		name: "status",
		answers: map[string]answer{"status": {200,
			`"The node nonode@nohost is started. Status: startedejabberd 23.01-1 is running in that node"`}},
		run:     func(e *xmppadmin.Ejabberd) (any, error) { return nil, e.Status(ctx) },
		wantReq: []string{`status {}`},
	}, {
		name:    "status-starting",
		answers: map[string]answer{"status": {200, `"The node nonode@nohost is starting. Status: starting"`}},
		run:     func(e *xmppadmin.Ejabberd) (any, error) { return nil, e.Status(ctx) },
		wantErr: xmppadmin.ErrUnavailable,
		wantReq: []string{`status {}`},
	}, {
		name:    "bad-gateway",
		answers: map[string]answer{"status": {502, `bad gateway`}},
		run:     func(e *xmppadmin.Ejabberd) (any, error) { return nil, e.Status(ctx) },
		wantErr: xmppadmin.ErrUnavailable,
		wantReq: []string{`status {}`},
	}, {
		name:    "create-group",
		answers: map[string]answer{"srg_create": {200, `0`}},
		run: func(e *xmppadmin.Ejabberd) (any, error) {
			return nil, e.CreateGroup(ctx, "team", "Team", "the team", []string{"team", "ops"})
		},
		wantReq: []string{`srg_create {"group":"team","host":"example.test","label":"Team","description":"the team","display":"team\nops"}`},
	}, {
		name:    "create-group-displays-itself",
		answers: map[string]answer{"srg_create": {200, `0`}},
		run:     func(e *xmppadmin.Ejabberd) (any, error) { return nil, e.CreateGroup(ctx, "team", "Team", "", nil) },
		wantReq: []string{`srg_create {"group":"team","host":"example.test","label":"Team","description":"","display":"team"}`},
	}, {
		name:    "group-members",
		answers: map[string]answer{"srg_get_members": {200, `["alice@example.test"]`}},
		run:     func(e *xmppadmin.Ejabberd) (any, error) { return e.GroupMembers(ctx, "team") },
		want:    []string{"alice@example.test"},
		wantReq: []string{`srg_get_members {"group":"team","host":"example.test"}`},
	}, {
		name:    "add-member-fails",
		answers: map[string]answer{"srg_user_add": {200, `1`}},
		run:     func(e *xmppadmin.Ejabberd) (any, error) { return nil, e.AddGroupMember(ctx, "team", "alice") },
		wantErr: &xmppadmin.APIError{},
		wantReq: []string{`srg_user_add {"user":"alice","host":"example.test","group":"team","grouphost":"example.test"}`},
	}, {
		name:    "unknown-command",
		answers: map[string]answer{},
		run:     func(e *xmppadmin.Ejabberd) (any, error) { return e.Groups(ctx) },
		want:    []string(nil),
		wantErr: &xmppadmin.APIError{},
		wantReq: []string{`srg_list {"host":"example.test"}`},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, f := newFake(t, tt.answers)
			got, err := tt.run(e)
			switch want := tt.wantErr.(type) {
			case nil:
				if err != nil {
					t.Fatalf("err = %v, want nil", err)
				}
			case *xmppadmin.APIError:
				var ae *xmppadmin.APIError
				if !errors.As(err, &ae) {
					t.Fatalf("err = %v, want an *APIError", err)
				}
				_ = want
			default:
				if !errors.Is(err, want) {
					t.Fatalf("err = %v, want %v", err, want)
				}
			}
			if err != nil && (strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "n3w") ||
				strings.Contains(err.Error(), "tok123")) {
				t.Errorf("error leaks a secret: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantReq, f.got); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEjabberdAPIErrorShapes(t *testing.T) {
	tests := []struct {
		name string
		ans  answer
		want xmppadmin.APIError
	}{
		{"object", answer{403, `{"status":"error","code":32,"message":"AccessRules: denied"}`},
			xmppadmin.APIError{Command: "registered_users", Status: 403, Code: 32, Message: "AccessRules: denied"}},
		{"string", answer{400, `"Request have missing argument: host"`},
			xmppadmin.APIError{Command: "registered_users", Status: 400, Message: "Request have missing argument: host"}},
		{"text", answer{500, `oops`},
			xmppadmin.APIError{Command: "registered_users", Status: 500, Message: "oops"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := newFake(t, map[string]answer{"registered_users": tt.ans})
			_, err := e.Users(context.Background())
			var ae *xmppadmin.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want *APIError", err)
			}
			if diff := cmp.Diff(tt.want, *ae); diff != "" {
				t.Errorf("APIError (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEjabberdUnavailable(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	url := ts.URL
	ts.Close() // nothing listens there any more
	e := &xmppadmin.Ejabberd{BaseURL: url + "/api", Domain: "example.test"}
	err := e.Register(context.Background(), "alice", "s3cret")
	if !errors.Is(err, xmppadmin.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error leaks the password: %v", err)
	}
}

func TestEjabberdContextCanceled(t *testing.T) {
	block := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(block); ts.Close() })
	e := &xmppadmin.Ejabberd{BaseURL: ts.URL + "/api", Domain: "example.test", HTTP: ts.Client()}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := e.Status(ctx)
	if !errors.Is(err, context.Canceled) || errors.Is(err, xmppadmin.ErrUnavailable) {
		t.Fatalf("err = %v, want context.Canceled only", err)
	}
}

func TestEjabberdRequestsAreJSON(t *testing.T) {
	// Names with quotes and non-ASCII survive the JSON encoding.
	e, f := newFake(t, map[string]answer{"check_account": {200, exists}})
	if _, err := e.Exists(context.Background(), `o"neil-ñ`); err != nil {
		t.Fatal(err)
	}
	_, body, _ := strings.Cut(f.got[0], " ")
	var args map[string]string
	if err := json.Unmarshal([]byte(body), &args); err != nil {
		t.Fatal(err)
	}
	if args["user"] != `o"neil-ñ` {
		t.Errorf("user = %q", args["user"])
	}
}
