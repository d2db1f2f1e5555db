package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"time"
)

// A discoverable passkey login (no username: the browser's autofill, the
// "Sign in with a passkey" button) keeps nothing on the server until a
// passkey has been verified. Its challenge carries its own expiry and a
// MAC under a key of the gateway's (PasskeysConfig.Keys), so any node that
// shares the key directory can check it at the finish; only a verified
// login records the challenge as spent (CeremonyStore.SpendCeremony), so
// that the same assertion cannot sign in twice.
//
// Why: a pending ceremony kept per start let anyone who could start them
// fill the table (MaxCeremonies, 10,000, shared by every user) from a few
// dozen addresses within the ceremony's lifetime, after which nobody
// could sign in with a passkey or add one; and the sign-in page's autofill
// starts one for every visitor who merely opens it. A named login's
// ceremony stays kept: it lists the user's passkeys, needs a user who
// has some, and registrations need a signed-in user.

// Sealed challenge layout: nonce, expiry (Unix ms, big-endian), MAC of the
// two. 40 bytes, so it never has the length of a kept ceremony's random
// challenge (protocol.CreateChallenge, 32).
const (
	sealedNonceLen = 16
	sealedMACLen   = 16
	sealedLen      = sealedNonceLen + 8 + sealedMACLen
)

// spentPrefix marks a spent challenge's id in a CeremonyStore. A ceremony
// id is base64url and never holds ':', and take refuses ids that do, so no
// finish can take a spent record away.
const spentPrefix = "spent:"

// challengeSealer makes and checks the challenges of discoverable logins.
type challengeSealer struct{ key []byte }

func (s challengeSealer) mac(body []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("sparkgate discoverable login\x00"))
	m.Write(body)
	return m.Sum(nil)[:sealedMACLen]
}

// seal returns a fresh challenge that expires at expires.
func (s challengeSealer) seal(expires time.Time) []byte {
	return s.sealNonce(randomBytes(sealedNonceLen), expires)
}

// sealNonce is seal with the nonce given (sealedNonceLen bytes).
func (s challengeSealer) sealNonce(nonce []byte, expires time.Time) []byte {
	b := make([]byte, 0, sealedLen)
	b = append(b, nonce...)
	b = binary.BigEndian.AppendUint64(b, uint64(expires.UnixMilli()))
	return append(b, s.mac(b)...)
}

// open checks a challenge as the client data carries it (base64url) and
// returns its raw bytes and expiry; ok is false for anything this sealer
// did not make, a kept ceremony's challenge among them.
func (s challengeSealer) open(challenge string) (raw []byte, expires time.Time, ok bool) {
	if base64.RawURLEncoding.DecodedLen(len(challenge)) != sealedLen {
		return nil, time.Time{}, false
	}
	// Strict: one challenge, one spelling (the spent record is keyed by it).
	raw, err := base64.RawURLEncoding.Strict().DecodeString(challenge)
	if err != nil || len(raw) != sealedLen {
		return nil, time.Time{}, false
	}
	body := raw[:sealedNonceLen+8]
	if !hmac.Equal(raw[len(body):], s.mac(body)) {
		return nil, time.Time{}, false
	}
	return raw, time.UnixMilli(int64(binary.BigEndian.Uint64(body[sealedNonceLen:]))), true
}

// spend records the challenge of a verified discoverable login as used
// until it expires, and returns ErrCeremony when it was already. Records
// are made only for verified passkeys, so they count real sign-ins; in
// memory (one process) at most MaxCeremonies of them, failing closed past
// that, apart from the pending ceremonies.
func (p *Passkeys) spend(ctx context.Context, challenge string, expires time.Time) error {
	id := spentPrefix + CeremonyOf(challenge)
	if p.kept != nil {
		fresh, err := p.kept.SpendCeremony(ctx, id, expires)
		switch {
		case err != nil:
			return fmt.Errorf("auth: spend webauthn challenge: %w", err)
		case !fresh:
			return ErrCeremony
		}
		return nil
	}
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if until, ok := p.spent[id]; ok && now.Before(until) {
		return ErrCeremony
	}
	if len(p.spent) >= p.max {
		for k, until := range p.spent {
			if !now.Before(until) {
				delete(p.spent, k)
			}
		}
		if len(p.spent) >= p.max {
			return ErrTooManyCeremonies
		}
	}
	p.spent[id] = expires
	return nil
}
