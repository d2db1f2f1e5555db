package xmppadmin

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The User Service plugin's groups, lockouts, rosters and its legacy
// query-string form (see UserService for what each form cannot do).

// legacy sends one call of the legacy form: GET
// <base>/userservice?type=typ&secret=...&<args>. The plugin answers
// <result>OK</result>, <result><groupname>…</groupname>…</result> (decoded
// into out when not nil) or <error>Name</error>.
func (u *UserService) legacy(ctx context.Context, typ string, args url.Values, out *[]string) error {
	op := "userservice " + typ
	if u.Secret == "" {
		return fmt.Errorf("xmppadmin: %s: the legacy form needs the plugin's secret: %w", op, ErrUnsupported)
	}
	q := url.Values{"type": {typ}, "secret": {u.Secret}}
	for k, v := range args {
		q[k] = v
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(u.BaseURL, "/")+"/userservice?"+q.Encode(), nil)
	if err != nil {
		return fmt.Errorf("xmppadmin: %s: a request: %w", op, errors.New("malformed base URL"))
	}
	status, raw, err := u.send(ctx, op, req)
	if err != nil {
		return err
	}
	if status == http.StatusBadGateway || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout {
		return fmt.Errorf("xmppadmin: %s: HTTP %d: %w", op, status, ErrUnavailable)
	}
	var doc struct {
		XMLName   xml.Name
		Text      string   `xml:",chardata"`
		Groupname []string `xml:"groupname"`
	}
	if xml.Unmarshal(raw, &doc) != nil || (doc.XMLName.Local != "result" && doc.XMLName.Local != "error") {
		if status < 200 || status >= 300 {
			return &APIError{Command: op, Status: status, Message: http.StatusText(status)}
		}
		return fmt.Errorf("xmppadmin: %s: an answer that is neither <result> nor <error>", op)
	}
	if doc.XMLName.Local == "error" {
		if status < 400 {
			status = legacyStatus(strings.TrimSpace(doc.Text))
		}
		return usError(op, status, raw)
	}
	if out != nil {
		*out = doc.Groupname
	}
	return nil
}

// legacyStatus gives the legacy form's errors, which arrive with HTTP 200,
// the status their REST counterparts have.
func legacyStatus(name string) int {
	switch name {
	case "RequestNotAuthorised":
		return http.StatusForbidden
	case "IllegalArgumentException":
		return http.StatusBadRequest
	case "SharedGroupException":
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

// CreateGroup returns ErrUnsupported: the plugin creates a group only
// with its first member (AddGroupMember).
func (u *UserService) CreateGroup(ctx context.Context, id, label, description string, display []string) error {
	return u.unsupported("create an empty group")
}

// DeleteGroup returns ErrUnsupported: the plugin cannot delete groups.
func (u *UserService) DeleteGroup(ctx context.Context, id string) error {
	return u.unsupported("delete a group")
}

// Groups implements GroupDirectory with the legacy "grouplist", the
// plugin's only call that lists groups (it needs the secret).
func (u *UserService) Groups(ctx context.Context) ([]string, error) {
	var names []string
	if err := u.legacy(ctx, "grouplist", nil, &names); err != nil {
		return nil, err
	}
	return names, nil
}

// GroupMembers returns ErrUnsupported: the plugin lists a user's groups,
// never a group's users.
func (u *UserService) GroupMembers(ctx context.Context, id string) ([]string, error) {
	return nil, u.unsupported("list a group's members")
}

// AddGroupMember implements GroupDirectory: POST /users/{username}/groups
// (legacy: "update" with the user's groups and this one, which creates a
// missing group).
func (u *UserService) AddGroupMember(ctx context.Context, id, user string) error {
	if !u.Legacy {
		return u.rest(ctx, http.MethodPost, usUserPath(user)+"/groups", usGroups{Groupname: []string{id}}, nil)
	}
	var have []string
	if err := u.legacy(ctx, "usergrouplist", url.Values{"username": {user}}, &have); err != nil {
		return err
	}
	if slices.Contains(have, id) {
		return nil
	}
	return u.legacy(ctx, "update", url.Values{"username": {user}, "groups": {strings.Join(append(have, id), ",")}}, nil)
}

// RemoveGroupMember implements GroupDirectory: DELETE
// /users/{username}/groups with the group in the body. The legacy form
// cannot remove a user from a group.
func (u *UserService) RemoveGroupMember(ctx context.Context, id, user string) error {
	if u.Legacy {
		return u.unsupported("remove a user from a group")
	}
	return u.rest(ctx, http.MethodDelete, usUserPath(user)+"/groups", usGroups{Groupname: []string{id}}, nil)
}

// LockOut implements Lockouts: POST /lockouts/{username} (legacy:
// "disable").
func (u *UserService) LockOut(ctx context.Context, user string) error {
	if u.Legacy {
		return u.legacy(ctx, "disable", url.Values{"username": {user}}, nil)
	}
	return u.rest(ctx, http.MethodPost, "/lockouts/"+url.PathEscape(user), nil, nil)
}

// Unlock implements Lockouts: DELETE /lockouts/{username} (legacy:
// "enable").
func (u *UserService) Unlock(ctx context.Context, user string) error {
	if u.Legacy {
		return u.legacy(ctx, "enable", url.Values{"username": {user}}, nil)
	}
	return u.rest(ctx, http.MethodDelete, "/lockouts/"+url.PathEscape(user), nil, nil)
}

// RosterEntries implements Rosters: GET /users/{username}/roster. The
// legacy form cannot list a roster.
func (u *UserService) RosterEntries(ctx context.Context, user string) ([]RosterEntry, error) {
	if u.Legacy {
		return nil, u.unsupported("list a roster")
	}
	var res struct {
		Item []usRosterItem `xml:"rosterItem"`
	}
	if err := u.rest(ctx, http.MethodGet, usUserPath(user)+"/roster", nil, &res); err != nil {
		return nil, err
	}
	out := make([]RosterEntry, 0, len(res.Item))
	for _, it := range res.Item {
		e := RosterEntry{JID: it.JID, Nickname: it.Nickname, Subscription: subscriptionName(it.SubscriptionType)}
		if it.Groups != nil {
			e.Groups = it.Groups.Group
		}
		out = append(out, e)
	}
	return out, nil
}

// SetRosterEntry implements Rosters: POST /users/{username}/roster, or PUT
// /users/{username}/roster/{jid} when the entry exists (legacy: add_roster,
// then update_roster).
func (u *UserService) SetRosterEntry(ctx context.Context, user string, e RosterEntry) error {
	n, err := subscriptionNumber(e)
	if err != nil {
		return err
	}
	if u.Legacy {
		args := url.Values{"username": {user}, "item_jid": {e.JID}, "subscription": {strconv.Itoa(n)}}
		if e.Nickname != "" {
			args.Set("name", e.Nickname)
		}
		if len(e.Groups) > 0 {
			args.Set("groups", strings.Join(e.Groups, ","))
		}
		err = u.legacy(ctx, "add_roster", args, nil)
		if errors.Is(err, ErrUserExists) { // the entry is there
			err = u.legacy(ctx, "update_roster", args, nil)
		}
		return err
	}
	it := usRosterItem{JID: e.JID, Nickname: e.Nickname, SubscriptionType: &n}
	if len(e.Groups) > 0 {
		it.Groups = &usRosterGroups{Group: e.Groups}
	}
	err = u.rest(ctx, http.MethodPost, usUserPath(user)+"/roster", it, nil)
	if errors.Is(err, ErrUserExists) {
		err = u.rest(ctx, http.MethodPut, usUserPath(user)+"/roster/"+url.PathEscape(e.JID), it, nil)
	}
	return err
}

// RemoveRosterEntry implements Rosters: DELETE
// /users/{username}/roster/{jid} (legacy: delete_roster).
func (u *UserService) RemoveRosterEntry(ctx context.Context, user, jid string) error {
	if u.Legacy {
		return u.legacy(ctx, "delete_roster", url.Values{"username": {user}, "item_jid": {jid}}, nil)
	}
	return u.rest(ctx, http.MethodDelete, usUserPath(user)+"/roster/"+url.PathEscape(jid), nil, nil)
}
