package xmppadmin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// maxResponse bounds how much of an answer is read (a long user list fits).
const maxResponse = 16 << 20

// Ejabberd is a Directory for one virtual host of ejabberd, through
// mod_http_api. The API must let the caller run the account, oauth and
// shared roster commands (api_permissions; the private server in
// internal/ejabberd allows loopback). Shared roster commands need
// mod_admin_extra and mod_shared_roster.
//
// An Ejabberd is safe for concurrent use; its fields must not change once it
// is in use.
type Ejabberd struct {
	// BaseURL is the base of the admin API, e.g. "http://127.0.0.1:5280/api".
	BaseURL string
	// Domain is the virtual host the accounts belong to.
	Domain string
	// HTTP sends the requests. Nil means http.DefaultClient.
	HTTP *http.Client
}

var (
	_ Directory      = (*Ejabberd)(nil)
	_ GroupDirectory = (*Ejabberd)(nil)
)

// APIError is a refusal from ejabberd's API that no sentinel describes.
type APIError struct {
	Command string // the API command, e.g. "register"
	Status  int    // the HTTP status code
	Code    int    // ejabberd's error code, 0 when it gave none
	Message string // ejabberd's message, shortened
}

func (e *APIError) Error() string {
	if e.Code != 0 {
		return fmt.Sprintf("xmppadmin: %s: HTTP %d, code %d: %s", e.Command, e.Status, e.Code, e.Message)
	}
	return fmt.Sprintf("xmppadmin: %s: HTTP %d: %s", e.Command, e.Status, e.Message)
}

// call runs one API command: args is marshalled as the JSON body and a 200
// answer is decoded into result (unless result is nil). Transport failures
// and gateway errors wrap ErrUnavailable; other refusals are *APIError.
func (e *Ejabberd) call(ctx context.Context, command string, args, result any) error {
	body, err := json.Marshal(args)
	if err != nil {
		return fmt.Errorf("xmppadmin: %s: encode: %w", command, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(e.BaseURL, "/")+"/"+command, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("xmppadmin: %s: %w", command, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	client := e.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("xmppadmin: %s: %w", command, ctxErr)
		}
		// The *url.Error names the URL, which holds no secret.
		return fmt.Errorf("xmppadmin: %s: %w: %v", command, ErrUnavailable, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("xmppadmin: %s: read answer: %w: %v", command, ErrUnavailable, err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return fmt.Errorf("xmppadmin: %s: HTTP %d: %w", command, resp.StatusCode, ErrUnavailable)
	default:
		return parseError(command, resp.StatusCode, raw)
	}
	if result == nil {
		return nil
	}
	if err := json.Unmarshal(raw, result); err != nil {
		return fmt.Errorf("xmppadmin: %s: decode answer: %w", command, err)
	}
	return nil
}

// parseError reads ejabberd's two error shapes: an object
// {"status":"error","code":N,"message":"..."} or a bare JSON string.
func parseError(command string, status int, raw []byte) *APIError {
	e := &APIError{Command: command, Status: status}
	var obj struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	var str string
	switch {
	case json.Unmarshal(raw, &obj) == nil && obj.Message != "":
		e.Code, e.Message = obj.Code, obj.Message
	case json.Unmarshal(raw, &str) == nil:
		e.Message = str
	default:
		e.Message = string(raw)
	}
	const maxMsg = 200
	if len(e.Message) > maxMsg {
		e.Message = e.Message[:maxMsg] + "…"
	}
	return e
}

// asAPIError returns err as an *APIError, or nil.
func asAPIError(err error) *APIError {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae
	}
	return nil
}

// isUnknownUser reports whether err is ejabberd's answer for a missing
// account (404 "unknown_user").
func isUnknownUser(err error) bool {
	ae := asAPIError(err)
	return ae != nil && ae.Status == http.StatusNotFound && ae.Message == "unknown_user"
}

// isMalformedUser reports whether err is ejabberd's answer for a user name
// that is not a valid localpart.
func isMalformedUser(err error) bool {
	ae := asAPIError(err)
	return ae != nil && strings.Contains(ae.Message, "Malformed username")
}

// callStatus runs a command whose result is ejabberd's integer status code
// (0 on success, 1 otherwise).
func (e *Ejabberd) callStatus(ctx context.Context, command string, args any) error {
	var res int
	if err := e.call(ctx, command, args, &res); err != nil {
		return err
	}
	if res != 0 {
		return &APIError{Command: command, Status: http.StatusOK, Message: fmt.Sprintf("result %d", res)}
	}
	return nil
}

type userArgs struct {
	User string `json:"user"`
	Host string `json:"host"`
}

// Register implements Directory with the register command.
func (e *Ejabberd) Register(ctx context.Context, user, password string) error {
	args := struct {
		User     string `json:"user"`
		Host     string `json:"host"`
		Password string `json:"password"`
	}{user, e.Domain, password}
	err := e.call(ctx, "register", args, nil)
	switch {
	case err == nil:
		return nil
	case asAPIError(err) != nil && asAPIError(err).Status == http.StatusConflict:
		return fmt.Errorf("xmppadmin: register %q: %w", user, ErrUserExists)
	case isMalformedUser(err):
		return fmt.Errorf("xmppadmin: register %q: %w", user, ErrInvalidUser)
	}
	return err
}

// Unregister implements Directory with check_account and unregister
// (ejabberd's unregister succeeds for missing accounts too).
func (e *Ejabberd) Unregister(ctx context.Context, user string) error {
	ok, err := e.Exists(ctx, user)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("xmppadmin: unregister %q: %w", user, ErrUserNotFound)
	}
	return e.call(ctx, "unregister", userArgs{user, e.Domain}, nil)
}

// Exists implements Directory with the check_account command.
func (e *Ejabberd) Exists(ctx context.Context, user string) (bool, error) {
	var res int
	err := e.call(ctx, "check_account", userArgs{user, e.Domain}, &res)
	switch {
	case isMalformedUser(err):
		return false, nil
	case err != nil:
		return false, err
	}
	return res == 0, nil
}

// IssueToken implements Directory with check_account and oauth_issue_token,
// scope "sasl_auth" (what X-OAUTH2 logins require). ejabberd counts ttl in
// whole seconds; less than a second is rounded up to one. The token never
// appears in an error.
func (e *Ejabberd) IssueToken(ctx context.Context, user string, ttl time.Duration) (string, error) {
	ok, err := e.Exists(ctx, user)
	if err != nil {
		return "", err
	}
	if !ok {
		// ejabberd would issue a token for a missing account.
		return "", fmt.Errorf("xmppadmin: issue token for %q: %w", user, ErrUserNotFound)
	}
	args := struct {
		JID    string `json:"jid"`
		TTL    int64  `json:"ttl"`
		Scopes string `json:"scopes"`
	}{user + "@" + e.Domain, max(1, int64((ttl+time.Second-1)/time.Second)), "sasl_auth"}
	var res struct {
		Token string `json:"token"`
	}
	if err := e.call(ctx, "oauth_issue_token", args, &res); err != nil {
		return "", err
	}
	if res.Token == "" {
		return "", &APIError{Command: "oauth_issue_token", Status: http.StatusOK, Message: "no token in answer"}
	}
	return res.Token, nil
}

// ChangePassword implements Directory with the change_password command.
func (e *Ejabberd) ChangePassword(ctx context.Context, user, password string) error {
	args := struct {
		User    string `json:"user"`
		Host    string `json:"host"`
		NewPass string `json:"newpass"`
	}{user, e.Domain, password}
	err := e.callStatus(ctx, "change_password", args)
	if isUnknownUser(err) || isMalformedUser(err) {
		return fmt.Errorf("xmppadmin: change password of %q: %w", user, ErrUserNotFound)
	}
	return err
}

// Users implements Directory with the registered_users command.
func (e *Ejabberd) Users(ctx context.Context) ([]string, error) {
	var users []string
	err := e.call(ctx, "registered_users", struct {
		Host string `json:"host"`
	}{e.Domain}, &users)
	return users, err
}

// Status implements Directory with the status command.
func (e *Ejabberd) Status(ctx context.Context) error {
	var res string
	if err := e.call(ctx, "status", struct{}{}, &res); err != nil {
		return err
	}
	if !strings.Contains(res, "is running") {
		return fmt.Errorf("xmppadmin: status %q: %w", res, ErrUnavailable)
	}
	return nil
}

type groupArgs struct {
	Group string `json:"group"`
	Host  string `json:"host"`
}

type memberArgs struct {
	User      string `json:"user"`
	Host      string `json:"host"`
	Group     string `json:"group"`
	GroupHost string `json:"grouphost"`
}

// CreateGroup implements GroupDirectory with srg_create.
func (e *Ejabberd) CreateGroup(ctx context.Context, id, label, description string, display []string) error {
	if display == nil {
		display = []string{id}
	}
	args := struct {
		Group       string `json:"group"`
		Host        string `json:"host"`
		Label       string `json:"label"`
		Description string `json:"description"`
		Display     string `json:"display"`
	}{id, e.Domain, label, description, strings.Join(display, "\n")}
	return e.callStatus(ctx, "srg_create", args)
}

// DeleteGroup implements GroupDirectory with srg_delete.
func (e *Ejabberd) DeleteGroup(ctx context.Context, id string) error {
	return e.callStatus(ctx, "srg_delete", groupArgs{id, e.Domain})
}

// Groups implements GroupDirectory with srg_list.
func (e *Ejabberd) Groups(ctx context.Context) ([]string, error) {
	var groups []string
	err := e.call(ctx, "srg_list", struct {
		Host string `json:"host"`
	}{e.Domain}, &groups)
	return groups, err
}

// GroupMembers implements GroupDirectory with srg_get_members.
func (e *Ejabberd) GroupMembers(ctx context.Context, id string) ([]string, error) {
	var members []string
	err := e.call(ctx, "srg_get_members", groupArgs{id, e.Domain}, &members)
	return members, err
}

// AddGroupMember implements GroupDirectory with srg_user_add.
func (e *Ejabberd) AddGroupMember(ctx context.Context, id, user string) error {
	return e.callStatus(ctx, "srg_user_add", memberArgs{user, e.Domain, id, e.Domain})
}

// RemoveGroupMember implements GroupDirectory with srg_user_del.
func (e *Ejabberd) RemoveGroupMember(ctx context.Context, id, user string) error {
	return e.callStatus(ctx, "srg_user_del", memberArgs{user, e.Domain, id, e.Domain})
}
