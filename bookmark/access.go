package bookmark

import (
	"context"
	"strings"
	"sync"
	"time"
)

// Who sees a bookmark: everyone when it is global; otherwise its creator,
// the users it names (by username) and the members of the groups it names
// (shared roster groups of the XMPP server). Group members come from the
// server's admin API, which a list of bookmarks would otherwise ask once
// per group per request: they are remembered for GroupCacheTTL.

// GroupCacheTTL is how long the members of a group are remembered: a user
// added to a group sees its bookmarks at most this much later.
const GroupCacheTTL = 30 * time.Second

// maxCachedGroups bounds the cache; past it the cache starts again.
const maxCachedGroups = 1000

// Members returns the bare JIDs of the members of the shared roster group
// g. A group the server does not know has none (nil, nil); an error means
// the server could not answer, and is passed on.
type Members func(ctx context.Context, g string) ([]string, error)

// Access decides who sees bookmarks. Its methods are safe for concurrent
// use.
type Access struct {
	members Members                                     // nil: no groups at all
	named   func(ctx context.Context) ([]string, error) // the groups some bookmark names
	now     func() time.Time

	mu    sync.Mutex
	cache map[string]cachedGroup
}

type cachedGroup struct {
	members map[string]bool // bare JIDs, lower case
	at      time.Time
}

// NewAccess returns an Access over members (nil when the server has no
// groups) and named, which lists the groups some bookmark names (Store's
// BookmarkGroups). now is the clock; nil means time.Now.
func NewAccess(members Members, named func(ctx context.Context) ([]string, error), now func() time.Time) *Access {
	if now == nil {
		now = time.Now
	}
	return &Access{members: members, named: named, now: now}
}

// CanSee reports whether the user jid (a bare JID) sees b.
func (a *Access) CanSee(ctx context.Context, jid string, b Bookmark) (bool, error) {
	if b.Global || b.Creator == jid {
		return true, nil
	}
	local, _, _ := strings.Cut(jid, "@")
	for _, u := range b.Users {
		if u == local {
			return true, nil
		}
	}
	for _, g := range b.Groups {
		in, err := a.InGroup(ctx, g, jid)
		if err != nil || in {
			return in, err
		}
	}
	return false, nil
}

// UserGroups returns the groups, among those some bookmark names, that
// jid is a member of.
func (a *Access) UserGroups(ctx context.Context, jid string) ([]string, error) {
	if a.members == nil {
		return nil, nil
	}
	named, err := a.named(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, g := range named {
		in, err := a.InGroup(ctx, g, jid)
		if err != nil {
			return nil, err
		}
		if in {
			out = append(out, g)
		}
	}
	return out, nil
}

// InGroup reports whether jid is a member of the group g.
func (a *Access) InGroup(ctx context.Context, g, jid string) (bool, error) {
	if a.members == nil {
		return false, nil
	}
	members, err := a.groupMembers(ctx, g)
	if err != nil {
		return false, err
	}
	return members[strings.ToLower(jid)], nil
}

func (a *Access) groupMembers(ctx context.Context, g string) (map[string]bool, error) {
	now := a.now()
	a.mu.Lock()
	cg, ok := a.cache[g]
	a.mu.Unlock()
	if ok && now.Sub(cg.at) < GroupCacheTTL {
		return cg.members, nil
	}
	list, err := a.members(ctx, g)
	if err != nil {
		return nil, err
	}
	members := make(map[string]bool, len(list))
	for _, m := range list {
		bare, _, _ := strings.Cut(m, "/")
		members[strings.ToLower(bare)] = true
	}
	a.mu.Lock()
	if a.cache == nil || len(a.cache) >= maxCachedGroups {
		a.cache = make(map[string]cachedGroup)
	}
	a.cache[g] = cachedGroup{members: members, at: now}
	a.mu.Unlock()
	return members, nil
}
