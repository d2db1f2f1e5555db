package gateway

import (
	"context"
	"sync"
	"time"

	"github.com/sparkgate/sparkgate/auth"
)

// A request for a user owned by another node first learns who the owner
// is: openSession tries to take the user's lease, which fails, and the
// failure names the holder (two key-value round trips to NATS). Then the
// remote session calls that node. The owner changes rarely, so each node
// remembers the owner it learned (knownOwners) and sends the user's next
// requests straight there.
//
// A remembered owner may be wrong: the user's lease moved on, or its node
// died. That never strands a request, because every remote call checks:
//
//   - the node called answers errNotHere unless it both holds the user's
//     session and owns the user (serveRemote: a node whose lease is lost
//     refuses at once, even while its session is still ending);
//   - no node by that name answers (ErrNodeUnreachable) when it died;
//   - a node that does not answer in time (504) may be hung.
//
// On each of these the caller forgets what it remembered and asks the
// seam again (remoteSession.call), which looks the lease up afresh: this
// node then takes the user over or calls the node that owns the user now.
// A wrong entry thus costs one extra request to the wrong node, never a
// wrong answer; an entry also expires after ownerMemory, bounding what a
// node holds. (A watch on the lease bucket was not chosen: every owner
// renews each lease every TTL/3, so every node would receive every
// renewal of every user, and a lease that lapses by the bucket's TTL
// makes no entry in a watch at all.)

// ownerMemory is how long a learned owner is used without asking the
// leases again.
const ownerMemory = 30 * time.Second

// maxKnownOwners bounds the owners remembered; past it, the expired ones
// go, then the older ones.
const maxKnownOwners = 100_000

// knownOwners are the owner nodes this node learned, by user. The zero
// value is ready to use; its methods are safe for concurrent use.
type knownOwners struct {
	mu  sync.Mutex
	m   map[string]knownOwner
	now func() time.Time // time.Now unless a test sets it
}

type knownOwner struct {
	node string
	at   time.Time // when learned
}

func (k *knownOwners) clock() time.Time {
	if k.now != nil {
		return k.now()
	}
	return time.Now()
}

// get returns the node remembered as user's owner, if it is recent.
func (k *knownOwners) get(user string) (string, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	e, ok := k.m[user]
	if !ok {
		return "", false
	}
	if k.clock().Sub(e.at) >= ownerMemory {
		delete(k.m, user)
		return "", false
	}
	return e.node, true
}

// put remembers node as user's owner.
func (k *knownOwners) put(user, node string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.clock()
	if k.m == nil {
		k.m = map[string]knownOwner{}
	}
	if _, ok := k.m[user]; !ok && len(k.m) >= maxKnownOwners {
		k.pruneLocked(now)
	}
	k.m[user] = knownOwner{node: node, at: now}
}

// pruneLocked drops the expired entries, and when none is, the older
// half of them.
func (k *knownOwners) pruneLocked(now time.Time) {
	for u, e := range k.m {
		if now.Sub(e.at) >= ownerMemory {
			delete(k.m, u)
		}
	}
	if len(k.m) < maxKnownOwners {
		return
	}
	cut := now.Add(-ownerMemory / 2)
	for u, e := range k.m {
		if e.at.Before(cut) {
			delete(k.m, u)
		}
	}
	for u := range k.m { // all younger than half their memory: any half goes
		if len(k.m) < maxKnownOwners/2 {
			break
		}
		delete(k.m, u)
	}
}

// forget drops user's entry if it still names node (a newer one, learned
// meanwhile, stays). node "" drops it whatever it names.
func (k *knownOwners) forget(user, node string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if e, ok := k.m[user]; ok && (node == "" || e.node == node) {
		delete(k.m, user)
	}
}

// knownRemote is sessionFor's first look for a user with no session
// here: a remote session on the owner this node learned lately, or nil
// (no Peers, none learned, or a session here that openSession must see
// to).
func (s *Server) knownRemote(ctx context.Context, cl auth.Claims) Session {
	if s.cfg.Peers == nil {
		return nil
	}
	if _, ok := s.sessions.Get(cl.Subject); ok {
		return nil
	}
	node, ok := s.knownOwners.get(cl.Subject)
	if !ok {
		return nil
	}
	return &remoteSession{s: s, ctx: ctx, cl: cl, node: node}
}
