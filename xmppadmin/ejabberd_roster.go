package xmppadmin

import (
	"context"
	"strings"
)

var _ RosterReader = (*Ejabberd)(nil)

// ejabberdRosterRow is one row of mod_admin_extra's get_roster: one per
// group of a contact (a contact in no group has one row, group "").
type ejabberdRosterRow struct {
	JID          string `json:"jid"`
	Nick         string `json:"nick"`
	Subscription string `json:"subscription"`
	Ask          string `json:"ask"`
	Group        string `json:"group"`
}

// RosterEntries implements RosterReader with get_roster (mod_admin_extra),
// which runs the roster_get hook: a shared roster group's members are
// there, a pending request to the user is not. A contact's rows (one per
// group) become one entry, in ejabberd's order.
func (e *Ejabberd) RosterEntries(ctx context.Context, user string) ([]RosterEntry, error) {
	var rows []ejabberdRosterRow
	if err := e.call(ctx, "get_roster", userArgs{user, e.Domain}, &rows); err != nil {
		return nil, err
	}
	return mergeRosterRows(rows), nil
}

// mergeRosterRows folds get_roster's rows into one entry per JID.
func mergeRosterRows(rows []ejabberdRosterRow) []RosterEntry {
	out := make([]RosterEntry, 0, len(rows))
	at := make(map[string]int, len(rows))
	for _, r := range rows {
		jid := strings.ToLower(r.JID)
		if r.Subscription == "none" && r.Ask == "in" {
			continue // a request to the user, should a server list one
		}
		i, ok := at[jid]
		if !ok {
			i = len(out)
			at[jid] = i
			out = append(out, RosterEntry{JID: jid, Nickname: r.Nick, Subscription: r.Subscription})
		}
		if r.Group != "" {
			out[i].Groups = append(out[i].Groups, r.Group)
		}
	}
	return out
}
