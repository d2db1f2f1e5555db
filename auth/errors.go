package auth

import "errors"

// Errors returned by this package. Callers branch on them with [errors.Is].
// Every token rejection matches ErrInvalidToken (the caller must
// authenticate again); ErrExpired and ErrRevoked refine it.
var (
	// ErrInvalidToken is returned by Verify and VerifyPurpose for a token that
	// is malformed, badly signed, signed by an unknown or retired key, meant
	// for another audience, issuer or purpose, or not yet valid.
	ErrInvalidToken = errors.New("auth: invalid token")

	// ErrExpired is returned by Verify and VerifyPurpose for a token whose
	// exp has passed. The error also matches ErrInvalidToken.
	ErrExpired = errors.New("auth: token expired")

	// ErrRevoked is returned by Verify and VerifyPurpose for a token that was
	// revoked (logout, RevokeUser) or, for a single-use purpose, already used.
	// The error also matches ErrInvalidToken.
	ErrRevoked = errors.New("auth: token revoked")

	// ErrNotFound is matched by the error a Store returns for a missing row.
	ErrNotFound = errors.New("auth: not found")

	// ErrExists is matched by the error a Store returns for a duplicate
	// key, such as a passkey credential id registered twice.
	ErrExists = errors.New("auth: already exists")

	// ErrNotEnrolled is returned by TOTP methods for a user without a TOTP
	// secret (or, for Validate, without any enrolment at all).
	ErrNotEnrolled = errors.New("auth: totp not enrolled")

	// ErrAlreadyEnabled is returned by TOTP.Enroll when the user already has
	// an active TOTP secret; Disable it first.
	ErrAlreadyEnabled = errors.New("auth: totp already enabled")

	// ErrInvalidCode is returned by TOTP.Validate for a wrong code.
	ErrInvalidCode = errors.New("auth: invalid totp code")

	// ErrCodeUsed is returned by TOTP.Validate for a correct code whose time
	// step was already used by the same user (replay).
	ErrCodeUsed = errors.New("auth: totp code already used")

	// ErrLocked is returned by TOTP.Validate while a user has too many recent
	// failures. The returned error is a *LockedError that tells until when.
	ErrLocked = errors.New("auth: too many failed attempts")

	// ErrCeremony is returned by the Finish methods of Passkeys for a
	// ceremony id that is unknown, expired, already finished, of the other
	// kind, or started for another user.
	ErrCeremony = errors.New("auth: unknown or expired webauthn ceremony")

	// ErrPasskeyInvalid is returned by the Finish methods of Passkeys when
	// the authenticator's response does not verify, including a sign count
	// that went backwards (a possibly cloned authenticator).
	ErrPasskeyInvalid = errors.New("auth: passkey verification failed")

	// ErrTooManyCeremonies is returned by the Begin methods of Passkeys when
	// the bounded table of pending ceremonies is full.
	ErrTooManyCeremonies = errors.New("auth: too many pending webauthn ceremonies")

	// ErrNoPasskeys is returned by Passkeys.BeginLogin for a user without
	// passkeys.
	ErrNoPasskeys = errors.New("auth: no passkeys")
)
