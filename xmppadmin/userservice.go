package xmppadmin

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// UserService is a Directory for one Openfire domain through the Openfire
// User Service plugin, in its REST form (XML entities under e.g.
// http://host:9090/plugins/userService/users) or, with Legacy, in its older
// query-string form (GET .../plugins/userService/userservice?type=...).
//
// Authentication: the REST form takes the plugin's shared secret as the
// whole Authorization header (Secret) or an Openfire admin account (User and
// Password, HTTP basic auth); the legacy form takes only the secret, as a
// query parameter. The legacy form therefore puts the secret, and for add
// and update a password, in the request's URL, where an access log may keep
// them: use it only for a plugin too old to have the REST form. Neither the
// secret nor a password is ever part of an error.
//
// What the plugin cannot do:
//   - issue X-OAUTH2 tokens (IssueToken: ErrUnsupported): TOTP and passkey
//     logins and password-less reconnects need a server that can (ejabberd);
//   - create or delete an empty group, or list a group's members
//     (CreateGroup, DeleteGroup, GroupMembers: ErrUnsupported): a group
//     comes into being with its first member (AddGroupMember);
//   - list groups without the secret (Groups uses the legacy "grouplist",
//     the only call that lists them);
//   - in the legacy form, list users or roster items, tell whether a user
//     exists, or remove a user from a group (ErrUnsupported).
//
// A UserService is safe for concurrent use; its fields must not change once
// it is in use.
type UserService struct {
	// BaseURL is the plugin's base, e.g.
	// "http://127.0.0.1:9090/plugins/userService".
	BaseURL string
	// Domain is the XMPP domain of the accounts.
	Domain string
	// Secret is the plugin's shared secret key.
	Secret string
	// User and Password are an Openfire admin account for the REST form,
	// used when Secret is empty.
	User, Password string
	// Legacy selects the query-string form for every call.
	Legacy bool
	// HTTP sends the requests. Nil means http.DefaultClient.
	HTTP *http.Client
}

var (
	_ Directory      = (*UserService)(nil)
	_ GroupDirectory = (*UserService)(nil)
	_ Lockouts       = (*UserService)(nil)
	_ Rosters        = (*UserService)(nil)
)

// usUser is the plugin's user entity.
type usUser struct {
	XMLName    xml.Name      `xml:"user"`
	Username   string        `xml:"username"`
	Password   string        `xml:"password,omitempty"`
	Name       string        `xml:"name,omitempty"`
	Email      string        `xml:"email,omitempty"`
	Properties *usProperties `xml:"properties,omitempty"`
}

type usProperties struct {
	Property []usProperty `xml:"property"`
}

type usProperty struct {
	Key   string `xml:"key,attr"`
	Value string `xml:"value,attr"`
}

// usGroups is the plugin's list of group names.
type usGroups struct {
	XMLName   xml.Name `xml:"groups"`
	Groupname []string `xml:"groupname"`
}

// usRosterItem is the plugin's roster item; SubscriptionType is -1
// (remove), 0 (none), 1 (to), 2 (from) or 3 (both).
type usRosterItem struct {
	XMLName          xml.Name        `xml:"rosterItem"`
	JID              string          `xml:"jid"`
	Nickname         string          `xml:"nickname,omitempty"`
	SubscriptionType *int            `xml:"subscriptionType,omitempty"`
	Groups           *usRosterGroups `xml:"groups,omitempty"`
}

type usRosterGroups struct {
	Group []string `xml:"group"`
}

// subscriptionTypes maps a RosterEntry's subscription to the plugin's
// number and back.
var subscriptionTypes = map[string]int{"none": 0, "to": 1, "from": 2, "both": 3}

// subscriptionNumber is e's subscription as the Openfire plugins' number
// (empty: none); any other name is refused.
func subscriptionNumber(e RosterEntry) (int, error) {
	sub := "none"
	if e.Subscription != "" {
		sub = e.Subscription
	}
	n, ok := subscriptionTypes[sub]
	if !ok {
		return 0, fmt.Errorf("xmppadmin: roster entry %q: subscription %q is none of none, to, from, both: %w", e.JID, e.Subscription, ErrInvalidUser)
	}
	return n, nil
}

// subscriptionName is the name of a plugin's subscription number; absent
// or unknown (-1, remove) is "none".
func subscriptionName(n *int) string {
	if n != nil {
		for name, v := range subscriptionTypes {
			if v == *n {
				return name
			}
		}
	}
	return "none"
}

// rest sends one request of the REST form: in (unless nil) is the XML
// body, a 2xx answer is decoded into out (unless nil). Refusals come back
// as the sentinels where the plugin names one (usError), else *APIError.
func (u *UserService) rest(ctx context.Context, method, path string, in, out any) error {
	op := method + " " + path
	var body []byte
	if in != nil {
		b, err := xml.Marshal(in)
		if err != nil {
			return fmt.Errorf("xmppadmin: %s: encode: %w", op, err)
		}
		body = append([]byte(xml.Header), b...)
	}
	req, err := pluginRequest(ctx, op, method, u.BaseURL, path, "application/xml", body, u.Secret, u.User, u.Password)
	if err != nil {
		return err
	}
	status, raw, err := u.send(ctx, op, req)
	if err != nil {
		return err
	}
	switch {
	case status >= 200 && status < 300:
	case status == http.StatusBadGateway, status == http.StatusServiceUnavailable, status == http.StatusGatewayTimeout:
		return fmt.Errorf("xmppadmin: %s: HTTP %d: %w", op, status, ErrUnavailable)
	default:
		return usError(op, status, raw)
	}
	if out == nil || len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	if err := xml.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("xmppadmin: %s: decode answer: %w", op, err)
	}
	return nil
}

// send runs req and reads its answer, bounded. A transport failure wraps
// ErrUnavailable and keeps only the cause, never the URL, which in the
// legacy form holds the secret.
func (u *UserService) send(ctx context.Context, op string, req *http.Request) (int, []byte, error) {
	client := u.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return 0, nil, fmt.Errorf("xmppadmin: %s: %w", op, ctxErr)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, nil, fmt.Errorf("xmppadmin: %s: %w: %v", op, ErrUnavailable, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return 0, nil, fmt.Errorf("xmppadmin: %s: read answer: %w: %v", op, ErrUnavailable, err)
	}
	return resp.StatusCode, raw, nil
}

// usError reads a refusal: the plugin's error entity
// <error><ressource/><message/><exception/></error> or the legacy
// <error>Name</error>. An exception the Directory contract names becomes
// its sentinel, whatever the status (the plugin answers some with 500);
// otherwise the status does: 404 not found, 409 exists.
func usError(op string, status int, raw []byte) error {
	var e struct {
		Text      string `xml:",chardata"`
		Message   string `xml:"message"`
		Exception string `xml:"exception"`
	}
	msg := http.StatusText(status)
	exc := ""
	if xml.Unmarshal(raw, &e) == nil {
		exc = strings.TrimSpace(e.Exception)
		if exc == "" {
			exc = strings.TrimSpace(e.Text)
		}
		if m := strings.TrimSpace(strings.TrimSpace(exc) + ": " + strings.TrimSpace(e.Message)); m != ":" {
			msg = strings.TrimPrefix(strings.TrimSuffix(m, ":"), ": ")
		}
	}
	// The exception may come with its package ("org.jivesoftware...User
	// NotFoundException"): its last part names it.
	if i := strings.LastIndexByte(exc, '.'); i >= 0 {
		exc = exc[i+1:]
	}
	switch {
	case exc == "UserNotFoundException", exc == "" && status == http.StatusNotFound:
		return fmt.Errorf("xmppadmin: %s: %w", op, ErrUserNotFound)
	case exc == "UserAlreadyExistsException", exc == "" && status == http.StatusConflict:
		return fmt.Errorf("xmppadmin: %s: %w", op, ErrUserExists)
	case exc == "UserServiceDisabled":
		return fmt.Errorf("xmppadmin: %s: the User Service plugin is disabled: %w", op, ErrUnavailable)
	}
	const maxMsg = 200
	if len(msg) > maxMsg {
		msg = msg[:maxMsg] + "…"
	}
	return &APIError{Command: op, Status: status, Message: msg}
}

// usUserPath is /users/{user}, escaped.
func usUserPath(user string) string { return "/users/" + url.PathEscape(user) }

// Register implements Directory: POST /users (legacy: type=add). A name
// the plugin refuses (400, IllegalArgumentException) is ErrInvalidUser.
func (u *UserService) Register(ctx context.Context, user, password string) error {
	var err error
	if u.Legacy {
		err = u.legacy(ctx, "add", url.Values{"username": {user}, "password": {password}}, nil)
	} else {
		err = u.rest(ctx, http.MethodPost, "/users", usUser{Username: user, Password: password}, nil)
	}
	if ae := asAPIError(err); ae != nil && (ae.Status == http.StatusBadRequest || strings.HasPrefix(ae.Message, "IllegalArgumentException")) {
		return fmt.Errorf("xmppadmin: register %q: %w", user, ErrInvalidUser)
	}
	return err
}

// Unregister implements Directory: DELETE /users/{username} (legacy:
// type=delete, which also removes the user's roster).
func (u *UserService) Unregister(ctx context.Context, user string) error {
	if u.Legacy {
		return u.legacy(ctx, "delete", url.Values{"username": {user}}, nil)
	}
	return u.rest(ctx, http.MethodDelete, usUserPath(user), nil, nil)
}

// Exists implements Directory: GET /users/{username}. The legacy form
// has no call that answers it.
func (u *UserService) Exists(ctx context.Context, user string) (bool, error) {
	if u.Legacy {
		return false, u.unsupported("tell whether a user exists")
	}
	var got usUser
	err := u.rest(ctx, http.MethodGet, usUserPath(user), nil, &got)
	switch {
	case errors.Is(err, ErrUserNotFound), statusOf(err) == http.StatusBadRequest:
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// IssueToken returns ErrUnsupported (see UserService).
func (u *UserService) IssueToken(ctx context.Context, user string, ttl time.Duration) (string, error) {
	return "", u.unsupported("issue a login token")
}

// ChangePassword implements Directory. The REST form's PUT overwrites the
// whole user, so the user is read first and written back with its name,
// email and properties (between the two, a change made elsewhere to those
// may be lost); the legacy "update" changes only what it is given.
func (u *UserService) ChangePassword(ctx context.Context, user, password string) error {
	if u.Legacy {
		return u.legacy(ctx, "update", url.Values{"username": {user}, "password": {password}}, nil)
	}
	var cur usUser
	if err := u.rest(ctx, http.MethodGet, usUserPath(user), nil, &cur); err != nil {
		return err
	}
	cur.XMLName = xml.Name{}
	cur.Username = user
	cur.Password = password
	return u.rest(ctx, http.MethodPut, usUserPath(user), cur, nil)
}

// Users implements Directory: GET /users.
func (u *UserService) Users(ctx context.Context) ([]string, error) {
	if u.Legacy {
		return nil, u.unsupported("list users")
	}
	var res struct {
		User []usUser `xml:"user"`
	}
	if err := u.rest(ctx, http.MethodGet, "/users", nil, &res); err != nil {
		return nil, err
	}
	users := make([]string, 0, len(res.User))
	for _, x := range res.User {
		users = append(users, x.Username)
	}
	return users, nil
}

// Status implements Directory within five seconds: a user search that
// matches nobody (REST) or the group list (legacy), cheap authenticated
// calls. Any failure wraps ErrUnavailable.
func (u *UserService) Status(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	var err error
	if u.Legacy {
		_, err = u.Groups(ctx)
	} else {
		var res struct{}
		err = u.rest(ctx, http.MethodGet, "/users?search="+url.QueryEscape("sparkgate-status-check"), nil, &res)
	}
	switch {
	case err == nil, errors.Is(err, ErrUnavailable):
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// unsupported is ErrUnsupported for what, on this plugin.
func (u *UserService) unsupported(what string) error {
	form := "REST"
	if u.Legacy {
		form = "legacy"
	}
	return fmt.Errorf("xmppadmin: %s with the Openfire User Service plugin (%s form): %w", what, form, ErrUnsupported)
}

// IssuesTokens reports false: see IssueToken.
func (u *UserService) IssuesTokens() bool { return false }
