package xmppadmin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

var _ RosterReader = (*Prosodyctl)(nil)

// RosterEntries implements RosterReader from Prosody's internal storage,
// as Exists does: the user's roster file (DataDir/<host>/roster/<user>.dat,
// prosodydata.go reads it; Prosody writes it whole on every change). Its
// [false] entry (the roster's version and the requests pending to the
// user) is no contact. A user with no file has an empty roster. Contacts
// that a module adds as the roster loads (mod_groups) are not in the
// file, so not here.
func (p *Prosodyctl) RosterEntries(_ context.Context, user string) ([]RosterEntry, error) {
	if checkLocalpart(user) != nil {
		return nil, ErrUserNotFound
	}
	path := filepath.Join(p.DataDir, ProsodyStoreName(p.Domain), "roster", ProsodyStoreName(user)+".dat")
	src, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return []RosterEntry{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("xmppadmin: prosody storage: %w", ErrUnavailable)
	}
	v, err := parseProsodyData(src)
	if err != nil {
		return nil, err
	}
	return prosodyRoster(v)
}

// prosodyRoster turns a roster file's table into entries, by JID.
func prosodyRoster(v any) ([]RosterEntry, error) {
	t, ok := v.(luaTable)
	if !ok {
		return nil, fmt.Errorf("%w: a roster that is not a table", errProsodyData)
	}
	out := make([]RosterEntry, 0, len(t))
	for k, v := range t {
		jid, ok := k.(string)
		item, isTable := v.(luaTable)
		if !ok || !isTable {
			continue // [false]: the roster's own data
		}
		e := RosterEntry{JID: jid, Subscription: "none"}
		if s, ok := item["subscription"].(string); ok {
			e.Subscription = s
		}
		if n, ok := item["name"].(string); ok {
			e.Nickname = n
		}
		if gs, ok := item["groups"].(luaTable); ok {
			for g, in := range gs {
				if name, ok := g.(string); ok && in == true {
					e.Groups = append(e.Groups, name)
				}
			}
			slices.Sort(e.Groups)
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b RosterEntry) int { return strings.Compare(a.JID, b.JID) })
	return out, nil
}
