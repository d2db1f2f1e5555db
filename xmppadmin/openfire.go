package xmppadmin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ErrUnsupported is returned for an operation the server's admin API cannot
// do, e.g. IssueToken on Openfire.
var ErrUnsupported = errors.New("xmppadmin: not supported by this server")

// statusTimeout bounds Openfire.Status (a health check must answer fast).
const statusTimeout = 5 * time.Second

// Openfire is a Directory for one Openfire domain, through the Openfire REST
// API plugin (JSON under e.g. http://host:9090/plugins/restapi/v1).
//
// The plugin authenticates every request with either its shared secret
// (Secret, sent as the whole Authorization header) or an Openfire admin
// account (User and Password, HTTP basic auth); Secret wins when both are set.
//
// The plugin cannot issue OAuth tokens, so IssueToken returns ErrUnsupported:
// everything that logs a user in to XMPP without their password (TOTP and
// passkey logins, reconnecting a session after the gateway dropped it) needs
// a server that issues X-OAUTH2 tokens, such as ejabberd. Password logins,
// registration, account removal and groups work.
//
// Groups are Openfire groups; CreateGroup makes them shared (shown in the
// rosters of their own members). Openfire's REST API has no way to show a
// group to the members of other groups, nor a display name apart from the
// group name, so CreateGroup ignores label and any display other than the
// group itself.
//
// An Openfire is safe for concurrent use; its fields must not change once it
// is in use.
type Openfire struct {
	// BaseURL is the base of the REST API, e.g.
	// "http://127.0.0.1:9090/plugins/restapi/v1".
	BaseURL string
	// Domain is the XMPP domain of the accounts.
	Domain string
	// Secret is the plugin's shared secret key.
	Secret string
	// User and Password are an Openfire admin account, used when Secret is
	// empty.
	User, Password string
	// HTTP sends the requests. Nil means http.DefaultClient.
	HTTP *http.Client
}

var (
	_ Directory      = (*Openfire)(nil)
	_ GroupDirectory = (*Openfire)(nil)
)

// do sends one request: in (unless nil) is marshalled as the JSON body, a
// 2xx answer is decoded into out (unless nil). Transport failures and
// gateway errors wrap ErrUnavailable; other refusals are *APIError whose
// Command is "METHOD path". Neither the secret nor a password is ever part
// of an error.
func (o *Openfire) do(ctx context.Context, method, path string, in, out any) error {
	op := method + " " + path
	var body []byte
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("xmppadmin: %s: encode: %w", op, err)
		}
		body = b
	}
	req, err := pluginRequest(ctx, op, method, o.BaseURL, path, "application/json", body, o.Secret, o.User, o.Password)
	if err != nil {
		return err
	}
	client := o.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("xmppadmin: %s: %w", op, ctxErr)
		}
		// The *url.Error names the URL; credentials travel in a header,
		// never in the URL.
		return fmt.Errorf("xmppadmin: %s: %w: %v", op, ErrUnavailable, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("xmppadmin: %s: read answer: %w: %v", op, ErrUnavailable, err)
	}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
	case resp.StatusCode == http.StatusBadGateway, resp.StatusCode == http.StatusServiceUnavailable, resp.StatusCode == http.StatusGatewayTimeout:
		return fmt.Errorf("xmppadmin: %s: HTTP %d: %w", op, resp.StatusCode, ErrUnavailable)
	default:
		return openfireError(op, resp.StatusCode, raw)
	}
	if out == nil || len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("xmppadmin: %s: decode answer: %w", op, err)
	}
	return nil
}

// openfireError reads the plugin's error entity
// {"ressource":"...","message":"...","exception":"...","exceptionStack":"..."}
// (the stack is dropped), or keeps a short piece of a body of another shape.
func openfireError(op string, status int, raw []byte) *APIError {
	e := &APIError{Command: op, Status: status}
	var obj struct {
		Message   string `json:"message"`
		Exception string `json:"exception"`
	}
	switch {
	case json.Unmarshal(raw, &obj) == nil && (obj.Message != "" || obj.Exception != ""):
		e.Message = strings.TrimSpace(obj.Exception + ": " + obj.Message)
		e.Message = strings.TrimPrefix(strings.TrimSuffix(e.Message, ":"), ": ")
	default:
		e.Message = http.StatusText(status)
	}
	const maxMsg = 200
	if len(e.Message) > maxMsg {
		e.Message = e.Message[:maxMsg] + "…"
	}
	return e
}

// statusOf returns the HTTP status of an *APIError, or 0.
func statusOf(err error) int {
	if ae := asAPIError(err); ae != nil {
		return ae.Status
	}
	return 0
}

// userPath is /users/{user} with the name escaped.
func userPath(user string) string { return "/users/" + url.PathEscape(user) }

// groupPath is /groups/{id} with the name escaped.
func groupPath(id string) string { return "/groups/" + url.PathEscape(id) }

// notFound turns a 404 into ErrUserNotFound.
func notFound(what, user string, err error) error {
	if statusOf(err) == http.StatusNotFound {
		return fmt.Errorf("xmppadmin: %s %q: %w", what, user, ErrUserNotFound)
	}
	return err
}

// openfireUser is the plugin's user entity (the fields sparkgate uses).
type openfireUser struct {
	Username string `json:"username"`
	Password string `json:"password,omitempty"`
	Name     string `json:"name,omitempty"`
	Email    string `json:"email,omitempty"`
}

// Register implements Directory with POST /users (201; 409 when the user
// exists, 400 for a name Openfire refuses).
func (o *Openfire) Register(ctx context.Context, user, password string) error {
	err := o.do(ctx, http.MethodPost, "/users", openfireUser{Username: user, Password: password}, nil)
	switch statusOf(err) {
	case http.StatusConflict:
		return fmt.Errorf("xmppadmin: register %q: %w", user, ErrUserExists)
	case http.StatusBadRequest:
		return fmt.Errorf("xmppadmin: register %q: %w", user, ErrInvalidUser)
	}
	return err
}

// Unregister implements Directory with DELETE /users/{username}.
func (o *Openfire) Unregister(ctx context.Context, user string) error {
	return notFound("unregister", user, o.do(ctx, http.MethodDelete, userPath(user), nil, nil))
}

// Exists implements Directory with GET /users/{username} (404: no such
// user; 400: a name Openfire refuses, which no account can have).
func (o *Openfire) Exists(ctx context.Context, user string) (bool, error) {
	var u openfireUser
	err := o.do(ctx, http.MethodGet, userPath(user), nil, &u)
	switch {
	case statusOf(err) == http.StatusNotFound, statusOf(err) == http.StatusBadRequest:
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// IssueToken returns ErrUnsupported: the REST API plugin cannot issue
// X-OAUTH2 tokens (see Openfire).
func (o *Openfire) IssueToken(ctx context.Context, user string, ttl time.Duration) (string, error) {
	return "", fmt.Errorf("xmppadmin: issue token for %q on Openfire: %w", user, ErrUnsupported)
}

// ChangePassword implements Directory with PUT /users/{username}, whose
// user entity carries the new password.
func (o *Openfire) ChangePassword(ctx context.Context, user, password string) error {
	err := o.do(ctx, http.MethodPut, userPath(user), openfireUser{Username: user, Password: password}, nil)
	return notFound("change password of", user, err)
}

// openfireUsers is the answer of GET /users: {"users":[...]} (plugin 1.3.0
// and later) or {"user":[...]} (older plugins).
type openfireUsers struct {
	Users []openfireUser `json:"users"`
	User  []openfireUser `json:"user"`
}

// Users implements Directory with GET /users.
func (o *Openfire) Users(ctx context.Context) ([]string, error) {
	var res openfireUsers
	if err := o.do(ctx, http.MethodGet, "/users", nil, &res); err != nil {
		return nil, err
	}
	users := make([]string, 0, len(res.Users)+len(res.User))
	for _, u := range append(res.Users, res.User...) {
		users = append(users, u.Username)
	}
	return users, nil
}

// Status implements Directory with GET /system/statistics/sessions, a
// cheap authenticated call, within five seconds. Any failure wraps
// ErrUnavailable.
func (o *Openfire) Status(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	var res struct {
		ClusterSessions int `json:"clusterSessions"`
		LocalSessions   int `json:"localSessions"`
	}
	err := o.do(ctx, http.MethodGet, "/system/statistics/sessions", nil, &res)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrUnavailable):
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// openfireGroup is the plugin's group entity.
type openfireGroup struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Shared      bool     `json:"shared"`
	Admins      []string `json:"admins,omitempty"`
	Members     []string `json:"members,omitempty"`
}

// CreateGroup implements GroupDirectory with POST /groups, or PUT
// /groups/{name} when the group exists (409). The group is shared unless
// display is an empty non-nil list; label and other groups in display are
// not supported by the REST API and ignored.
func (o *Openfire) CreateGroup(ctx context.Context, id, label, description string, display []string) error {
	g := openfireGroup{Name: id, Description: description, Shared: display == nil || len(display) > 0}
	err := o.do(ctx, http.MethodPost, "/groups", g, nil)
	if statusOf(err) == http.StatusConflict {
		err = o.do(ctx, http.MethodPut, groupPath(id), g, nil)
	}
	return err
}

// DeleteGroup implements GroupDirectory with DELETE /groups/{name}.
func (o *Openfire) DeleteGroup(ctx context.Context, id string) error {
	return o.do(ctx, http.MethodDelete, groupPath(id), nil, nil)
}

// Groups implements GroupDirectory with GET /groups ({"groups":[...]}, or
// {"group":[...]} from older plugins).
func (o *Openfire) Groups(ctx context.Context) ([]string, error) {
	var res struct {
		Groups []openfireGroup `json:"groups"`
		Group  []openfireGroup `json:"group"`
	}
	if err := o.do(ctx, http.MethodGet, "/groups", nil, &res); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(res.Groups)+len(res.Group))
	for _, g := range append(res.Groups, res.Group...) {
		ids = append(ids, g.Name)
	}
	return ids, nil
}

// GroupMembers implements GroupDirectory with GET /groups/{name}: its
// members and admins (Openfire's group admins are members too), as bare
// JIDs. A plain username gets the directory's domain.
func (o *Openfire) GroupMembers(ctx context.Context, id string) ([]string, error) {
	var g openfireGroup
	if err := o.do(ctx, http.MethodGet, groupPath(id), nil, &g); err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(g.Members)+len(g.Admins))
	members := make([]string, 0, len(g.Members)+len(g.Admins))
	for _, m := range append(g.Members, g.Admins...) {
		if !strings.Contains(m, "@") {
			m += "@" + o.Domain
		}
		if !seen[m] {
			seen[m] = true
			members = append(members, m)
		}
	}
	return members, nil
}

// memberPath is /users/{user}/groups/{id}.
func memberPath(id, user string) string {
	return userPath(user) + "/groups/" + url.PathEscape(id)
}

// AddGroupMember implements GroupDirectory with POST
// /users/{username}/groups/{groupName}.
func (o *Openfire) AddGroupMember(ctx context.Context, id, user string) error {
	return o.do(ctx, http.MethodPost, memberPath(id, user), nil, nil)
}

// RemoveGroupMember implements GroupDirectory with DELETE
// /users/{username}/groups/{groupName}.
func (o *Openfire) RemoveGroupMember(ctx context.Context, id, user string) error {
	return o.do(ctx, http.MethodDelete, memberPath(id, user), nil, nil)
}

// IssuesTokens reports false: see IssueToken.
func (o *Openfire) IssuesTokens() bool { return false }

var _ Lockouts = (*Openfire)(nil)

// LockOut implements Lockouts with POST /lockouts/{username}; Openfire
// also ends the user's sessions.
func (o *Openfire) LockOut(ctx context.Context, user string) error {
	return notFound("lock out", user, o.do(ctx, http.MethodPost, "/lockouts/"+url.PathEscape(user), nil, nil))
}

// Unlock implements Lockouts with DELETE /lockouts/{username}.
func (o *Openfire) Unlock(ctx context.Context, user string) error {
	return notFound("unlock", user, o.do(ctx, http.MethodDelete, "/lockouts/"+url.PathEscape(user), nil, nil))
}
