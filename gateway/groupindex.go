package gateway

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/sparkgate/sparkgate/xmppadmin"
)

// groupIndex keeps which users are in which shared roster group, for
// GET /user/groups. No admin API the gateway speaks to answers "the
// groups of this user" (ejabberd 23.01 has no such command; Openfire's
// REST API answers it, but through the same interface): the answer is a
// read of every group's members, one admin call per group, up to
// maxGroupsRead of them. Read per request, every user's call cost the
// XMPP server thousands of calls; the index reads them once per
// groupIndexTTL for all users, and callers that come while a read runs
// wait for it (singleflight) instead of starting their own.
//
// The gateway's own changes of membership (POST and DELETE /user/groups)
// forget the index, so the caller sees them at once; a change made
// elsewhere (the server's admin tools, another node of a cluster) shows
// within groupIndexTTL. A read that a change overtook answers its callers
// but is not kept: it may predate the change.
//
// A read belongs to the index, not to its first caller (the others share
// it): it goes on when that caller leaves, for at most groupIndexTimeout,
// as the Server's background work, which its Close ends and waits for.
type groupIndex struct {
	ttl time.Duration
	now func() time.Time

	flight singleflight.Group
	bg     *background // the reads' owner (lifecycle.go)

	mu      sync.Mutex
	members map[string][]string // group id -> members' bare JIDs, lowercased; nil: none kept
	readAt  time.Time
	gen     uint64 // counts forget calls
}

// groupIndexTTL is how long a read of the groups serves. A group's
// membership changes by an administrator's hand, rarely; 10 s keeps a
// burst of logins from reading the groups once per user.
const groupIndexTTL = 10 * time.Second

// groupIndexTimeout bounds one read of every group, which all the callers
// waiting for it share (and none can cut short: the others still wait).
const groupIndexTimeout = 30 * time.Second

func newGroupIndex(ttl time.Duration, now func() time.Time, bg *background) *groupIndex {
	return &groupIndex{ttl: ttl, now: now, bg: bg}
}

// errGroupIndexClosed answers a caller once the background is closed.
var errGroupIndexClosed = errorf(http.StatusServiceUnavailable, "the gateway is shutting down")

// groupsOf lists the groups user (a bare JID) is a member of, unsorted.
func (x *groupIndex) groupsOf(ctx context.Context, gd xmppadmin.GroupDirectory, user string) ([]string, error) {
	members, err := x.snapshot(ctx, gd)
	if err != nil {
		return nil, err
	}
	user = strings.ToLower(user)
	mine := []string{}
	for g, ms := range members {
		for _, m := range ms {
			if m == user {
				mine = append(mine, g)
				break
			}
		}
	}
	return mine, nil
}

// snapshot returns the membership of every group, kept or read now. The
// map is shared: callers must not change it.
func (x *groupIndex) snapshot(ctx context.Context, gd xmppadmin.GroupDirectory) (map[string][]string, error) {
	x.mu.Lock()
	if x.members != nil && x.now().Sub(x.readAt) < x.ttl {
		m := x.members
		x.mu.Unlock()
		return m, nil
	}
	x.mu.Unlock()
	ch := x.flight.DoChan("groups", func() (any, error) {
		life, done, ok := x.bg.enter()
		if !ok {
			return nil, errGroupIndexClosed
		}
		defer done()
		x.mu.Lock()
		gen := x.gen
		x.mu.Unlock()
		rctx, cancel := context.WithTimeout(life, groupIndexTimeout)
		defer cancel()
		at := x.now()
		members, err := readGroups(rctx, gd)
		if err != nil {
			return nil, err
		}
		x.mu.Lock()
		if x.gen == gen {
			x.members, x.readAt = members, at
		}
		x.mu.Unlock()
		return members, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(map[string][]string), nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// forget drops what is kept, and keeps a read in progress from being kept.
func (x *groupIndex) forget() {
	x.mu.Lock()
	x.members = nil
	x.gen++
	x.mu.Unlock()
	// A caller that comes now must not join a read that started before
	// the change.
	x.flight.Forget("groups")
}

// readGroups reads every group's members (at most maxGroupsRead groups),
// groupLookups at a time. The first failure fails the read.
func readGroups(ctx context.Context, gd xmppadmin.GroupDirectory) (map[string][]string, error) {
	all, err := gd.Groups(ctx)
	if err != nil {
		return nil, err
	}
	if len(all) > maxGroupsRead {
		all = all[:maxGroupsRead]
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		firstEr error
		out     = make(map[string][]string, len(all))
	)
	next := make(chan string)
	for range min(groupLookups, len(all)) {
		wg.Go(func() {
			for g := range next {
				members, err := gd.GroupMembers(ctx, g)
				for i, m := range members {
					members[i] = strings.ToLower(m)
				}
				mu.Lock()
				switch {
				case err != nil && firstEr == nil:
					firstEr = err
					cancel() // the rest would be thrown away
				case err == nil:
					out[g] = members
				}
				mu.Unlock()
			}
		})
	}
	for _, g := range all {
		next <- g
	}
	close(next)
	wg.Wait()
	if firstEr != nil {
		return nil, firstEr
	}
	return out, nil
}
