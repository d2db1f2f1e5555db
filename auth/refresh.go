package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"time"
	"unicode/utf8"
)

// Defaults of RefreshConfig.
const (
	// DefaultSessionLifetime is how long a refresh token of a login
	// without "stay signed in" stays usable: an open tab refreshes well
	// within it, a browser that comes back the next day logs in again.
	DefaultSessionLifetime = 12 * time.Hour
	// DefaultRememberLifetime is how long a refresh token of a login with
	// "stay signed in" stays usable.
	DefaultRememberLifetime = 30 * 24 * time.Hour
	// DefaultRetryWindow is how long after a refresh token was spent a
	// client may present it again without revoking its family, provided
	// it never used what that refresh answered (see Refresh). A client
	// whose answer was lost retries within seconds, or when the network
	// comes back; a minute covers the first and some of the second, and
	// keeps short the time a thief with a copy could go unnoticed.
	DefaultRetryWindow = time.Minute
)

// refreshPrefix starts every refresh token, so that one is never taken
// for a JWT (nor a JWT for one) and shows what it is in a leak scanner.
const refreshPrefix = "sgr_"

// maxRefreshLen bounds the input Rotate looks at; real ones are 47 bytes.
const maxRefreshLen = 256

// maxDeviceLen bounds the stored device label, in bytes.
const maxDeviceLen = 128

// RefreshConfig configures NewRefresh.
type RefreshConfig struct {
	Tokens *Tokens      // required: issues and revokes the access tokens
	Store  RefreshStore // required: the refresh tokens

	// SessionLifetime is how long each refresh token of a family started
	// without "stay signed in" is valid; every refresh issues one valid as
	// long again (a sliding idle timeout). Zero means
	// DefaultSessionLifetime.
	SessionLifetime time.Duration
	// RememberLifetime is the same for families started with "stay signed
	// in"; zero means DefaultRememberLifetime.
	RememberLifetime time.Duration
	// RetryWindow is how long after a refresh a retry of it is answered
	// instead of revoking the family (see Refresh); zero means
	// DefaultRetryWindow, a negative value turns retries off.
	RetryWindow time.Duration

	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
}

// Refresh issues and rotates refresh tokens (OAuth 2.0 Security BCP,
// RFC 9700 §4.14: rotation with reuse detection). A login starts a family;
// each refresh spends the family's current refresh token and answers a
// new access token and a new refresh token. A refresh token is an opaque
// random secret, stored only as its SHA-256; the access tokens of a family
// carry its id (claim fam), so revoking the family revokes them too.
// Presenting a refresh token that was already spent revokes its whole
// family: either the client or a thief holds a copy, and the server cannot
// tell which. A refresh keeps the login method of the family's login.
// Refresh is safe for concurrent use.
//
// One exception keeps a lost answer from signing the user out everywhere:
// a client whose refresh answer never arrived (a dropped mobile
// connection, a tab closed mid-request) still holds the spent token and
// tries it again. Within RetryWindow of the spend (or of its last retry,
// should the retry's answer be lost too), while the token that spend
// issued is still unused, that token is spent in its place and a new grant
// is answered: the family keeps a single live refresh token, the one the
// retry got. The token the retry spent issued nothing, so
// presenting it is always reuse: a thief who replays a copy within the
// window gets the live token, and the real client's next refresh (of the
// token the replay spent) revokes the family. A spent token whose
// successor was used is reuse, as before.
type Refresh struct {
	tokens   *Tokens
	store    RefreshStore
	session  time.Duration
	remember time.Duration
	retry    time.Duration // <= 0: no retries
	now      func() time.Time
}

// NewRefresh validates cfg and returns a Refresh.
func NewRefresh(cfg RefreshConfig) (*Refresh, error) {
	switch {
	case cfg.Tokens == nil:
		return nil, errors.New("auth: RefreshConfig.Tokens is nil")
	case cfg.Store == nil:
		return nil, errors.New("auth: RefreshConfig.Store is nil")
	case cfg.SessionLifetime < 0, cfg.RememberLifetime < 0:
		return nil, errors.New("auth: negative RefreshConfig lifetime")
	}
	r := &Refresh{tokens: cfg.Tokens, store: cfg.Store, session: cfg.SessionLifetime,
		remember: cfg.RememberLifetime, retry: cfg.RetryWindow, now: cfg.Clock}
	if r.session == 0 {
		r.session = DefaultSessionLifetime
	}
	if r.remember == 0 {
		r.remember = DefaultRememberLifetime
	}
	if r.retry == 0 {
		r.retry = DefaultRetryWindow
	}
	if r.now == nil {
		r.now = time.Now
	}
	return r, nil
}

// Grant is what a login or a refresh answers: an access token and the
// refresh token that gets the next one.
type Grant struct {
	Access        string // the access token (a JWT)
	AccessClaims  Claims // its claims; AccessClaims.Family is the family
	Refresh       string // the refresh token, opaque
	RefreshExpiry time.Time
	Remember      bool // the family's "stay signed in"
	// Retried is set on a refresh that was a retry of an earlier one
	// whose answer was never used (see Refresh).
	Retried bool
}

// LogValue shows the access token's claims, never a token.
func (g Grant) LogValue() slog.Value { return g.AccessClaims.LogValue() }

// Start starts a family for a login of user (a bare JID) with method (a
// Method constant) and returns its first grant. remember picks the longer
// lifetime; device is a label of the client, stored for the user to
// recognise the family (it may be empty, and is cut to 128 bytes).
func (r *Refresh) Start(ctx context.Context, user, method string, remember bool, device string) (Grant, error) {
	switch method {
	case MethodPassword, MethodTOTP, MethodWebAuthn:
	default:
		return Grant{}, fmt.Errorf("auth: start refresh family: unknown method %q", method)
	}
	now := r.now()
	rt := RefreshToken{
		Family:    base64.RawURLEncoding.EncodeToString(randomBytes(16)),
		User:      user,
		Device:    cutLabel(device, maxDeviceLen),
		Method:    method,
		Remember:  remember,
		StartedAt: now,
	}
	return r.grant(ctx, rt, now)
}

// Rotate spends a refresh token and returns the family's next grant, with
// the family's login method. Every refusal matches ErrInvalidToken: an
// unknown token (never issued, purged, or of a revoked family) and an
// expired one (also ErrExpired); a token that was already spent, or whose
// family or user was revoked, also matches ErrRevoked, and a spent one
// revokes its family and every access token issued in it (the error is a
// *ReuseError), unless it is a retry within the window (see Refresh; the
// grant's Retried is true). Any other error is a store failure.
func (r *Refresh) Rotate(ctx context.Context, refresh string) (Grant, error) {
	if len(refresh) > maxRefreshLen || len(refresh) <= len(refreshPrefix) || refresh[:len(refreshPrefix)] != refreshPrefix {
		return Grant{}, fmt.Errorf("%w: not a refresh token", ErrInvalidToken)
	}
	now := r.now()
	old, spent, err := r.store.SpendRefreshToken(ctx, hashRefresh(refresh), now)
	switch {
	case errors.Is(err, ErrNotFound):
		return Grant{}, fmt.Errorf("%w: unknown refresh token", ErrInvalidToken)
	case err != nil:
		return Grant{}, fmt.Errorf("auth: refresh: %w", err)
	case !spent:
		if ok, err := r.retried(ctx, old, now); err != nil {
			return Grant{}, err
		} else if ok {
			g, err := r.next(ctx, old, now)
			g.Retried = err == nil
			return g, err
		}
		if err := r.RevokeFamily(ctx, old.User, old.Family); err != nil {
			return Grant{}, err
		}
		return Grant{}, &ReuseError{User: old.User, Family: old.Family}
	case !now.Before(old.ExpiresAt):
		return Grant{}, fmt.Errorf("%w (%w): refresh token expired", ErrExpired, ErrInvalidToken)
	}
	return r.next(ctx, old, now)
}

// retried reports whether presenting old, a spent token, again is a retry
// within the window, and if so spends old's successor (see Refresh).
func (r *Refresh) retried(ctx context.Context, old RefreshToken, now time.Time) (bool, error) {
	if r.retry <= 0 || old.UsedAt.IsZero() || now.Sub(old.UsedAt) > r.retry {
		return false, nil
	}
	ok, err := r.store.RespendRefreshToken(ctx, old.Hash, old.UsedAt, now)
	if err != nil {
		return false, fmt.Errorf("auth: refresh retry: %w", err)
	}
	return ok, nil
}

// next answers the grant that follows old, a token just spent, unless its
// family or user was revoked.
func (r *Refresh) next(ctx context.Context, old RefreshToken, now time.Time) (Grant, error) {
	// The family may have been revoked by another process (its rows are
	// deleted then, but a refresh may race the deletion), and the user's
	// tokens by a password change: the family started before the cutoff.
	probe := Claims{ID: familyKey(old.Family), Subject: old.User, IssuedAt: old.StartedAt, ExpiresAt: old.ExpiresAt}
	revoked, why, err := r.tokens.revs.check(ctx, r.tokens.store, probe, now)
	if err != nil {
		return Grant{}, err
	}
	if revoked {
		return Grant{}, fmt.Errorf("%w (%w): refresh token family: %s", ErrRevoked, ErrInvalidToken, why)
	}
	next := RefreshToken{
		Family:    old.Family,
		User:      old.User,
		Device:    old.Device,
		Method:    old.Method,
		Remember:  old.Remember,
		StartedAt: old.StartedAt,
		Parent:    old.Hash,
	}
	return r.grant(ctx, next, now)
}

// ReuseError is Rotate's error for a refresh token that was already
// spent: it names the family that Rotate revoked. It matches ErrRevoked
// and ErrInvalidToken.
type ReuseError struct {
	User   string // bare JID
	Family string
}

func (e *ReuseError) Error() string {
	return "auth: refresh token reused; its family is revoked"
}

// Unwrap makes the error match ErrRevoked and ErrInvalidToken.
func (e *ReuseError) Unwrap() []error { return []error{ErrRevoked, ErrInvalidToken} }

// grant issues the access token and a new refresh token of rt's family
// and stores the refresh token.
func (r *Refresh) grant(ctx context.Context, rt RefreshToken, now time.Time) (Grant, error) {
	access, cl, err := r.tokens.issue(rt.User, rt.Method, "", Claims{Family: rt.Family, Remember: rt.Remember}, r.tokens.lifetime)
	if err != nil {
		return Grant{}, err
	}
	secret := refreshPrefix + base64.RawURLEncoding.EncodeToString(randomBytes(32))
	rt.Hash = hashRefresh(secret)
	rt.IssuedAt = now
	rt.ExpiresAt = now.Add(r.lifetime(rt.Remember))
	if err := r.store.AddRefreshToken(ctx, rt); err != nil {
		return Grant{}, fmt.Errorf("auth: store refresh token: %w", err)
	}
	return Grant{Access: access, AccessClaims: cl, Refresh: secret, RefreshExpiry: rt.ExpiresAt, Remember: rt.Remember}, nil
}

// lifetime is the lifetime of a refresh token of a family with or without
// "stay signed in".
func (r *Refresh) lifetime(remember bool) time.Duration {
	if remember {
		return r.remember
	}
	return r.session
}

// RevokeFamily revokes the user's family (logout): its refresh tokens are
// deleted and every access token issued in it is revoked.
func (r *Refresh) RevokeFamily(ctx context.Context, user, family string) error {
	if family == "" {
		return errors.New("auth: revoke family: empty family")
	}
	// The access tokens first: a failure then leaves the refresh tokens,
	// and the caller can try again.
	// The record outlives any refresh token the family may still get
	// from a refresh racing this revocation.
	until := r.now().Add(max(r.session, r.remember) + r.tokens.leeway)
	if err := r.tokens.revokeFamily(ctx, family, until); err != nil {
		return err
	}
	if err := r.store.DeleteRefreshFamily(ctx, user, family); err != nil {
		return fmt.Errorf("auth: revoke family: %w", err)
	}
	return nil
}

// RevokeUser deletes every refresh token of user (a password change, a
// removed account). The caller revokes the access tokens with
// Tokens.RevokeUser, whose cutoff also refuses a refresh of any family
// started before it, should a deletion be missed.
func (r *Refresh) RevokeUser(ctx context.Context, user string) error {
	if err := r.store.DeleteUserRefreshTokens(ctx, user); err != nil {
		return fmt.Errorf("auth: revoke refresh tokens: %w", err)
	}
	return nil
}

// hashRefresh is what the store keeps of a refresh token: 256 random bits
// need no slow hash.
func hashRefresh(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// cutLabel cuts s to at most n bytes without splitting a character, and
// drops control characters.
func cutLabel(s string, n int) string {
	out := make([]byte, 0, min(len(s), n))
	for _, c := range s {
		if c < 0x20 || c == 0x7f || c == utf8.RuneError {
			continue
		}
		if len(out)+utf8.RuneLen(c) > n {
			break
		}
		out = utf8.AppendRune(out, c)
	}
	return string(out)
}
