package gateway

import (
	"context"
	"strings"
	"sync"
	"time"
)

// Rosters kept for the strangers check (strangers.go). Spam comes in
// bursts, from many addresses at once, and every push of it asks whether
// its sender is in the user's roster while the user mutes strangers: a
// roster query each would hold the push sender's few workers, shared by
// all users, for a round trip apiece (up to rosterCheckTimeout when the
// server is slow). So a user's roster, or the failure to read it, is kept
// for rosterCacheTTL, and forgotten at once when a roster push (a
// chatapi.roster event of the user's session) says it changed. Without a
// session no event comes: a contact added on another client counts as a
// stranger for at most rosterCacheTTL.

// rosterCacheTTL is how long a roster read serves: a burst's worth.
const rosterCacheTTL = 10 * time.Second

// maxCachedRosters bounds the cache: one roster per user who mutes
// strangers and is being pushed to. Past it, the expired go first, then
// any.
const maxCachedRosters = 10000

type rosterCache struct {
	mu sync.Mutex
	m  map[string]cachedRoster
	// forgets counts forget calls: a read that a forget overtook (the
	// roster changed while it was on its way) is used once, not kept.
	forgets uint64
	now     func() time.Time // time.Now unless a test sets it
}

// cachedRoster is a user's contacts (lower-cased bare JIDs), or the error
// that reading them met.
type cachedRoster struct {
	contacts map[string]bool
	err      error
	at       time.Time
}

func (c *rosterCache) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

// contacts returns user's contacts, from the cache while fresh, else from
// read, whose answer (or error) is kept.
func (c *rosterCache) contacts(user string, read func() ([]string, error)) (map[string]bool, error) {
	now := c.clock()
	c.mu.Lock()
	e, ok := c.m[user]
	forgets := c.forgets
	c.mu.Unlock()
	if ok && now.Sub(e.at) < rosterCacheTTL {
		return e.contacts, e.err
	}
	jids, err := read()
	e = cachedRoster{err: err, at: now}
	if err == nil {
		e.contacts = make(map[string]bool, len(jids))
		for _, j := range jids {
			e.contacts[strings.ToLower(bareJID(j))] = true
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.forgets != forgets {
		return e.contacts, e.err
	}
	if c.m == nil {
		c.m = make(map[string]cachedRoster)
	}
	if _, ok := c.m[user]; !ok && len(c.m) >= maxCachedRosters {
		c.evict(now)
	}
	c.m[user] = e
	return e.contacts, e.err
}

// evict makes room for one more: the expired go, or else one entry.
func (c *rosterCache) evict(now time.Time) {
	for u, e := range c.m {
		if now.Sub(e.at) >= rosterCacheTTL {
			delete(c.m, u)
		}
	}
	if len(c.m) < maxCachedRosters {
		return
	}
	for u := range c.m {
		delete(c.m, u)
		return
	}
}

// forget drops user's roster: it changed.
func (c *rosterCache) forget(user string) {
	c.mu.Lock()
	delete(c.m, user)
	c.forgets++
	c.mu.Unlock()
}

// readRoster is the cache's read of user's roster JIDs for s.
func (s *Server) readRoster(user string) func() ([]string, error) {
	return func() ([]string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), rosterCheckTimeout)
		defer cancel()
		jids, err := s.rosterJIDs(ctx, user)
		if err != nil {
			s.log.Warn("push: the roster for the strangers check cannot be read; strangers push meanwhile", "user", user, "err", err)
		}
		return jids, err
	}
}
