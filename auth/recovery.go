package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
)

// Recovery codes: what a person types instead of the authenticator app's
// code when the phone is lost. Each works once, at sign-in or to turn
// TOTP off, and counts against the same lockout as a wrong code.
//
// A code is 10 characters of RFC 4648 base32 (a–z, 2–7), 50 random bits,
// shown as two groups of five ("k3mqa-7xwe2"); what is typed is read with
// its case, spaces and hyphens ignored. Against online guessing the
// lockout (MaxFailures per FailureWindow) and the first factor asked with
// it are the bound; against a copy of the store, the store keeps only an
// HMAC-SHA256 of each code under a key derived from the key that seals
// TOTP secrets, which stays in the key directory.

// RecoveryCodeCount is how many codes NewRecoveryCodes makes.
const RecoveryCodeCount = 10

const (
	recoveryLen   = 10 // base32 characters
	recoveryGroup = 5  // shown in groups of this many
)

var recoveryEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// recoveryKey derives the recovery codes' MAC key from the seal key: a
// key of its own, so that no MAC is ever made under the AES key itself.
func recoveryKey(sealKey []byte) []byte {
	return derivedKey(sealKey, "sparkgate totp recovery codes")
}

// derivedKey is a key for one purpose, named by label, derived from the
// seal key (which never changes).
func derivedKey(sealKey []byte, label string) []byte {
	m := hmac.New(sha256.New, sealKey)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// recoveryMAC is what the store keeps of a canonical code.
func (k *Keys) recoveryMAC(code string) []byte {
	m := hmac.New(sha256.New, k.recovery)
	m.Write([]byte(code))
	return m.Sum(nil)
}

// RecoveryCode reads typed as a recovery code: its canonical form (10
// lowercase base32 characters) and whether it is one. Spaces, tabs and
// hyphens are ignored and case does not matter; anything else is not a
// recovery code (a TOTP code is all digits, which base32 has only 2–7 of,
// and is shorter).
func RecoveryCode(typed string) (string, bool) {
	if len(typed) > 4*recoveryLen {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(typed); i++ {
		c := typed[i]
		switch {
		case c == ' ' || c == '\t' || c == '-':
			continue
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c >= 'a' && c <= 'z', c >= '2' && c <= '7':
		default:
			return "", false
		}
		b.WriteByte(c)
	}
	if b.Len() != recoveryLen {
		return "", false
	}
	return b.String(), true
}

// newRecoveryCode makes one code in its shown form.
func newRecoveryCode() string {
	s := strings.ToLower(recoveryEncoding.EncodeToString(randomBytes(7)))[:recoveryLen]
	return s[:recoveryGroup] + "-" + s[recoveryGroup:]
}

// NewRecoveryCodes makes RecoveryCodeCount new codes for user, replacing
// any left, and answers them in their shown form: show them once, never
// log or store them. The user must have active TOTP (ErrNotEnrolled
// otherwise, a pending enrolment too).
func (t *TOTP) NewRecoveryCodes(ctx context.Context, user string) ([]string, error) {
	mu := t.lock(user)
	mu.Lock()
	defer mu.Unlock()
	sec, err := t.store.TOTPSecret(ctx, user)
	switch {
	case errors.Is(err, ErrNotFound) || err == nil && !sec.Active:
		return nil, ErrNotEnrolled
	case err != nil:
		return nil, fmt.Errorf("auth: recovery codes: %w", err)
	}
	codes := make([]string, 0, RecoveryCodeCount)
	macs := make([][]byte, 0, RecoveryCodeCount)
	seen := make(map[string]bool, RecoveryCodeCount)
	for len(codes) < RecoveryCodeCount {
		c := newRecoveryCode()
		canon, _ := RecoveryCode(c)
		if seen[canon] {
			continue // 50 random bits: practically never, but a duplicate would be one code
		}
		seen[canon] = true
		codes = append(codes, c)
		macs = append(macs, t.keys.recoveryMAC(canon))
	}
	if err := t.store.PutRecoveryCodes(ctx, user, macs); err != nil {
		return nil, fmt.Errorf("auth: recovery codes: %w", err)
	}
	return codes, nil
}

// useRecoveryCode spends canon, a canonical recovery code of user, if it
// is one of theirs. Validate calls it under the user's lock, after the
// lockout check.
func (t *TOTP) useRecoveryCode(ctx context.Context, user, canon string) (bool, error) {
	ok, err := t.store.UseRecoveryCode(ctx, user, t.keys.recoveryMAC(canon))
	if err != nil {
		return false, fmt.Errorf("auth: recovery code: %w", err)
	}
	return ok, nil
}

// TOTPStatus is what a user's TOTP is: Active once a code confirmed it,
// Pending between enrolment and that code, and the recovery codes left.
type TOTPStatus struct {
	Active, Pending bool
	RecoveryCodes   int
}

// Status reports user's TOTP state.
func (t *TOTP) Status(ctx context.Context, user string) (TOTPStatus, error) {
	sec, err := t.store.TOTPSecret(ctx, user)
	switch {
	case errors.Is(err, ErrNotFound):
		return TOTPStatus{}, nil
	case err != nil:
		return TOTPStatus{}, fmt.Errorf("auth: totp status: %w", err)
	}
	st := TOTPStatus{Active: sec.Active, Pending: !sec.Active}
	if sec.Active {
		if st.RecoveryCodes, err = t.store.RecoveryCodes(ctx, user); err != nil {
			return TOTPStatus{}, fmt.Errorf("auth: totp status: %w", err)
		}
	}
	return st, nil
}
