package gateway

import (
	"sync"
	"time"
)

// Tabs on other nodes. The node that owns a user's session counts only its
// own event streams when it delivers an event (publish's live), so a user
// whose only tab was open on another node got a push for every message,
// as if no tab were open. A stream on another node tells the owner when it
// opens and with each of its touches (remoteSession.hold: WantRaw), so the
// owner takes the user as having a tab elsewhere while such a call came
// within the last two touch periods; deliver then leaves the push to the
// unread check (unreadpush.go) as for a tab of its own. A tab closed on
// the other node is known as closed that much later.

// maxRemoteTabs bounds the users remembered; past it, the oldest beyond
// the window are forgotten, and a new user is not remembered (its
// messages are pushed as before).
const maxRemoteTabs = 100_000

type remoteTabs struct {
	window time.Duration

	mu   sync.Mutex
	seen map[string]time.Time
}

func newRemoteTabs(window time.Duration) *remoteTabs {
	return &remoteTabs{window: window, seen: make(map[string]time.Time)}
}

// saw records a call from a stream of user's on another node at now.
func (r *remoteTabs) saw(user string, now time.Time) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.seen[user]; !ok && len(r.seen) >= maxRemoteTabs {
		for u, t := range r.seen {
			if now.Sub(t) > r.window {
				delete(r.seen, u)
			}
		}
		if len(r.seen) >= maxRemoteTabs {
			return
		}
	}
	r.seen[user] = now
}

// open reports whether user had a stream on another node within the
// window before now.
func (r *remoteTabs) open(user string, now time.Time) bool {
	if r == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.seen[user]
	if ok && now.Sub(t) > r.window {
		delete(r.seen, user)
		ok = false
	}
	return ok
}

// holdEvery is how often a stream on another node touches its owner's
// session (remoteSession.hold): a quarter of the shorter of the idle
// grace and the away time, at least a second, at most a minute.
func holdEvery(idle, away time.Duration) time.Duration {
	if idle <= 0 {
		idle = 8 * time.Hour // xmppconn's default
	}
	if away > 0 {
		idle = min(idle, away)
	}
	return min(max(idle/4, time.Second), time.Minute)
}
