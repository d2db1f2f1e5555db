package auth

import (
	"context"
	"log/slog"
	"time"
)

// Store is the persistence this package needs. Package store implements it
// (SQLite); tests may use an in-memory one. Implementations report a missing
// row with an error that matches ErrNotFound and must be safe for concurrent
// use. Times are kept with at least millisecond precision.
type Store interface {
	TokenStore
	TOTPStore
	PasskeyStore
}

// TokenStore keeps the revocation state of tokens.
type TokenStore interface {
	// RevokeToken records the token id jti as revoked until expiresAt, after
	// which the row may be purged. It reports whether the id was newly
	// recorded; false means it was already there, which makes RevokeToken an
	// atomic "use once" for single-use tokens.
	RevokeToken(ctx context.Context, jti string, expiresAt time.Time) (bool, error)

	// TokenRevoked reports whether jti was recorded by RevokeToken.
	TokenRevoked(ctx context.Context, jti string) (bool, error)

	// RevokeUserBefore records that every token of user issued before the
	// cutoff is revoked. A later cutoff replaces an earlier one; an earlier
	// one never moves it back.
	RevokeUserBefore(ctx context.Context, user string, cutoff time.Time) error

	// UserRevokedBefore returns the user's cutoff, or the zero Time when no
	// cutoff was recorded (not an error).
	UserRevokedBefore(ctx context.Context, user string) (time.Time, error)
}

// TOTPStore keeps TOTP secrets and the state that protects them.
type TOTPStore interface {
	// PutTOTPSecret inserts or replaces the user's secret.
	PutTOTPSecret(ctx context.Context, s TOTPSecret) error

	// TOTPSecret returns the user's secret, or an error matching ErrNotFound.
	TOTPSecret(ctx context.Context, user string) (TOTPSecret, error)

	// ActivateTOTPSecret marks the user's pending secret active, or returns
	// an error matching ErrNotFound.
	ActivateTOTPSecret(ctx context.Context, user string) error

	// DeleteTOTPSecret removes the user's secret, or returns an error
	// matching ErrNotFound.
	DeleteTOTPSecret(ctx context.Context, user string) error

	// UseTOTPStep records that the user consumed the code of the given time
	// step, keeping the row until expiresAt. It reports whether the step was
	// newly recorded; false means the code was already used (replay). The
	// check and the insert are one atomic operation.
	UseTOTPStep(ctx context.Context, user string, step int64, expiresAt time.Time) (bool, error)

	// AddTOTPFailure records a failed attempt by user at the given time.
	AddTOTPFailure(ctx context.Context, user string, at time.Time) error

	// TOTPFailures returns the user's failed attempts at or after since,
	// oldest first.
	TOTPFailures(ctx context.Context, user string, since time.Time) ([]time.Time, error)

	// ClearTOTPFailures forgets the user's failed attempts.
	ClearTOTPFailures(ctx context.Context, user string) error

	// PutRecoveryCodes replaces the user's recovery codes (their MACs) by
	// macs. DeleteTOTPSecret removes them with the secret.
	PutRecoveryCodes(ctx context.Context, user string, macs [][]byte) error

	// UseRecoveryCode deletes the user's recovery code with this MAC and
	// reports whether there was one: the check and the delete are one
	// atomic operation, so a code works once.
	UseRecoveryCode(ctx context.Context, user string, mac []byte) (bool, error)

	// RecoveryCodes counts the user's unused recovery codes.
	RecoveryCodes(ctx context.Context, user string) (int, error)
}

// TOTPSecret is a user's TOTP secret as stored: sealed with AES-256-GCM
// under the key from [Keys], with the user as additional data so a row
// cannot be moved to another user.
type TOTPSecret struct {
	User       string    // bare JID
	Ciphertext []byte    // sealed base32 secret
	Nonce      []byte    // GCM nonce
	Active     bool      // false until the first successful Validate
	CreatedAt  time.Time // enrolment time
}

// LogValue hides the sealed secret.
func (s TOTPSecret) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("user", s.User),
		slog.Bool("active", s.Active),
		slog.Time("created", s.CreatedAt),
	)
}

// PasskeyStore keeps WebAuthn user handles and credentials.
type PasskeyStore interface {
	// WebAuthnHandle returns the user's WebAuthn user handle, storing
	// candidate first when the user has none yet. The stored handle wins,
	// so concurrent first registrations agree.
	WebAuthnHandle(ctx context.Context, user string, candidate []byte) ([]byte, error)

	// UserByWebAuthnHandle returns the user owning a handle, or an error
	// matching ErrNotFound.
	UserByWebAuthnHandle(ctx context.Context, handle []byte) (string, error)

	// PasskeyCredentials returns the user's credentials, oldest first.
	PasskeyCredentials(ctx context.Context, user string) ([]PasskeyCredential, error)

	// AddPasskeyCredential stores a new credential. A credential id that
	// is already stored (for anyone) is an error matching ErrExists.
	AddPasskeyCredential(ctx context.Context, c PasskeyCredential) error

	// UpdatePasskeyCredential replaces the data and last use time of the
	// user's credential id, or returns an error matching ErrNotFound.
	UpdatePasskeyCredential(ctx context.Context, user string, id, data []byte, lastUsed time.Time) error

	// DeletePasskeyCredential removes the user's credential id, or returns
	// an error matching ErrNotFound.
	DeletePasskeyCredential(ctx context.Context, user string, id []byte) error
}

// CeremonyStore keeps pending passkey ceremonies where every gateway node
// sharing the store finds them (PasskeysConfig.Ceremonies), so a ceremony
// begun on one node finishes on another. The state is opaque to it.
type CeremonyStore interface {
	// PutCeremony stores state under id until expires, for owner (the
	// user whose ceremony it is). It first drops owner's oldest ceremonies
	// so that at most perOwner of theirs are stored with this one (0: no
	// such bound), then fails with ErrTooManyCeremonies when max
	// ceremonies not expired at now are stored already (SpendCeremony's
	// records not counted).
	PutCeremony(ctx context.Context, id, owner string, state []byte, expires, now time.Time, max, perOwner int) error

	// TakeCeremony removes the ceremony id and returns its state and
	// expiry; ok is false when there is none (never stored, taken already,
	// or purged after its expiry).
	TakeCeremony(ctx context.Context, id string) (state []byte, expires time.Time, ok bool, err error)

	// SpendCeremony records id, a finished ceremony that kept no state (a
	// discoverable login's challenge), until expires; fresh is false when
	// it was recorded already. Records past their expiry may be purged.
	// No bound: a record is made only for a verified passkey.
	SpendCeremony(ctx context.Context, id string, expires time.Time) (fresh bool, err error)
}

// PasskeyCredential is a stored WebAuthn credential. Data is this package's
// own encoding of the credential (public key, sign count, flags,
// transports, AAGUID); stores keep it opaque.
type PasskeyCredential struct {
	User       string    // bare JID
	ID         []byte    // credential id, unique across users
	Name       string    // label chosen by the user
	Data       []byte    // opaque to the store
	CreatedAt  time.Time //
	LastUsedAt time.Time // zero until the first login
}

// RefreshStore keeps refresh tokens, by the SHA-256 of their secret.
type RefreshStore interface {
	// AddRefreshToken stores a new refresh token. A hash that is already
	// stored is an error matching ErrExists.
	AddRefreshToken(ctx context.Context, rt RefreshToken) error

	// SpendRefreshToken marks the token with this hash spent at the given
	// time unless it is spent already, and returns it as it was before the
	// call; spent reports whether this call spent it (false: an earlier
	// one did). The check and the update are one atomic operation. A hash
	// that is not stored is an error matching ErrNotFound.
	SpendRefreshToken(ctx context.Context, hash []byte, at time.Time) (rt RefreshToken, spent bool, err error)

	// RespendRefreshToken serves a retried refresh: when the token with
	// this hash was spent at spentAt (to the millisecond) and a token whose
	// Parent is this hash (the one its spend issued, or its last retry
	// did) is unspent and unexpired, it spends that one at the given time,
	// marks the token spent at that time too, and reports true; otherwise
	// it changes nothing and reports false. The checks and updates are one
	// atomic operation.
	RespendRefreshToken(ctx context.Context, hash []byte, spentAt, at time.Time) (bool, error)

	// DeleteRefreshFamily deletes every token of the user's family.
	DeleteRefreshFamily(ctx context.Context, user, family string) error

	// DeleteUserRefreshTokens deletes every token of every family of user.
	DeleteUserRefreshTokens(ctx context.Context, user string) error

	// ListRefreshFamilies returns user's families that have an unspent
	// token expiring after now, in any order: each with the fields of
	// its login, LastUsedAt the issue time of that token and ExpiresAt
	// its expiry.
	ListRefreshFamilies(ctx context.Context, user string, now time.Time) ([]Login, error)
}

// RefreshToken is a stored refresh token. The secret itself is never
// stored, only its SHA-256: a copy of the store cannot be replayed.
type RefreshToken struct {
	Hash      []byte    // SHA-256 of the secret
	Family    string    // the login the token descends from
	User      string    // bare JID
	Device    string    // a label of the client that logged in, maybe empty
	Method    string    // the login method of the family (amr), kept by every refresh
	Remember  bool      // the family's "stay signed in"
	StartedAt time.Time // when the family's login happened
	IssuedAt  time.Time //
	ExpiresAt time.Time // after it the token is refused, and the row may be purged
	UsedAt    time.Time // zero until spent by a refresh
	// Parent is the hash of the token whose refresh issued this one; nil
	// for a login's. Only AddRefreshToken reads it.
	Parent []byte
}

// LogValue hides the hash.
func (rt RefreshToken) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("user", rt.User),
		slog.String("family", rt.Family),
		slog.String("method", rt.Method),
		slog.Bool("remember", rt.Remember),
		slog.Time("exp", rt.ExpiresAt),
	)
}
