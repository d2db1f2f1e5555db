package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Login methods recorded in a token's amr claim.
const (
	MethodPassword = "pwd"
	MethodTOTP     = "totp"
	MethodWebAuthn = "webauthn"
)

// DefaultLifetime is the access token lifetime when TokensConfig.Lifetime
// is zero.
const DefaultLifetime = 8 * time.Hour

// maxTokenLen bounds the input Verify looks at; real tokens are ~350 bytes.
const maxTokenLen = 4096

// TokensConfig configures NewTokens.
type TokensConfig struct {
	Keys  *Keys      // required: signing and verification keys
	Store TokenStore // required: revocation state

	Audience string // required: aud of issued tokens, and the only one accepted
	Issuer   string // required: iss of issued tokens, and the only one accepted

	// Lifetime of access tokens; zero means DefaultLifetime.
	Lifetime time.Duration

	// Leeway is the clock skew tolerated when checking exp, nbf and iat;
	// zero means none.
	Leeway time.Duration

	// SingleUsePurposes lists the purposes whose tokens VerifyPurpose
	// accepts only once (the token id is recorded as used).
	SingleUsePurposes []string

	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time

	// RevocationRecheck is how long Verify trusts what the store said about
	// a token id or a user's cutoff before asking it again; zero means
	// DefaultRevocationRecheck, negative means asking on every Verify.
	// Revocations made through this Tokens take effect at once whatever
	// the value; it only delays seeing ones that another process wrote to
	// the same store.
	RevocationRecheck time.Duration
}

// Tokens issues, verifies and revokes signed access tokens (JWT, EdDSA). It
// is safe for concurrent use.
type Tokens struct {
	keys      *Keys
	store     TokenStore
	aud, iss  string
	lifetime  time.Duration
	singleUse []string
	now       func() time.Time
	parser    *jwt.Parser
	leeway    time.Duration
	memo      *verified
	revs      *revocations
}

// Claims are the claims of a verified or newly issued token.
type Claims struct {
	Subject   string    // bare JID of the user
	ID        string    // jti: random, the handle for revocation
	Issuer    string    // iss
	Audience  []string  // aud
	IssuedAt  time.Time // iat, to the millisecond
	NotBefore time.Time // nbf
	ExpiresAt time.Time // exp
	Method    string    // login method, one of the Method constants
	Purpose   string    // empty for access tokens
	KeyID     string    // kid of the signing key
	Family    string    // fam: the refresh token family, empty for none
	Remember  bool      // rem: the family's "stay signed in"

	Parent *TicketParent // in a ticket, the access token it stands for (ticket.go); nil in others
}

// LogValue shows who and until when, never the token.
func (c Claims) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("user", c.Subject),
		slog.String("jti", c.ID),
		slog.String("method", c.Method),
		slog.Time("exp", c.ExpiresAt),
	}
	if c.Purpose != "" {
		attrs = append(attrs, slog.String("purpose", c.Purpose))
	}
	if c.Family != "" {
		attrs = append(attrs, slog.String("family", c.Family))
	}
	return slog.GroupValue(attrs...)
}

// wireClaims is the JSON payload of a token.
type wireClaims struct {
	jwt.RegisteredClaims
	AMR     []string `json:"amr,omitempty"`
	Purpose string   `json:"pur,omitempty"`
	// Family names the refresh token family the token was issued in, so
	// that revoking the family revokes it too.
	Family string `json:"fam,omitempty"`
	// Remember is the family's "stay signed in", so that a new family
	// started for the same login (after a password change) keeps it.
	Remember bool `json:"rem,omitempty"`
	// IssuedAtMS refines iat (whole seconds) so that RevokeUser cuts
	// between two tokens issued in the same second.
	IssuedAtMS int64 `json:"iat_ms,omitempty"`
	// Parent is, in a ticket (ticket.go), the access token it stands for.
	Parent *TicketParent `json:"par,omitempty"`
}

// NewTokens validates cfg and returns a Tokens.
func NewTokens(cfg TokensConfig) (*Tokens, error) {
	switch {
	case cfg.Keys == nil:
		return nil, errors.New("auth: TokensConfig.Keys is nil")
	case cfg.Store == nil:
		return nil, errors.New("auth: TokensConfig.Store is nil")
	case cfg.Audience == "":
		return nil, errors.New("auth: TokensConfig.Audience is empty")
	case cfg.Issuer == "":
		return nil, errors.New("auth: TokensConfig.Issuer is empty")
	case cfg.Lifetime < 0, cfg.Leeway < 0:
		return nil, errors.New("auth: negative TokensConfig duration")
	}
	t := &Tokens{
		keys:      cfg.Keys,
		store:     cfg.Store,
		aud:       cfg.Audience,
		iss:       cfg.Issuer,
		lifetime:  cfg.Lifetime,
		singleUse: slices.Clone(cfg.SingleUsePurposes),
		now:       cfg.Clock,
	}
	if t.lifetime == 0 {
		t.lifetime = DefaultLifetime
	}
	if t.now == nil {
		t.now = time.Now
	}
	recheck := cfg.RevocationRecheck
	if recheck == 0 {
		recheck = DefaultRevocationRecheck
	}
	t.revs = newRevocations(recheck)
	t.leeway = cfg.Leeway
	t.memo = newVerified()
	t.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithAudience(cfg.Audience),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithIssuedAt(),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(t.now),
		jwt.WithStrictDecoding(),
	)
	return t, nil
}

// Lifetime returns the lifetime of access tokens.
func (t *Tokens) Lifetime() time.Duration { return t.lifetime }

// Issue signs a new access token for user (a bare JID) who logged in with
// method (MethodPassword, MethodTOTP or MethodWebAuthn).
func (t *Tokens) Issue(ctx context.Context, user, method string) (string, Claims, error) {
	switch method {
	case MethodPassword, MethodTOTP, MethodWebAuthn:
	default:
		return "", Claims{}, fmt.Errorf("auth: issue: unknown method %q", method)
	}
	return t.issue(user, method, "", Claims{}, t.lifetime)
}

// IssuePurpose signs a short-lived token that only VerifyPurpose with the
// same purpose accepts (a Web Push reply action, an SSE ticket, an MFA
// ticket); Verify refuses it. ttl must be positive and at most Lifetime.
func (t *Tokens) IssuePurpose(ctx context.Context, user, purpose string, ttl time.Duration) (string, Claims, error) {
	if purpose == "" || isTicketPurpose(purpose) {
		return "", Claims{}, errors.New("auth: issue purpose: empty purpose, or a ticket's (IssueTicket)")
	}
	if ttl <= 0 || ttl > t.lifetime {
		return "", Claims{}, fmt.Errorf("auth: issue purpose: ttl %v out of range (0, %v]", ttl, t.lifetime)
	}
	return t.issue(user, "", purpose, Claims{}, ttl)
}

// issue signs a token; fam gives the refresh token family (Family and
// Remember), if any.
func (t *Tokens) issue(user, method, purpose string, fam Claims, ttl time.Duration) (string, Claims, error) {
	return t.issueWith(user, method, purpose, fam, ttl, nil)
}

// issueWith is issue for a token that may stand for another (par: a
// ticket's parent, or nil).
func (t *Tokens) issueWith(user, method, purpose string, fam Claims, ttl time.Duration, par *TicketParent) (string, Claims, error) {
	if user == "" {
		return "", Claims{}, errors.New("auth: issue: empty user")
	}
	now := t.now()
	kid, priv := t.keys.current()
	c := Claims{
		Subject:   user,
		ID:        base64.RawURLEncoding.EncodeToString(randomBytes(16)),
		Issuer:    t.iss,
		Audience:  []string{t.aud},
		IssuedAt:  now.Truncate(time.Millisecond).UTC(),
		NotBefore: now.Truncate(time.Second).UTC(),
		ExpiresAt: now.Add(ttl).Truncate(time.Second).UTC(),
		Method:    method,
		Purpose:   purpose,
		KeyID:     kid,
		Family:    fam.Family,
		Remember:  fam.Family != "" && fam.Remember,
		Parent:    par,
	}
	w := wireClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   c.Subject,
			ID:        c.ID,
			Issuer:    c.Issuer,
			Audience:  jwt.ClaimStrings(c.Audience),
			IssuedAt:  jwt.NewNumericDate(c.IssuedAt),
			NotBefore: jwt.NewNumericDate(c.NotBefore),
			ExpiresAt: jwt.NewNumericDate(c.ExpiresAt),
		},
		Purpose:    purpose,
		Family:     c.Family,
		Remember:   c.Remember,
		IssuedAtMS: c.IssuedAt.UnixMilli(),
		Parent:     par,
	}
	if method != "" {
		w.AMR = []string{method}
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, w)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(priv)
	if err != nil {
		return "", Claims{}, fmt.Errorf("auth: sign: %w", err)
	}
	return s, c, nil
}

// Verify checks an access token: EdDSA signature by a current or
// still-verifying retired key named by kid, exp (required), nbf, iat
// (required), aud, iss, that it is not a purpose token, and that neither it
// nor its user's earlier tokens were revoked. Every rejection matches
// ErrInvalidToken; an expired token also matches ErrExpired and a revoked
// one ErrRevoked. Any other error is a store failure.
func (t *Tokens) Verify(ctx context.Context, token string) (Claims, error) {
	c, err := t.parse(token)
	if err != nil {
		return Claims{}, err
	}
	if c.Purpose != "" || c.Method == "" {
		return Claims{}, fmt.Errorf("%w: not an access token", ErrInvalidToken)
	}
	if err := t.checkRevoked(ctx, c); err != nil {
		return Claims{}, err
	}
	return c, nil
}

// Recheck tells whether an access token that Verify accepted still holds
// now: nil, or an error matching ErrExpired or ErrRevoked (and
// ErrInvalidToken); any other error is a store failure. For a request
// that a logout or a revocation overtook while it ran.
func (t *Tokens) Recheck(ctx context.Context, c Claims) error {
	if !t.now().Before(c.ExpiresAt.Add(t.leeway)) { // as Verify allows
		return fmt.Errorf("%w (%w): expired while in use", ErrExpired, ErrInvalidToken)
	}
	return t.checkRevoked(ctx, c)
}

// VerifyPurpose checks a token issued by IssuePurpose for purpose, like
// Verify does. For a purpose listed in SingleUsePurposes the first
// successful call consumes the token: later calls return ErrRevoked.
func (t *Tokens) VerifyPurpose(ctx context.Context, token, purpose string) (Claims, error) {
	c, err := t.parse(token)
	if err != nil {
		return Claims{}, err
	}
	if purpose == "" || c.Purpose != purpose || isTicketPurpose(purpose) {
		return Claims{}, fmt.Errorf("%w: wrong purpose", ErrInvalidToken)
	}
	if err := t.checkRevoked(ctx, c); err != nil {
		return Claims{}, err
	}
	if slices.Contains(t.singleUse, purpose) {
		first, err := t.store.RevokeToken(ctx, c.ID, c.ExpiresAt)
		if err != nil {
			t.revs.forget(c.ID, "")
			return Claims{}, fmt.Errorf("auth: consume token: %w", err)
		}
		t.revs.revoked(c.ID, c.ExpiresAt, t.now())
		if !first {
			return Claims{}, fmt.Errorf("%w (%w): already used", ErrRevoked, ErrInvalidToken)
		}
	}
	return c, nil
}

// Revoke revokes the token with these claims (logout): its id is recorded
// until it expires.
func (t *Tokens) Revoke(ctx context.Context, c Claims) error {
	if c.ID == "" {
		return fmt.Errorf("%w: no token id", ErrInvalidToken)
	}
	if _, err := t.store.RevokeToken(ctx, c.ID, c.ExpiresAt); err != nil {
		// The write may or may not have happened: ask the store next time.
		t.revs.forget(c.ID, "")
		return fmt.Errorf("auth: revoke: %w", err)
	}
	t.revs.revoked(c.ID, c.ExpiresAt, t.now())
	return nil
}

// Consume revokes the token with these claims, as Revoke does, and fails
// with an error matching ErrRevoked when it was revoked already, here or
// by another gateway sharing the store: of any number of calls for one
// token, on any number of gateways, one succeeds (a single-use ticket).
func (t *Tokens) Consume(ctx context.Context, c Claims) error {
	if c.ID == "" {
		return fmt.Errorf("%w: no token id", ErrInvalidToken)
	}
	first, err := t.store.RevokeToken(ctx, c.ID, c.ExpiresAt)
	if err != nil {
		t.revs.forget(c.ID, "")
		return fmt.Errorf("auth: consume: %w", err)
	}
	t.revs.revoked(c.ID, c.ExpiresAt, t.now())
	if !first {
		return fmt.Errorf("%w (%w): already used", ErrRevoked, ErrInvalidToken)
	}
	return nil
}

// RevokeUser revokes every token of user issued before the given time (for
// example after a password change); tokens issued later stay valid.
func (t *Tokens) RevokeUser(ctx context.Context, user string, before time.Time) error {
	err := t.store.RevokeUserBefore(ctx, user, before)
	// Only the store knows the resulting cutoff (a later one wins), and
	// whether a failed write happened: ask it next time.
	t.revs.forget("", user)
	if err != nil {
		return fmt.Errorf("auth: revoke user: %w", err)
	}
	return nil
}

// RotateKey makes a new signing key current; the previous one keeps
// verifying for Lifetime, when every token it signed has expired.
func (t *Tokens) RotateKey() error {
	return t.keys.Rotate(t.now(), t.lifetime)
}

func (t *Tokens) parse(token string) (Claims, error) {
	if len(token) > maxTokenLen {
		return Claims{}, fmt.Errorf("%w: too long", ErrInvalidToken)
	}
	now := t.now()
	if c, ok, err := t.memo.lookup(t, token, now); ok {
		return c, err
	}
	var w wireClaims
	tok, err := t.parser.ParseWithClaims(token, &w, t.keyfunc)
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return Claims{}, fmt.Errorf("%w (%w): %v", ErrExpired, ErrInvalidToken, err)
		}
		return Claims{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	// The parser checks iat only when present and requires exp; the rest of
	// what we rely on is required here.
	if w.Subject == "" || w.ID == "" || w.IssuedAt == nil || w.NotBefore == nil || w.ExpiresAt == nil {
		return Claims{}, fmt.Errorf("%w: missing sub, jti, iat or nbf", ErrInvalidToken)
	}
	c := Claims{
		Subject:   w.Subject,
		ID:        w.ID,
		Issuer:    w.Issuer,
		Audience:  []string(w.Audience),
		IssuedAt:  w.IssuedAt.UTC(),
		NotBefore: w.NotBefore.UTC(),
		ExpiresAt: w.ExpiresAt.UTC(),
		Purpose:   w.Purpose,
		Family:    w.Family,
		Remember:  w.Remember,
		Parent:    w.Parent,
	}
	if kid, ok := tok.Header["kid"].(string); ok {
		c.KeyID = kid
	}
	if len(w.AMR) == 1 {
		c.Method = w.AMR[0]
	}
	// Use the finer issue time only when it agrees with the signed iat.
	if w.IssuedAtMS != 0 && w.IssuedAtMS/1000 == w.IssuedAt.Unix() {
		c.IssuedAt = time.UnixMilli(w.IssuedAtMS).UTC()
	}
	t.memo.add(token, c, now)
	return c, nil
}

// keyfunc picks the verification key by kid. It returns a typed Ed25519
// key, never bytes, so an HMAC token cannot use a public key as its secret
// (the parser also pins the method).
func (t *Tokens) keyfunc(tok *jwt.Token) (any, error) {
	if _, ok := tok.Method.(*jwt.SigningMethodEd25519); !ok {
		return nil, errors.New("unexpected signing method")
	}
	kid, _ := tok.Header["kid"].(string)
	pub, ok := t.keys.verifier(kid, t.now())
	if !ok {
		return nil, errors.New("unknown or retired key id")
	}
	return pub, nil
}

// checkRevoked asks the revocation view, which asks the store when it
// does not know. A token of a refresh token family is also revoked with
// its family.
func (t *Tokens) checkRevoked(ctx context.Context, c Claims) error {
	revoked, why, err := t.revs.check(ctx, t.store, c, t.now())
	if err != nil {
		return err
	}
	if !revoked && c.Family != "" {
		fc := c
		fc.ID = familyKey(c.Family)
		if revoked, _, err = t.revs.check(ctx, t.store, fc, t.now()); err != nil {
			return err
		}
		why = "its refresh token family was revoked"
	}
	if revoked {
		return fmt.Errorf("%w (%w): %s", ErrRevoked, ErrInvalidToken, why)
	}
	return nil
}

// familyKey is the id under which a revoked family is recorded among the
// revoked token ids; token ids are base64url and never contain a dot.
func familyKey(family string) string { return "fam." + family }

// revokeFamily records that every access token of family is revoked, and
// keeps the record until at least until. A refresh racing the revocation
// may still issue a token, or store a refresh token, in the family: until
// must outlive both.
func (t *Tokens) revokeFamily(ctx context.Context, family string, until time.Time) error {
	key := familyKey(family)
	exp := t.now().Add(t.lifetime + t.leeway)
	if until.After(exp) {
		exp = until
	}
	if _, err := t.store.RevokeToken(ctx, key, exp); err != nil {
		t.revs.forget(key, "")
		return fmt.Errorf("auth: revoke family: %w", err)
	}
	t.revs.revoked(key, exp, t.now())
	return nil
}

// ParseAuthorization extracts a token from an Authorization header value:
// "Bearer <jwt>" (scheme case-insensitive) or a bare "<jwt>", as shipped
// SparkWeb clients send it. It only checks the shape (three non-empty
// base64url segments); Verify does the rest.
func ParseAuthorization(header string) (token string, ok bool) {
	h := strings.TrimSpace(header)
	if scheme, rest, found := strings.Cut(h, " "); found {
		if !strings.EqualFold(scheme, "Bearer") {
			return "", false
		}
		h = strings.TrimLeft(rest, " ")
	}
	if len(h) > maxTokenLen || strings.Count(h, ".") != 2 {
		return "", false
	}
	for seg := range strings.SplitSeq(h, ".") {
		if seg == "" {
			return "", false
		}
		for _, r := range seg {
			if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_') {
				return "", false
			}
		}
	}
	return h, true
}
