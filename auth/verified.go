package auth

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"sync"
	"time"
)

// maxVerifiedEntries bounds the verified-token memo.
const maxVerifiedEntries = 1 << 14

// verified remembers tokens whose signature and fixed claims (alg, kid,
// aud, iss, the required claims) checked out, by the SHA-256 of the whole
// token, so that a client sending the same token on every request pays
// the Ed25519 verification once. A token that is the same bytes as one
// already verified carries the same valid signature; what can change with
// time is checked again on every use: exp, nbf and iat against the clock
// (with the leeway) and whether the signing key still verifies. Revocation
// is not memoized here (see revocations).
type verified struct {
	max int

	mu sync.Mutex
	m  map[[sha256.Size]byte]Claims // guarded by mu
}

func newVerified() *verified {
	return &verified{max: maxVerifiedEntries, m: make(map[[sha256.Size]byte]Claims)}
}

// lookup returns the claims of token if it was verified before. ok is
// false when it was not; err is set when it was but no longer passes the
// checks that depend on time.
func (v *verified) lookup(t *Tokens, token string, now time.Time) (c Claims, ok bool, err error) {
	sum := sha256.Sum256([]byte(token))
	v.mu.Lock()
	c, ok = v.m[sum]
	v.mu.Unlock()
	if !ok {
		return Claims{}, false, nil
	}
	c.Audience = slices.Clone(c.Audience) // the caller's own, as a parse gives
	return c, true, t.checkTimes(c, now)
}

// add remembers the claims of a token that passed every check.
func (v *verified) add(token string, c Claims, now time.Time) {
	sum := sha256.Sum256([]byte(token))
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, ok := v.m[sum]; !ok && len(v.m) >= v.max {
		for k, old := range v.m {
			if !now.Before(old.ExpiresAt) {
				delete(v.m, k)
			}
		}
		if len(v.m) >= v.max {
			clear(v.m) // verifying again is all a miss costs
		}
	}
	v.m[sum] = c
}

// size returns how many tokens are remembered (tests).
func (v *verified) size() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.m)
}

// checkTimes repeats, for remembered claims, the parser's checks that
// depend on the time: the key still verifies, exp has not passed, and nbf
// and iat (the whole second that was signed) are not in the future, all
// with the leeway.
func (t *Tokens) checkTimes(c Claims, now time.Time) error {
	if _, ok := t.keys.verifier(c.KeyID, now); !ok {
		return fmt.Errorf("%w: unknown or retired key id", ErrInvalidToken)
	}
	if !now.Before(c.ExpiresAt.Add(t.leeway)) {
		return fmt.Errorf("%w (%w): token is expired", ErrExpired, ErrInvalidToken)
	}
	if now.Before(c.NotBefore.Add(-t.leeway)) || now.Before(c.IssuedAt.Truncate(time.Second).Add(-t.leeway)) {
		return fmt.Errorf("%w: token is not valid yet", ErrInvalidToken)
	}
	return nil
}
