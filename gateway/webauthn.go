package gateway

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// maxCredential bounds a PublicKeyCredential body (the spec says the same).
const maxCredential = 64 << 10

func errPasskeysOff() error {
	return errorf(http.StatusNotImplemented, "passkeys are not enabled on this gateway")
}

// registrationOptions and assertionOptions are the answers of the start
// operations: the options as go-webauthn encodes them ({"publicKey": ...})
// under the SparkWeb reference's key, and the ceremony id.
type registrationOptions struct {
	Credentials json.RawMessage `json:"credentials"`
	Ceremony    string          `json:"ceremony"`
}

type assertionOptions struct {
	Assertion json.RawMessage `json:"assertion"`
	Ceremony  string          `json:"ceremony"`
}

// passkeyRefused turns a failed login ceremony into the answer: 401 for
// anything the client got wrong (logged by loginFailed, not counted
// towards the lockout), 503 when the ceremony table is full.
func (s *Server) passkeyRefused(c echo.Context, jid string, err error) error {
	switch {
	case errors.Is(err, auth.ErrCeremony), errors.Is(err, auth.ErrPasskeyInvalid), errors.Is(err, auth.ErrNoPasskeys):
		s.loginFailed(c, jid, auth.MethodWebAuthn)
		return wrap(http.StatusUnauthorized, "the passkey could not be verified", err)
	case errors.Is(err, auth.ErrTooManyCeremonies):
		return wrap(http.StatusServiceUnavailable, "too many passkey ceremonies are pending; retry later", err)
	}
	return err
}

// passkeyLogin opens the passkey login operations on a named user: 501
// while passkeys are off, then guardLogin of an operation that checks no
// secret (only the client address's attempts, never the lockout). It
// returns the passkeys, the user's local part and bare JID.
func (s *Server) passkeyLogin(c echo.Context, username Username) (p *auth.Passkeys, local, jid string, err error) {
	if p = s.authx.passkeys; p == nil {
		return nil, "", "", errPasskeysOff()
	}
	checksNoSecret(c)
	local, jid, err = s.guardLogin(c, username)
	if err != nil {
		return nil, "", "", err
	}
	return p, local, jid, nil
}

// WebauthnRegisterStart serves POST /webauthn/register/start/{username}:
// the signed-in user starts adding a passkey. It takes the user's token
// (passkeyAdder) and the password again: a stolen token alone must not
// add a credential that outlives it.
func (s *Server) WebauthnRegisterStart(c echo.Context, username Username) error {
	p, local, jid, err := s.passkeyAdder(c, username)
	if err != nil {
		return err
	}
	if err := s.recheckPassword(c, local); err != nil {
		return err
	}
	id, opts, err := p.BeginRegistration(c.Request().Context(), jid)
	if err != nil {
		return s.passkeyNotAdded(err)
	}
	s.authx.challenges.put(optionsChallenge(opts), id)
	return c.JSON(http.StatusOK, registrationOptions{Credentials: opts, Ceremony: id})
}

// WebauthnRegisterFinish serves POST /webauthn/register/finish/{username}:
// it stores the new passkey. Adding a passkey is not a login: the answer
// is the request's own token.
func (s *Server) WebauthnRegisterFinish(c echo.Context, username Username, params WebauthnRegisterFinishParams) error {
	checksNoSecret(c)
	p, _, jid, err := s.passkeyAdder(c, username)
	if err != nil {
		return err
	}
	name := ""
	if params.Name != nil {
		name = *params.Name
		if !utf8.ValidString(name) {
			return errorf(http.StatusBadRequest, "the passkey name is not valid UTF-8")
		}
	}
	body, err := readCredential(c.Request())
	if err != nil {
		return err
	}
	id := s.ceremonyOf(params.Ceremony, body)
	info, err := p.FinishRegistration(c.Request().Context(), jid, id, body, name)
	if err != nil {
		return s.passkeyNotAdded(err)
	}
	s.log.Info("passkey registered", "user", jid, "passkey", info.ID)
	tok, _ := auth.ParseAuthorization(c.Request().Header.Get("Authorization"))
	return c.JSON(http.StatusOK, TokenEntity{Token: tok})
}

// passkeyAdder opens the operations that add a passkey: 501 while
// passkeys are off, then guardLogin, then the token's right to add one
// (mayChangeFactors). It returns the passkeys, the user's local part and
// bare JID.
func (s *Server) passkeyAdder(c echo.Context, username Username) (p *auth.Passkeys, local, jid string, err error) {
	if p = s.authx.passkeys; p == nil {
		return nil, "", "", errPasskeysOff()
	}
	local, jid, err = s.guardLogin(c, username)
	if err != nil {
		return nil, "", "", err
	}
	if err := s.mayChangeFactors(c, jid, "add a passkey"); err != nil {
		return nil, "", "", err
	}
	return p, local, jid, nil
}

// passkeyNotAdded turns a failed registration ceremony into the answer:
// 400 for a credential that does not verify or a ceremony the gateway
// does not know (the request's token is fine, and this is no guess at a
// secret, so no lockout count), 503 when the ceremony table is full.
func (s *Server) passkeyNotAdded(err error) error {
	switch {
	case errors.Is(err, auth.ErrCeremony), errors.Is(err, auth.ErrPasskeyInvalid):
		return wrap(http.StatusBadRequest, "the passkey could not be verified", err)
	case errors.Is(err, auth.ErrTooManyCeremonies):
		return wrap(http.StatusServiceUnavailable, "too many passkey ceremonies are pending; retry later", err)
	}
	return err
}

// WebauthnAuthenticateStart serves POST /webauthn/authenticate/start/{username}.
// A token in Authorization is ignored (no "refresh" as in the reference).
func (s *Server) WebauthnAuthenticateStart(c echo.Context, username Username) error {
	p, _, jid, err := s.passkeyLogin(c, username)
	if err != nil {
		return err
	}
	id, opts, err := p.BeginLogin(c.Request().Context(), jid)
	if errors.Is(err, auth.ErrNoPasskeys) {
		// Like a failed login, but not a guess: no lockout count.
		return errorf(http.StatusUnauthorized, "no passkey login for this user")
	}
	if err != nil {
		return s.passkeyRefused(c, jid, err)
	}
	s.authx.challenges.put(optionsChallenge(opts), id)
	return c.JSON(http.StatusOK, assertionOptions{Assertion: opts, Ceremony: id})
}

// WebauthnAuthenticateFinish serves POST /webauthn/authenticate/finish/{username}.
func (s *Server) WebauthnAuthenticateFinish(c echo.Context, username Username, params WebauthnAuthenticateFinishParams) error {
	p, local, jid, err := s.passkeyLogin(c, username)
	if err != nil {
		return err
	}
	user, err := s.finishPasskeyLogin(c, p, params.Ceremony, jid)
	if err != nil {
		return err
	}
	if user != jid {
		// The ceremony was started for someone else.
		return s.passkeyRefused(c, jid, auth.ErrCeremony)
	}
	return s.logIn(c, local, xmppconn.Credentials{Verified: true}, auth.MethodWebAuthn, isSet(params.Remember))
}

// finishPasskeyLogin reads the assertion in the request's body and
// finishes its ceremony (the ceremony parameter, or found by the
// challenge), answering the user it signs in; a refusal is the answer to
// send (passkeyRefused, as jid's, "" when no user was named).
func (s *Server) finishPasskeyLogin(c echo.Context, p *auth.Passkeys, ceremony *Ceremony, jid string) (string, error) {
	body, err := readCredential(c.Request())
	if err != nil {
		return "", err
	}
	user, err := p.FinishLogin(c.Request().Context(), s.ceremonyOf(ceremony, body), body)
	if err != nil {
		return "", s.passkeyRefused(c, jid, err)
	}
	return user, nil
}

// ListWebAuthnCredentials serves GET /webauthn/credentials.
func (s *Server) ListWebAuthnCredentials(c echo.Context) error {
	p := s.authx.passkeys
	if p == nil {
		return errPasskeysOff()
	}
	infos, err := p.List(c.Request().Context(), claimsOf(c).Subject)
	if err != nil {
		return err
	}
	out := WebAuthnCredentials{Credentials: make([]WebAuthnCredential, 0, len(infos))}
	for _, in := range infos {
		wc := WebAuthnCredential{Id: in.ID, CreatedAt: in.CreatedAt}
		if in.Name != "" {
			wc.Name = &in.Name
		}
		if in.AAGUID != "" {
			wc.Aaguid = &in.AAGUID
		}
		if !in.LastUsedAt.IsZero() {
			wc.LastUsedAt = &in.LastUsedAt
		}
		out.Credentials = append(out.Credentials, wc)
	}
	return c.JSON(http.StatusOK, out)
}

// DeleteWebAuthnCredential serves DELETE /webauthn/credentials/{credentialId}.
func (s *Server) DeleteWebAuthnCredential(c echo.Context, credentialID string) error {
	p := s.authx.passkeys
	if p == nil {
		return errPasskeysOff()
	}
	user := claimsOf(c).Subject
	if err := p.Remove(c.Request().Context(), user, credentialID); err != nil {
		if errors.Is(err, auth.ErrNotFound) {
			return errorf(http.StatusNotFound, "no such passkey")
		}
		return err
	}
	s.log.Info("passkey removed", "user", user, "passkey", credentialID)
	return c.NoContent(http.StatusOK)
}

// ceremonyOf returns the ceremony a finish request continues: the ceremony
// query parameter, or else the ceremony whose challenge the credential's
// clientDataJSON carries (SparkWeb clients do not know the id): found in
// this node's index, or else derived from the challenge (auth.CeremonyOf),
// for a ceremony begun on another node. The challenge's index entry is
// dropped either way.
func (s *Server) ceremonyOf(param *Ceremony, body []byte) string {
	ch, _ := credentialChallenge(body)
	id, ok := s.authx.challenges.take(ch)
	if param != nil && *param != "" {
		return string(*param)
	}
	if !ok && ch != "" {
		id = auth.CeremonyOf(ch)
	}
	return id
}

// readCredential reads a PublicKeyCredential body: a JSON object sent as
// application/json, or the same text as text/plain.
func readCredential(r *http.Request) ([]byte, error) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxCredential+1))
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "the request body could not be read")
	}
	if len(raw) > maxCredential {
		return nil, errorf(http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is larger than %d bytes", maxCredential))
	}
	return decodeCredential(r.Header.Get("Content-Type"), raw)
}

// decodeCredential is readCredential's checking step, split out so it can
// be fuzzed.
func decodeCredential(contentType string, raw []byte) ([]byte, error) {
	if contentType != "" {
		mt, _, err := mime.ParseMediaType(contentType)
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "the Content-Type header is malformed")
		}
		if mt != "application/json" && mt != "text/plain" {
			return nil, errorf(http.StatusUnsupportedMediaType, "the request body must be JSON")
		}
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' || !json.Valid(raw) {
		return nil, errorf(http.StatusBadRequest, "the request body must be a PublicKeyCredential as a JSON object")
	}
	return raw, nil
}

// credentialChallenge returns the challenge in the clientDataJSON of a
// PublicKeyCredential (registration or assertion), normalized.
func credentialChallenge(body []byte) (string, error) {
	var cred struct {
		Response struct {
			ClientDataJSON string `json:"clientDataJSON"`
		} `json:"response"`
	}
	if err := json.Unmarshal(body, &cred); err != nil {
		return "", err
	}
	cd, err := decodeB64URL(cred.Response.ClientDataJSON)
	if err != nil {
		return "", err
	}
	var client struct {
		Challenge string `json:"challenge"`
	}
	if err := json.Unmarshal(cd, &client); err != nil {
		return "", err
	}
	return normalizeChallenge(client.Challenge)
}

// optionsChallenge returns the challenge of creation or request options
// ({"publicKey": {"challenge": ...}}), normalized, or "".
func optionsChallenge(opts []byte) string {
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
		} `json:"publicKey"`
	}
	if json.Unmarshal(opts, &o) != nil {
		return ""
	}
	ch, _ := normalizeChallenge(o.PublicKey.Challenge)
	return ch
}

// normalizeChallenge re-encodes a base64url challenge (padded or not)
// without padding, so both sides compare equal.
func normalizeChallenge(ch string) (string, error) {
	b, err := decodeB64URL(ch)
	if err != nil {
		return "", err
	}
	if len(b) == 0 {
		return "", errors.New("gateway: empty challenge")
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func decodeB64URL(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// maxChallenges bounds the challenge index; expired entries go first, and
// past the bound new ceremonies are simply not indexed (their clients
// must send the ceremony id).
const maxChallenges = 20_000

// challengeTTL keeps an index entry a little longer than any ceremony
// lives; the ceremony's own expiry is checked by package auth.
const challengeTTL = 2 * auth.DefaultCeremonyTTL

// challengeIndex finds a ceremony id by its challenge, for finish requests
// without the ceremony parameter. It is safe for concurrent use.
type challengeIndex struct {
	now func() time.Time

	mu      sync.Mutex
	entries map[string]challengeEntry
}

type challengeEntry struct {
	ceremony string
	expires  time.Time
}

func newChallengeIndex(now func() time.Time) *challengeIndex {
	return &challengeIndex{now: now, entries: make(map[string]challengeEntry)}
}

func (x *challengeIndex) put(challenge, ceremony string) {
	if challenge == "" {
		return
	}
	now := x.now()
	x.mu.Lock()
	defer x.mu.Unlock()
	if len(x.entries) >= maxChallenges {
		for k, e := range x.entries {
			if !now.Before(e.expires) {
				delete(x.entries, k)
			}
		}
		if len(x.entries) >= maxChallenges {
			return
		}
	}
	x.entries[challenge] = challengeEntry{ceremony: ceremony, expires: now.Add(challengeTTL)}
}

func (x *challengeIndex) take(challenge string) (string, bool) {
	if challenge == "" {
		return "", false
	}
	x.mu.Lock()
	e, ok := x.entries[challenge]
	delete(x.entries, challenge)
	x.mu.Unlock()
	if !ok || !x.now().Before(e.expires) {
		return "", false
	}
	return e.ceremony, true
}
