package xmppadmin

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
)

var _ Rosters = (*Openfire)(nil)

// openfireRosterItem is the REST API plugin's roster item entity:
// subscriptionType is -1 (remove), 0 (none), 1 (to), 2 (from) or 3 (both).
type openfireRosterItem struct {
	JID              string             `json:"jid"`
	Nickname         string             `json:"nickname,omitempty"`
	SubscriptionType *int               `json:"subscriptionType,omitempty"`
	Groups           openfireGroupNames `json:"groups,omitempty"`
}

// openfireGroupNames reads a roster item's groups as the plugin writes
// them: a list of names, or (older plugins, whose JSON followed the XML
// wrapper) {"group": [names]} or {"group": "name"}.
type openfireGroupNames []string

func (g *openfireGroupNames) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*g = nil
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err == nil {
		*g = list
		return nil
	}
	var wrapped struct {
		Group json.RawMessage `json:"group"`
	}
	if err := json.Unmarshal(b, &wrapped); err != nil {
		return err
	}
	if len(wrapped.Group) == 0 {
		*g = nil
		return nil
	}
	var one string
	if err := json.Unmarshal(wrapped.Group, &one); err == nil {
		*g = []string{one}
		return nil
	}
	if err := json.Unmarshal(wrapped.Group, &list); err != nil {
		return err
	}
	*g = list
	return nil
}

// rosterPath is /users/{user}/roster, or …/roster/{jid} when jid is set.
func rosterPath(user, jid string) string {
	p := userPath(user) + "/roster"
	if jid != "" {
		p += "/" + url.PathEscape(jid)
	}
	return p
}

// RosterEntries implements Rosters with GET /users/{username}/roster
// ({"rosterItem": [...]}); a subscription the plugin does not name is
// "none".
func (o *Openfire) RosterEntries(ctx context.Context, user string) ([]RosterEntry, error) {
	var res struct {
		Items []openfireRosterItem `json:"rosterItem"`
	}
	if err := o.do(ctx, http.MethodGet, rosterPath(user, ""), nil, &res); err != nil {
		return nil, notFound("roster of", user, err)
	}
	out := make([]RosterEntry, 0, len(res.Items))
	for _, it := range res.Items {
		out = append(out, RosterEntry{JID: it.JID, Nickname: it.Nickname, Subscription: subscriptionName(it.SubscriptionType), Groups: []string(it.Groups)})
	}
	return out, nil
}

// SetRosterEntry implements Rosters with POST /users/{username}/roster
// (201), or PUT /users/{username}/roster/{jid} when the item exists (409).
func (o *Openfire) SetRosterEntry(ctx context.Context, user string, e RosterEntry) error {
	n, err := subscriptionNumber(e)
	if err != nil {
		return err
	}
	it := openfireRosterItem{JID: e.JID, Nickname: e.Nickname, SubscriptionType: &n, Groups: e.Groups}
	err = o.do(ctx, http.MethodPost, rosterPath(user, ""), it, nil)
	if statusOf(err) == http.StatusConflict {
		err = o.do(ctx, http.MethodPut, rosterPath(user, e.JID), it, nil)
	}
	return notFound("roster of", user, err)
}

// RemoveRosterEntry implements Rosters with DELETE
// /users/{username}/roster/{jid}; no such user or item is ErrUserNotFound.
func (o *Openfire) RemoveRosterEntry(ctx context.Context, user, jid string) error {
	return notFound("roster item of", user, o.do(ctx, http.MethodDelete, rosterPath(user, jid), nil, nil))
}
