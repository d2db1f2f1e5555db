package auth

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// DefaultRevocationRecheck is TokensConfig.RevocationRecheck when zero.
const DefaultRevocationRecheck = time.Second

// maxRevocationEntries bounds each map of the revocation view; past it the
// view drops what it can re-read from the store.
const maxRevocationEntries = 1 << 16

// revocations is Tokens' in-memory view of the store's revocation state,
// so that Verify, which runs on every request, does not read the store
// every time. The store stays the truth: every revocation is written there
// first, and a restarted gateway starts from an empty view.
//
// A revocation made through this Tokens takes effect at once: it updates
// the view as soon as the store has it. One written to the store by anyone
// else (another process sharing it) is seen once the view's answer for that
// token or user is older than recheck. Revocations only ever grow (a
// revoked id stays revoked until it expires, a cutoff only moves later), so
// the view may forget anything at any time without becoming wrong; it only
// must never keep a "not revoked" answer read before a local revocation,
// which the epoch guards against.
type revocations struct {
	recheck time.Duration // how long a store answer is trusted; < 0: never cached
	max     int           // most entries in each map

	mu     sync.Mutex
	epoch  uint64                // guarded by mu; bumped by every local revocation
	tokens map[string]tokenState // guarded by mu; by jti
	users  map[string]userState  // guarded by mu; by user
}

type tokenState struct {
	revoked bool
	checked time.Time // when the store said so (for revoked: unused)
	expires time.Time // the token's exp: the entry is useless after it
}

type userState struct {
	cutoff  time.Time // zero: none
	checked time.Time
}

func newRevocations(recheck time.Duration) *revocations {
	return &revocations{
		recheck: recheck,
		max:     maxRevocationEntries,
		tokens:  make(map[string]tokenState),
		users:   make(map[string]userState),
	}
}

// check reports whether the token with claims c is revoked, reading the
// store only for what the view does not know freshly at now.
func (r *revocations) check(ctx context.Context, st TokenStore, c Claims, now time.Time) (revoked bool, reason string, err error) {
	var (
		tok, tokOK   = tokenState{}, false
		user, userOK = userState{}, false
		epoch        uint64
	)
	if r.recheck >= 0 {
		r.mu.Lock()
		tok, tokOK = r.tokens[c.ID]
		user, userOK = r.users[c.Subject]
		epoch = r.epoch
		r.mu.Unlock()
		tokOK = tokOK && (tok.revoked || now.Sub(tok.checked) < r.recheck)
		userOK = userOK && now.Sub(user.checked) < r.recheck
	}
	if tokOK && tok.revoked {
		return true, "logged out", nil
	}
	if !tokOK {
		rev, err := st.TokenRevoked(ctx, c.ID)
		if err != nil {
			return false, "", fmt.Errorf("auth: check revocation: %w", err)
		}
		tok = tokenState{revoked: rev, checked: now, expires: c.ExpiresAt}
		if rev {
			// A revoked answer is never stale, whatever happened since.
			if r.recheck >= 0 {
				r.mu.Lock()
				r.putTokenLocked(c.ID, tok, now)
				r.mu.Unlock()
			}
			return true, "logged out", nil
		}
	}
	if !userOK {
		cutoff, err := st.UserRevokedBefore(ctx, c.Subject)
		if err != nil {
			return false, "", fmt.Errorf("auth: check revocation: %w", err)
		}
		user = userState{cutoff: cutoff, checked: now}
	}
	if r.recheck >= 0 && (!tokOK || !userOK) {
		r.mu.Lock()
		if r.epoch == epoch { // no local revocation since the reads began
			if !tokOK {
				r.putTokenLocked(c.ID, tok, now)
			}
			if !userOK {
				r.putUserLocked(c.Subject, user, now)
			}
		}
		r.mu.Unlock()
	}
	if !user.cutoff.IsZero() && c.IssuedAt.Before(user.cutoff) {
		return true, "issued before the user's cutoff", nil
	}
	return false, "", nil
}

// revoked records that this Tokens revoked jti (the store has it).
func (r *revocations) revoked(jti string, expires, now time.Time) {
	r.mu.Lock()
	r.epoch++
	if r.recheck >= 0 {
		r.putTokenLocked(jti, tokenState{revoked: true, expires: expires}, now)
	}
	r.mu.Unlock()
}

// forget drops what the view knows about jti (empty: none) and user
// (empty: none), so the next check reads the store: after a local
// revocation whose outcome is unknown or only the store knows exactly.
func (r *revocations) forget(jti, user string) {
	r.mu.Lock()
	r.epoch++
	delete(r.tokens, jti)
	delete(r.users, user)
	r.mu.Unlock()
}

// putTokenLocked stores s for jti, making room first when the map is full.
// r.mu must be held.
func (r *revocations) putTokenLocked(jti string, s tokenState, now time.Time) {
	if _, ok := r.tokens[jti]; !ok && len(r.tokens) >= r.max {
		for k, v := range r.tokens {
			if !now.Before(v.expires) || !v.revoked && now.Sub(v.checked) >= r.recheck {
				delete(r.tokens, k)
			}
		}
		if len(r.tokens) >= r.max {
			clear(r.tokens) // the store still knows everything
		}
	}
	r.tokens[jti] = s
}

// putUserLocked stores s for user, making room first when the map is full.
// r.mu must be held.
func (r *revocations) putUserLocked(user string, s userState, now time.Time) {
	if _, ok := r.users[user]; !ok && len(r.users) >= r.max {
		for k, v := range r.users {
			if now.Sub(v.checked) >= r.recheck {
				delete(r.users, k)
			}
		}
		if len(r.users) >= r.max {
			clear(r.users)
		}
	}
	r.users[user] = s
}

// size returns how many tokens and users the view holds (tests).
func (r *revocations) size() (tokens, users int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.tokens), len(r.users)
}
