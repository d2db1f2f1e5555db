package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// Defaults for PasskeysConfig.
const (
	DefaultCeremonyTTL   = 5 * time.Minute
	DefaultMaxCeremonies = 10000
	// DefaultMaxCeremoniesPerUser lets a user sign in on a few devices at
	// once and retry, while someone spamming starts for one user name (or
	// a signed-in user spamming registrations) replaces that user's own
	// ceremonies rather than filling the table everyone shares.
	DefaultMaxCeremoniesPerUser = 8
)

const (
	maxResponseLen = 64 << 10 // bytes of authenticator response JSON
	maxNameLen     = 64       // runes in a passkey label
)

// PasskeysConfig configures NewPasskeys.
type PasskeysConfig struct {
	// RPID is the relying party id: the site's host name, never an IP
	// address ("localhost" in tests). Required.
	RPID string
	// RPDisplayName is shown by authenticators. Required.
	RPDisplayName string
	// RPOrigins are the exact origins (scheme://host[:port]) the browser
	// may report, as seen by the browser (behind a reverse proxy: the
	// public origin). Required.
	RPOrigins []string

	Store PasskeyStore // required

	// CeremonyTTL bounds the time between Begin and Finish; zero means
	// DefaultCeremonyTTL.
	CeremonyTTL time.Duration
	// MaxCeremonies bounds the pending ceremonies; zero means
	// DefaultMaxCeremonies.
	MaxCeremonies int
	// MaxCeremoniesPerUser bounds the pending ceremonies of one user
	// (named logins and registrations; a discoverable login keeps none):
	// a new one past it replaces the user's oldest. Zero means
	// DefaultMaxCeremoniesPerUser.
	MaxCeremoniesPerUser int
	// Ceremonies, when set, keeps the pending ceremonies instead of this
	// process's memory: gateway nodes that share it (the store on
	// PostgreSQL) finish on one node a ceremony begun on another.
	Ceremonies CeremonyStore
	// Keys, when set, keys the challenges of discoverable logins, which
	// keep no ceremony (discoverable.go): nodes that share the key
	// directory finish each other's. Nil means a key of this Passkeys'
	// own, which one process alone can check.
	Keys *Keys

	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
	// Logger receives verification failure details at debug level; nil
	// means slog.Default().
	Logger *slog.Logger
}

// Passkeys runs WebAuthn registration and login ceremonies (passkeys). A
// user may hold several credentials. Ceremony state stays on the server
// (in memory, or in PasskeysConfig.Ceremonies) under a random ceremony id,
// expires after CeremonyTTL and is consumed by the first Finish call,
// successful or not. A login whose sign count went
// backwards is refused. Passkeys is safe for concurrent use.
type Passkeys struct {
	wa    *webauthn.WebAuthn
	store PasskeyStore
	kept  CeremonyStore // nil: ceremonies below
	seal  challengeSealer
	ttl   time.Duration
	max   int
	per   int // pending ceremonies per user
	now   func() time.Time
	log   *slog.Logger

	mu         sync.Mutex
	ceremonies map[string]ceremony
	spent      map[string]time.Time // spent discoverable challenges, without kept
}

type ceremonyKind int

const (
	registration ceremonyKind = iota + 1
	login
)

type ceremony struct {
	Kind    ceremonyKind         `json:"kind"`
	User    string               `json:"user,omitempty"` // empty for a discoverable login
	Session webauthn.SessionData `json:"session"`
	expires time.Time            // kept beside the state in a CeremonyStore
}

// PasskeyInfo describes a stored passkey, without key material.
type PasskeyInfo struct {
	ID         string    `json:"id"` // credential id, base64url
	Name       string    `json:"name"`
	AAGUID     string    `json:"aaguid,omitempty"` // authenticator model, hex
	CreatedAt  time.Time `json:"createdAt"`
	LastUsedAt time.Time `json:"lastUsedAt,omitzero"`
}

// NewPasskeys validates cfg and returns a Passkeys.
func NewPasskeys(cfg PasskeysConfig) (*Passkeys, error) {
	if cfg.Store == nil {
		return nil, errors.New("auth: PasskeysConfig.Store is nil")
	}
	if cfg.CeremonyTTL < 0 || cfg.MaxCeremonies < 0 || cfg.MaxCeremoniesPerUser < 0 {
		return nil, errors.New("auth: negative PasskeysConfig limit")
	}
	p := &Passkeys{
		store:      cfg.Store,
		kept:       cfg.Ceremonies,
		ttl:        cfg.CeremonyTTL,
		max:        cfg.MaxCeremonies,
		per:        cfg.MaxCeremoniesPerUser,
		now:        cfg.Clock,
		log:        cfg.Logger,
		ceremonies: make(map[string]ceremony),
		spent:      make(map[string]time.Time),
		seal:       challengeSealer{key: randomBytes(32)},
	}
	if cfg.Keys != nil {
		p.seal.key = cfg.Keys.challenge
	}
	if p.ttl == 0 {
		p.ttl = DefaultCeremonyTTL
	}
	if p.max == 0 {
		p.max = DefaultMaxCeremonies
	}
	if p.per == 0 {
		p.per = DefaultMaxCeremoniesPerUser
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	timeout := webauthn.TimeoutConfig{Enforce: true, Timeout: p.ttl, TimeoutUVD: p.ttl}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          cfg.RPID,
		RPDisplayName: cfg.RPDisplayName,
		RPOrigins:     cfg.RPOrigins,
		Timeouts:      webauthn.TimeoutsConfig{Login: timeout, Registration: timeout},
	})
	if err != nil {
		return nil, fmt.Errorf("auth: passkeys config: %w", err)
	}
	p.wa = wa
	return p, nil
}

// BeginRegistration starts adding a passkey for user, who must already be
// authenticated (by password or token: the caller's job). It returns the
// ceremony id to pass to FinishRegistration and the creation options as
// JSON ({"publicKey": {...}}) for navigator.credentials.create. Passkeys
// the user already holds are excluded, and a discoverable (resident)
// credential is required so usernameless login works.
func (p *Passkeys) BeginRegistration(ctx context.Context, user string) (ceremonyID string, options json.RawMessage, err error) {
	if user == "" {
		return "", nil, errors.New("auth: passkey registration: empty user")
	}
	u, err := p.loadUser(ctx, user, true)
	if err != nil {
		return "", nil, err
	}
	exclude := make([]protocol.CredentialDescriptor, len(u.creds))
	for i := range u.creds {
		exclude[i] = u.creds[i].Descriptor()
	}
	creation, session, err := p.wa.BeginRegistration(u,
		webauthn.WithExclusions(exclude),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired),
	)
	if err != nil {
		return "", nil, fmt.Errorf("auth: passkey registration: %w", err)
	}
	return p.begin(ctx, registration, user, *session, creation)
}

// FinishRegistration completes the ceremony started by BeginRegistration
// for the same user: it verifies the authenticator's response (the JSON
// the browser's PublicKeyCredential serialises to) and stores the new
// credential under name (empty means "Passkey"). It returns ErrCeremony or
// ErrPasskeyInvalid (wrapped) on failure.
func (p *Passkeys) FinishRegistration(ctx context.Context, user, ceremonyID string, response []byte, name string) (PasskeyInfo, error) {
	c, err := p.take(ctx, ceremonyID, registration, user)
	if err != nil {
		return PasskeyInfo{}, err
	}
	if len(response) > maxResponseLen {
		return PasskeyInfo{}, fmt.Errorf("%w: response too large", ErrPasskeyInvalid)
	}
	name, err = passkeyName(name)
	if err != nil {
		return PasskeyInfo{}, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return PasskeyInfo{}, p.invalid(ctx, "parse registration", err)
	}
	u, err := p.loadUser(ctx, user, true)
	if err != nil {
		return PasskeyInfo{}, err
	}
	cred, err := p.wa.CreateCredential(u, c.Session, parsed)
	if err != nil {
		return PasskeyInfo{}, p.invalid(ctx, "verify registration", err)
	}
	data, err := json.Marshal(cred)
	if err != nil {
		return PasskeyInfo{}, fmt.Errorf("auth: encode passkey: %w", err)
	}
	pc := PasskeyCredential{User: user, ID: cred.ID, Name: name, Data: data, CreatedAt: p.now().UTC()}
	if err := p.store.AddPasskeyCredential(ctx, pc); err != nil {
		if errors.Is(err, ErrExists) {
			return PasskeyInfo{}, fmt.Errorf("%w: credential already registered", ErrPasskeyInvalid)
		}
		return PasskeyInfo{}, fmt.Errorf("auth: store passkey: %w", err)
	}
	return info(pc, cred), nil
}

// BeginLogin starts a login. With a user, the options list that user's
// passkeys (ErrNoPasskeys if there are none); with an empty user it starts
// a discoverable (usernameless) login where the authenticator names the
// account. It returns the ceremony id and the request options as JSON
// ({"publicKey": {...}}) for navigator.credentials.get. A discoverable
// start keeps nothing (discoverable.go): it cannot fail for a full
// ceremony table, and its id is for FinishLogin alone.
func (p *Passkeys) BeginLogin(ctx context.Context, user string) (ceremonyID string, options json.RawMessage, err error) {
	if user == "" {
		// Nothing kept: the challenge says what the finish must know.
		assertion, session, err := p.wa.BeginDiscoverableLogin(webauthn.WithChallenge(p.seal.seal(p.now().Add(p.ttl))))
		if err != nil {
			return "", nil, fmt.Errorf("auth: passkey login: %w", err)
		}
		opts, err := json.Marshal(assertion)
		if err != nil {
			return "", nil, fmt.Errorf("auth: encode webauthn options: %w", err)
		}
		return CeremonyOf(session.Challenge), opts, nil
	}
	u, err := p.loadUser(ctx, user, false)
	if err != nil {
		return "", nil, err
	}
	if len(u.creds) == 0 {
		return "", nil, ErrNoPasskeys
	}
	assertion, session, err := p.wa.BeginLogin(u)
	if err != nil {
		return "", nil, fmt.Errorf("auth: passkey login: %w", err)
	}
	return p.begin(ctx, login, user, *session, assertion)
}

// FinishLogin completes a login started by BeginLogin and returns the
// authenticated user (a bare JID). It verifies the assertion against the
// stored credential, refuses a sign count that did not increase (possible
// clone), and stores the credential's new sign count and flags. It returns
// ErrCeremony or ErrPasskeyInvalid (wrapped) on failure.
//
// A discoverable login's challenge (discoverable.go) needs no ceremony:
// ceremonyID must be its CeremonyOf or empty, and the challenge is
// spent only once the passkey verifies.
func (p *Passkeys) FinishLogin(ctx context.Context, ceremonyID string, response []byte) (string, error) {
	var (
		parsed *protocol.ParsedCredentialAssertionData
		perr   error = fmt.Errorf("response of %d bytes", len(response))
	)
	if len(response) <= maxResponseLen {
		parsed, perr = protocol.ParseCredentialRequestResponseBytes(response)
	}
	if perr == nil {
		ch := parsed.Response.CollectedClientData.Challenge
		if raw, expires, ok := p.seal.open(ch); ok {
			return p.finishDiscoverable(ctx, ceremonyID, ch, raw, expires, parsed)
		}
	}
	c, err := p.take(ctx, ceremonyID, login, "")
	if err != nil {
		return "", err
	}
	if perr != nil {
		return "", p.invalid(ctx, "parse assertion", perr)
	}
	u, cred, err := p.verifyAssertion(ctx, c.User, c.Session, parsed)
	if err != nil {
		return "", err
	}
	return p.signedIn(ctx, u, cred)
}

// finishDiscoverable finishes a discoverable login whose challenge ch
// (raw, expiring at expires) the sealer made.
func (p *Passkeys) finishDiscoverable(ctx context.Context, ceremonyID, ch string, raw []byte, expires time.Time, parsed *protocol.ParsedCredentialAssertionData) (string, error) {
	if ceremonyID != "" && ceremonyID != CeremonyOf(ch) || !p.now().Before(expires) {
		return "", ErrCeremony
	}
	// The begin's session again: it follows from the configuration and
	// the challenge. Its expiry is checked above, on this package's clock.
	_, session, err := p.wa.BeginDiscoverableLogin(webauthn.WithChallenge(raw))
	if err != nil {
		return "", fmt.Errorf("auth: passkey login: %w", err)
	}
	session.Expires = time.Time{}
	u, cred, err := p.verifyAssertion(ctx, "", *session, parsed)
	if err != nil {
		return "", err
	}
	if err := p.spend(ctx, ch, expires); err != nil {
		return "", err
	}
	return p.signedIn(ctx, u, cred)
}

// verifyAssertion checks an assertion against the session of its
// ceremony: against user's passkeys, or with no user against the passkey
// its user handle names.
func (p *Passkeys) verifyAssertion(ctx context.Context, user string, session webauthn.SessionData, parsed *protocol.ParsedCredentialAssertionData) (*waUser, *webauthn.Credential, error) {
	var (
		u    *waUser
		cred *webauthn.Credential
		err  error
	)
	if user != "" {
		if u, err = p.loadUser(ctx, user, false); err != nil {
			return nil, nil, err
		}
		cred, err = p.wa.ValidateLogin(u, session, parsed)
	} else {
		handler := func(_, handle []byte) (webauthn.User, error) {
			name, err := p.store.UserByWebAuthnHandle(ctx, handle)
			if err != nil {
				return nil, err
			}
			if u, err = p.loadUser(ctx, name, false); err != nil {
				return nil, err
			}
			return u, nil
		}
		_, cred, err = p.wa.ValidatePasskeyLogin(handler, session, parsed)
	}
	if err != nil {
		return nil, nil, p.invalid(ctx, "verify assertion", err)
	}
	return u, cred, nil
}

// signedIn ends a verified login: it refuses a sign count that went
// backwards and stores the credential's new count and flags.
func (p *Passkeys) signedIn(ctx context.Context, u *waUser, cred *webauthn.Credential) (string, error) {
	if cred.Authenticator.CloneWarning {
		p.log.WarnContext(ctx, "passkey sign count went backwards; refusing login", "user", u.name)
		return "", fmt.Errorf("%w: sign count did not increase", ErrPasskeyInvalid)
	}
	data, err := json.Marshal(cred)
	if err != nil {
		return "", fmt.Errorf("auth: encode passkey: %w", err)
	}
	if err := p.store.UpdatePasskeyCredential(ctx, u.name, cred.ID, data, p.now().UTC()); err != nil {
		return "", fmt.Errorf("auth: update passkey: %w", err)
	}
	return u.name, nil
}

// List returns the user's passkeys, oldest first.
func (p *Passkeys) List(ctx context.Context, user string) ([]PasskeyInfo, error) {
	stored, err := p.store.PasskeyCredentials(ctx, user)
	if err != nil {
		return nil, fmt.Errorf("auth: list passkeys: %w", err)
	}
	out := make([]PasskeyInfo, 0, len(stored))
	for _, pc := range stored {
		var cred webauthn.Credential
		if err := json.Unmarshal(pc.Data, &cred); err != nil {
			return nil, fmt.Errorf("auth: decode passkey: %w", err)
		}
		out = append(out, info(pc, &cred))
	}
	return out, nil
}

// Remove deletes one of the user's passkeys by its id (PasskeyInfo.ID),
// or returns an error matching ErrNotFound.
func (p *Passkeys) Remove(ctx context.Context, user, id string) error {
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil {
		return fmt.Errorf("auth: remove passkey: %w", ErrNotFound)
	}
	if err := p.store.DeletePasskeyCredential(ctx, user, raw); err != nil {
		return fmt.Errorf("auth: remove passkey: %w", err)
	}
	return nil
}

// CeremonyOf returns the id of the ceremony whose challenge (base64url, as
// the options and the authenticator's clientDataJSON carry it) is
// challenge. The id follows from the challenge, so any node finds the
// ceremony of a finish that names only its credential (SparkWeb's
// clients do not send the id); it tells no more than the challenge, which
// the client holds anyway, and is as unguessable (the challenge is 32
// random bytes).
func CeremonyOf(challenge string) string {
	sum := sha256.Sum256([]byte("sparkgate webauthn ceremony\x00" + challenge))
	return base64.RawURLEncoding.EncodeToString(sum[:18])
}

// begin records a ceremony and encodes its options.
func (p *Passkeys) begin(ctx context.Context, kind ceremonyKind, user string, session webauthn.SessionData, options any) (string, json.RawMessage, error) {
	opts, err := json.Marshal(options)
	if err != nil {
		return "", nil, fmt.Errorf("auth: encode webauthn options: %w", err)
	}
	id := CeremonyOf(session.Challenge)
	now := p.now()
	c := ceremony{Kind: kind, User: user, Session: session, expires: now.Add(p.ttl)}
	if p.kept != nil {
		state, err := json.Marshal(c)
		if err != nil {
			return "", nil, fmt.Errorf("auth: encode webauthn ceremony: %w", err)
		}
		if err := p.kept.PutCeremony(ctx, id, user, state, c.expires, now, p.max, p.per); err != nil {
			if errors.Is(err, ErrTooManyCeremonies) {
				return "", nil, ErrTooManyCeremonies
			}
			return "", nil, fmt.Errorf("auth: store webauthn ceremony: %w", err)
		}
		return id, opts, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.boundUserLocked(user)
	if len(p.ceremonies) >= p.max {
		p.dropExpiredLocked(now)
		if len(p.ceremonies) >= p.max {
			return "", nil, ErrTooManyCeremonies
		}
	}
	p.ceremonies[id] = c
	return id, opts, nil
}

// boundUserLocked drops user's oldest ceremonies until one more fits
// within the per-user bound; p.mu is held.
func (p *Passkeys) boundUserLocked(user string) {
	var ids []string
	for id, c := range p.ceremonies {
		if c.User == user {
			ids = append(ids, id)
		}
	}
	if len(ids) < p.per {
		return
	}
	slices.SortFunc(ids, func(a, b string) int { return p.ceremonies[a].expires.Compare(p.ceremonies[b].expires) })
	for _, id := range ids[:len(ids)-p.per+1] {
		delete(p.ceremonies, id)
	}
}

// dropExpiredLocked forgets the ceremonies past their expiry; p.mu is
// held.
func (p *Passkeys) dropExpiredLocked(now time.Time) {
	for k, c := range p.ceremonies {
		if !now.Before(c.expires) {
			delete(p.ceremonies, k)
		}
	}
}

// take removes and returns a ceremony. It is consumed even when it turns
// out to be expired or of the wrong kind or user, so no id is tried twice.
func (p *Passkeys) take(ctx context.Context, id string, kind ceremonyKind, user string) (ceremony, error) {
	if strings.Contains(id, ":") {
		// A spent challenge's record (discoverable.go), never a ceremony.
		return ceremony{}, ErrCeremony
	}
	c, ok, err := p.takeKept(ctx, id)
	if err != nil {
		return ceremony{}, err
	}
	switch {
	case !ok, c.Kind != kind, !p.now().Before(c.expires):
		return ceremony{}, ErrCeremony
	case kind == registration && c.User != user:
		return ceremony{}, ErrCeremony
	}
	return c, nil
}

// takeKept removes a ceremony from where it is kept and returns it.
func (p *Passkeys) takeKept(ctx context.Context, id string) (c ceremony, ok bool, err error) {
	if p.kept == nil {
		p.mu.Lock()
		defer p.mu.Unlock()
		c, ok = p.ceremonies[id]
		delete(p.ceremonies, id)
		return c, ok, nil
	}
	state, expires, ok, err := p.kept.TakeCeremony(ctx, id)
	if err != nil || !ok {
		if err != nil {
			err = fmt.Errorf("auth: take webauthn ceremony: %w", err)
		}
		return ceremony{}, false, err
	}
	if err := json.Unmarshal(state, &c); err != nil {
		return ceremony{}, false, fmt.Errorf("auth: decode webauthn ceremony: %w", err)
	}
	c.expires = expires
	return c, true, nil
}

// pending returns the number of ceremonies kept (for tests).
func (p *Passkeys) pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.ceremonies)
}

// invalid logs the library's detail (DevInfo is for the server log only,
// never for clients) and returns ErrPasskeyInvalid.
func (p *Passkeys) invalid(ctx context.Context, step string, err error) error {
	if p.log.Enabled(ctx, slog.LevelDebug) {
		var pe *protocol.Error
		if errors.As(err, &pe) {
			p.log.DebugContext(ctx, "passkey "+step+" failed", "err", pe.Details, "info", pe.DevInfo)
		} else {
			p.log.DebugContext(ctx, "passkey "+step+" failed", "err", err)
		}
	}
	return fmt.Errorf("%w: %s", ErrPasskeyInvalid, step)
}

// loadUser returns the user with their credentials. With create, a user
// handle is made if the user has none; without it a user with no
// credentials gets no handle.
func (p *Passkeys) loadUser(ctx context.Context, user string, create bool) (*waUser, error) {
	stored, err := p.store.PasskeyCredentials(ctx, user)
	if err != nil {
		return nil, fmt.Errorf("auth: load passkeys: %w", err)
	}
	u := &waUser{name: user}
	for _, pc := range stored {
		var cred webauthn.Credential
		if err := json.Unmarshal(pc.Data, &cred); err != nil {
			return nil, fmt.Errorf("auth: decode passkey: %w", err)
		}
		u.creds = append(u.creds, cred)
	}
	if len(stored) == 0 && !create {
		return u, nil
	}
	if u.handle, err = p.store.WebAuthnHandle(ctx, user, randomBytes(32)); err != nil {
		return nil, fmt.Errorf("auth: webauthn handle: %w", err)
	}
	return u, nil
}

func passkeyName(name string) (string, error) {
	if name == "" {
		return "Passkey", nil
	}
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxNameLen {
		return "", fmt.Errorf("auth: passkey name must be valid UTF-8 of at most %d characters", maxNameLen)
	}
	return name, nil
}

func info(pc PasskeyCredential, cred *webauthn.Credential) PasskeyInfo {
	return PasskeyInfo{
		ID:         base64.RawURLEncoding.EncodeToString(pc.ID),
		Name:       pc.Name,
		AAGUID:     fmt.Sprintf("%x", cred.Authenticator.AAGUID),
		CreatedAt:  pc.CreatedAt,
		LastUsedAt: pc.LastUsedAt,
	}
}

// waUser adapts a user to webauthn.User.
type waUser struct {
	name   string
	handle []byte
	creds  []webauthn.Credential
}

func (u *waUser) WebAuthnID() []byte                         { return u.handle }
func (u *waUser) WebAuthnName() string                       { return u.name }
func (u *waUser) WebAuthnDisplayName() string                { return u.name }
func (u *waUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }
