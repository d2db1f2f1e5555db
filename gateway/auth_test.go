package gateway_test

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"
	"github.com/golang-jwt/jwt/v5"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
	"github.com/sparkgate/sparkgate/internal/passkeytest"
	"github.com/sparkgate/sparkgate/store"
)

const (
	testIssuer   = "http://sparkgate.test"
	testRPOrigin = "http://localhost:8443"
)

var testRP = virtualwebauthn.RelyingParty{ID: "localhost", Name: "sparkgate", Origin: testRPOrigin}

// authEnv is a gateway with TOTP and passkeys, whose keys and tokens the
// test can reach.
type authEnv struct {
	*env
	keys   *auth.Keys
	tokens *auth.Tokens
	store  *store.SQLite
	domain string
	clock  *offsetClock // TOTP's clock

	refreshClock *offsetClock // the refresh tokens' clock
}

// offsetClock is the real time moved forward by the test, so TOTP steps
// can pass without waiting.
type offsetClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *offsetClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *offsetClock) advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// newAuthGateway starts a gateway with TOTP and passkeys on a store and
// keys of its own, with limits high enough not to interfere unless mod
// sets them.
func newAuthGateway(t *testing.T, mod func(*gateway.AuthConfig, *auth.TOTPConfig)) *authEnv {
	t.Helper()
	return newAuthGatewayWith(t, gatewayenv.Options{Plain: true}, mod)
}

// newAuthGatewayWith is newAuthGateway on the store and keys o names
// (o.Setup is its own).
func newAuthGatewayWith(t *testing.T, o gatewayenv.Options, mod func(*gateway.AuthConfig, *auth.TOTPConfig)) *authEnv {
	t.Helper()
	clock, refreshClock := &offsetClock{}, &offsetClock{}
	o.Setup = func(c *gateway.Config, st *store.SQLite, keys *auth.Keys) {
		ac := gateway.AuthConfig{
			PerIP:       gateway.RateLimit{Every: time.Millisecond, Burst: 1000},
			PerUser:     gateway.RateLimit{Every: time.Millisecond, Burst: 1000},
			MaxFailures: 100,
			Failures:    c.Auth.Failures,
			Attempts:    c.Auth.Attempts,
		}
		tc := auth.TOTPConfig{Keys: keys, Store: st, Issuer: "sparkgate-test", MaxFailures: 50, Clock: clock.now}
		if mod != nil {
			mod(&ac, &tc)
		}
		var err error
		if ac.TOTP, err = auth.NewTOTP(tc); err != nil {
			t.Fatal(err)
		}
		ac.Passkeys, err = auth.NewPasskeys(auth.PasskeysConfig{
			RPID: testRP.ID, RPDisplayName: testRP.Name, RPOrigins: []string{testRPOrigin}, Store: st, Ceremonies: st, Keys: keys,
		})
		if err != nil {
			t.Fatal(err)
		}
		c.Auth = ac
		// Refresh tokens on a clock of their own, for the lifetime tests.
		if c.Refresh, err = auth.NewRefresh(auth.RefreshConfig{Tokens: c.Tokens, Store: st, Clock: refreshClock.now}); err != nil {
			t.Fatal(err)
		}
	}
	e := startEnv(t, o)
	return &authEnv{env: e, keys: e.Keys, tokens: e.Tokens, store: e.Store, domain: ejabberdtest.Shared(t).Domain(), clock: clock, refreshClock: refreshClock}
}

// token decodes a TokenEntity answer, failing unless it is a 200.
func authToken(t *testing.T, r gatewaytest.Response) string {
	t.Helper()
	if r.Status != 200 {
		t.Fatalf("want 200 with a token, got %d %s", r.Status, r.Body)
	}
	var te gateway.TokenEntity
	r.JSON(t, &te)
	if te.Token == "" {
		t.Fatalf("no token in %s", r.Body)
	}
	return te.Token
}

// wantError checks an error answer's status and code.
func wantAuthError(t *testing.T, r gatewaytest.Response, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d %s, want %d %s", r.Status, r.Body, status, code)
	}
	if eb := r.Error(t); eb.Code != code || eb.Status != status {
		t.Fatalf("error body %s, want code %s", r.Body, code)
	}
	if status == 429 || (status == 403 && strings.Contains(string(r.Body), "locked")) {
		if n, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || n < 1 {
			t.Fatalf("Retry-After %q, want a positive number of seconds", r.Header.Get("Retry-After"))
		}
	}
}

// totpApp is an app holding a TOTP secret; it hands out codes of
// steps it has not used yet, within the server's window.
type totpApp struct {
	secret string
	now    func() time.Time
	used   map[int64]bool
}

func newTOTPApp(t *testing.T, otpauth string, now func() time.Time) *totpApp {
	t.Helper()
	key, err := otp.NewKeyFromURL(otpauth)
	if err != nil {
		t.Fatal(err)
	}
	if key.Type() != "totp" || key.Secret() == "" {
		t.Fatalf("otpauth URL %q has no totp secret", otpauth)
	}
	return &totpApp{secret: key.Secret(), now: now, used: map[int64]bool{}}
}

// codeAt returns the code of the given step.
func (a *totpApp) codeAt(t *testing.T, step int64) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(a.secret, time.Unix(step*30, 0), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// next returns a code of an unused step (next, then current, then
// previous) and marks it used. The latest step first: the gateway checks
// the code a moment after it is made, on a loaded machine sometimes across
// a step's end, and the next step's code stays good the longest.
func (a *totpApp) next(t *testing.T) string {
	t.Helper()
	cur := a.now().Unix() / 30
	for _, step := range []int64{cur + 1, cur, cur - 1} {
		if !a.used[step] {
			a.used[step] = true
			return a.codeAt(t, step)
		}
	}
	t.Fatal("every step of the window is used")
	return ""
}

// wrong returns a code that no step of the window has.
func (a *totpApp) wrong(t *testing.T) string {
	t.Helper()
	cur := a.now().Unix() / 30
	valid := map[string]bool{}
	for s := cur - 2; s <= cur+2; s++ {
		valid[a.codeAt(t, s)] = true
	}
	for n := 0; ; n++ {
		c := strconv.Itoa(100000 + n)
		if !valid[c] {
			return c
		}
	}
}

func (e *authEnv) method(t *testing.T, tok string) string {
	t.Helper()
	return e.claims(t, tok).Method
}

// claims verifies a token of the gateway and returns its claims.
func (e *authEnv) claims(t *testing.T, tok string) auth.Claims {
	t.Helper()
	cl, err := e.tokens.Verify(t.Context(), tok)
	if err != nil {
		t.Fatalf("the gateway's token does not verify: %v", err)
	}
	return cl
}

// enrolTOTP registers and activates TOTP for u (with the token of a
// password login, u having no TOTP yet) and returns the app.
func (e *authEnv) enrolTOTP(t *testing.T, u ejabberdtest.User) *totpApp {
	t.Helper()
	r := e.Do(t, "POST", api+"/totp/register/"+u.Name, e.Login(t, u.Name, u.Password), "text/plain", u.Password)
	if r.Status != 200 {
		t.Fatalf("totp register: %d %s", r.Status, r.Body)
	}
	var te gateway.TOTPEntity
	r.JSON(t, &te)
	app := newTOTPApp(t, te.Url, e.clock.now)
	authToken(t, e.Do(t, "POST", api+"/totp/authenticate/"+u.Name+"/"+app.next(t), "", "text/plain", u.Password))
	return app
}

type mfaBody struct {
	Status      int    `json:"status"`
	Code        string `json:"code"`
	Message     string `json:"message"`
	MFARequired string `json:"mfaRequired"`
	Ticket      string `json:"ticket"`
}

// ticket logs u in with the password and returns the mfa_required ticket.
func (e *authEnv) ticket(t *testing.T, u ejabberdtest.User) string {
	t.Helper()
	r := e.Do(t, "POST", api+"/login/"+u.Name, "", "text/plain", u.Password)
	var b mfaBody
	r.JSON(t, &b)
	if r.Status != 401 || b.Code != "mfa_required" || b.MFARequired != "totp" || b.Ticket == "" || b.Status != 401 || b.Message == "" {
		t.Fatalf("login with TOTP active: %d %s, want 401 mfa_required with a ticket", r.Status, r.Body)
	}
	return b.Ticket
}

func TestIntegrationAuthTOTPFlow(t *testing.T) {
	t.Parallel()
	e := newAuthGateway(t, nil)
	u := ejabberdtest.NewUser(t)
	other := ejabberdtest.NewUser(t)

	// Step 1: enrolment needs the user's token and the password
	// (TestIntegrationAuthTOTPEveryFactor has the refusals).
	pwTok := e.Login(t, u.Name, u.Password)
	wantAuthError(t, e.Do(t, "POST", api+"/totp/register/"+u.Name, pwTok, "text/plain", "wrong password"), 403, "forbidden")
	wantAuthError(t, e.Do(t, "POST", api+"/totp/register/nobody"+u.Name, pwTok, "text/plain", u.Password), 403, "forbidden")
	r := e.Do(t, "POST", api+"/totp/register/"+u.Name, pwTok, "text/plain", u.Password)
	if r.Status != 200 {
		t.Fatalf("totp register: %d %s", r.Status, r.Body)
	}
	var te gateway.TOTPEntity
	r.JSON(t, &te)
	if !strings.HasPrefix(te.Url, "otpauth://totp/") || te.Qr == nil || !strings.HasPrefix(*te.Qr, "data:image/png;base64,") {
		t.Fatalf("TOTPEntity %s", r.Body)
	}
	if png, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(*te.Qr, "data:image/png;base64,")); err != nil || !strings.HasPrefix(string(png), "\x89PNG") {
		t.Fatalf("qr is not a PNG: %v", err)
	}
	app := newTOTPApp(t, te.Url, e.clock.now)

	// Pending: the password alone still logs in.
	authToken(t, e.Do(t, "POST", api+"/login/"+u.Name, "", "text/plain", u.Password))

	// Step 2: the first right code with the password activates TOTP.
	wantAuthError(t, e.Do(t, "POST", api+"/totp/authenticate/"+u.Name+"/"+app.wrong(t), "", "text/plain", u.Password), 401, "unauthorized")
	code := app.next(t)
	wantAuthError(t, e.Do(t, "POST", api+"/totp/authenticate/"+u.Name+"/"+code, "", "text/plain", "wrong password"), 401, "unauthorized")
	tok := authToken(t, e.Do(t, "POST", api+"/totp/authenticate/"+u.Name+"/"+code, "", "text/plain", u.Password))
	if m := e.method(t, tok); m != auth.MethodTOTP {
		t.Fatalf("token method %q, want totp", m)
	}
	// Replay of the same code.
	wantAuthError(t, e.Do(t, "POST", api+"/totp/authenticate/"+u.Name+"/"+code, "", "text/plain", u.Password), 401, "unauthorized")
	// Active now: a second enrolment is refused.
	wantAuthError(t, e.Do(t, "POST", api+"/totp/register/"+u.Name, tok, "text/plain", u.Password), 409, "conflict")

	// Step 3: the password login asks for the second factor.
	wantAuthError(t, e.Do(t, "POST", api+"/login/"+u.Name, "", "text/plain", "wrong password"), 401, "unauthorized")
	ticket := e.ticket(t, u)
	js, _ := json.Marshal(ticket)

	tests := []struct {
		name     string
		user     string
		code     string
		ct, body string
		status   int
		errCode  string
	}{
		{"no-body", u.Name, "123456", "", "", 401, "unauthorized"},
		{"bad-code", u.Name, "12ab56", "text/plain", ticket, 400, "bad_request"},
		{"wrong-code", u.Name, app.wrong(t), "text/plain", ticket, 401, "unauthorized"},
		{"other-users-ticket", other.Name, "123456", "text/plain", ticket, 401, "unauthorized"},
		{"ticket-json", u.Name, app.next(t), "application/json", string(js), 200, ""},
		{"ticket-used", u.Name, app.next(t), "text/plain", ticket, 401, "unauthorized"},
	}
	// The ticket-used row must fail for the ticket, not for its code.
	msgs := map[string]string{"ticket-used": "already used", "wrong-code": "code"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.Do(t, "POST", api+"/totp/authenticate/"+tt.user+"/"+tt.code, "", tt.ct, tt.body)
			if tt.status == 200 {
				tok := authToken(t, r)
				if m := e.method(t, tok); m != auth.MethodTOTP {
					t.Fatalf("method %q", m)
				}
				if r := e.Do(t, "GET", api+"/webauthn/credentials", tok, "", ""); r.Status != 200 {
					t.Fatalf("the TOTP login's token: %d %s", r.Status, r.Body)
				}
				return
			}
			wantAuthError(t, r, tt.status, tt.errCode)
			if m := msgs[tt.name]; m != "" && !strings.Contains(r.Error(t).Message, m) {
				t.Fatalf("message %q, want it to mention %q", r.Error(t).Message, m)
			}
		})
	}
	// The ticket is no access token.
	wantAuthError(t, e.Do(t, "GET", api+"/webauthn/credentials", ticket, "", ""), 401, "unauthorized")

	t.Run("remove", func(t *testing.T) {
		tests := []struct {
			name    string
			token   string
			code    string
			status  int
			errCode string
		}{
			{"no-token", "", "123456", 401, "unauthorized"},
			{"bad-code", tok, "abcdef", 400, "bad_request"},
			{"wrong-code", tok, app.wrong(t), 403, "forbidden"},
			{"removed", tok, "", 200, ""},
			{"not-enrolled", pwTok, "123456", 404, "not_found"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				code := tt.code
				if code == "" {
					// Every step of the window is used: move on one.
					e.clock.advance(30 * time.Second)
					code = app.next(t)
				}
				r := e.Do(t, "DELETE", api+"/totp/"+code, tt.token, "text/plain", u.Password)
				if tt.status == 200 {
					if r.Status != 200 {
						t.Fatalf("remove: %d %s", r.Status, r.Body)
					}
					return
				}
				wantAuthError(t, r, tt.status, tt.errCode)
			})
		}
		// Without TOTP the password alone logs in again.
		authToken(t, e.Do(t, "POST", api+"/login/"+u.Name, "", "text/plain", u.Password))
	})
}

func TestIntegrationAuthTOTPOnlyAndLockout(t *testing.T) {
	t.Parallel()
	t.Run("totp-only", func(t *testing.T) {
		e := newAuthGateway(t, func(ac *gateway.AuthConfig, _ *auth.TOTPConfig) { ac.TOTPOnly = true })
		u := ejabberdtest.NewUser(t)
		app := e.enrolTOTP(t, u)
		tok := authToken(t, e.Do(t, "POST", api+"/totp/authenticate/"+u.Name+"/"+app.next(t), "", "", ""))
		if m := e.method(t, tok); m != auth.MethodTOTP {
			t.Fatalf("method %q", m)
		}
		wantAuthError(t, e.Do(t, "POST", api+"/totp/authenticate/"+u.Name+"/"+app.wrong(t), "", "", ""), 401, "unauthorized")
		// Not enrolled: the code alone is not enough.
		v := ejabberdtest.NewUser(t)
		wantAuthError(t, e.Do(t, "POST", api+"/totp/authenticate/"+v.Name+"/123456", "", "", ""), 401, "unauthorized")
	})
	t.Run("code-lockout", func(t *testing.T) {
		e := newAuthGateway(t, func(_ *gateway.AuthConfig, tc *auth.TOTPConfig) { tc.MaxFailures = 3 })
		u := ejabberdtest.NewUser(t)
		app := e.enrolTOTP(t, u)
		for range 3 {
			wantAuthError(t, e.Do(t, "POST", api+"/totp/authenticate/"+u.Name+"/"+app.wrong(t), "", "text/plain", u.Password), 401, "unauthorized")
		}
		// Locked: even the right code is refused, with Retry-After.
		wantAuthError(t, e.Do(t, "POST", api+"/totp/authenticate/"+u.Name+"/"+app.next(t), "", "text/plain", u.Password), 403, "forbidden")
	})
}

// passkeyDevice is a virtual totpApp with one passkey.
type passkeyDevice struct {
	authn virtualwebauthn.Authenticator
	cred  virtualwebauthn.Credential
}

type startAnswer struct {
	Credentials json.RawMessage `json:"credentials"`
	Assertion   json.RawMessage `json:"assertion"`
	Ceremony    string          `json:"ceremony"`
}

// registerPasskey adds a passkey to u's account through the API, with u's
// token tok (a login that passed every factor) and password. withCeremony
// false leaves out the ceremony parameter (a SparkWeb client). It returns
// the device and the finish's answer, which must be tok again.
func (e *authEnv) registerPasskey(t *testing.T, u ejabberdtest.User, tok, name string, withCeremony bool) *passkeyDevice {
	t.Helper()
	return registerPasskeyAcross(t, e, e, u, tok, name, withCeremony)
}

// registerPasskeyAcross is registerPasskey begun on start and finished on
// finish (two nodes).
func registerPasskeyAcross(t *testing.T, start, finish *authEnv, u ejabberdtest.User, tok, name string, withCeremony bool) *passkeyDevice {
	t.Helper()
	r := start.Do(t, "POST", api+"/webauthn/register/start/"+u.Name, tok, "text/plain", u.Password)
	if r.Status != 200 {
		t.Fatalf("register start: %d %s", r.Status, r.Body)
	}
	var sa startAnswer
	r.JSON(t, &sa)
	if sa.Ceremony == "" || !strings.Contains(string(sa.Credentials), `"publicKey"`) {
		t.Fatalf("register start answer %s", r.Body)
	}
	ao, err := virtualwebauthn.ParseAttestationOptions(string(sa.Credentials))
	if err != nil {
		t.Fatal(err)
	}
	d := &passkeyDevice{
		authn: virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: []byte(ao.UserID)}),
		cred:  passkeytest.Credential(t),
	}
	resp := virtualwebauthn.CreateAttestationResponse(testRP, d.authn, d.cred, *ao)
	q := url.Values{"name": {name}}
	if withCeremony {
		q.Set("ceremony", sa.Ceremony)
	}
	if got := authToken(t, finish.Do(t, "POST", api+"/webauthn/register/finish/"+u.Name+"?"+q.Encode(), tok, "application/json", resp)); got != tok {
		t.Fatal("register finish answered another token than the request's: adding a passkey is not a login")
	}
	d.authn.AddCredential(d.cred)
	return d
}

// assertion starts a passkey login through the API and returns the
// ceremony and the passkeyDevice's signed answer.
func (e *authEnv) assertion(t *testing.T, user string, d *passkeyDevice) (string, string) {
	t.Helper()
	r := e.Do(t, "POST", api+"/webauthn/authenticate/start/"+user, "", "", "")
	if r.Status != 200 {
		t.Fatalf("authenticate start: %d %s", r.Status, r.Body)
	}
	var sa startAnswer
	r.JSON(t, &sa)
	aso, err := virtualwebauthn.ParseAssertionOptions(string(sa.Assertion))
	if err != nil {
		t.Fatalf("assertion options %s: %v", r.Body, err)
	}
	return sa.Ceremony, virtualwebauthn.CreateAssertionResponse(testRP, d.authn, d.cred, *aso)
}

// tamper flips one byte of a base64url field of a credential's response.
func tamperCredential(t *testing.T, resp, field string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(resp), &m); err != nil {
		t.Fatal(err)
	}
	r := m["response"].(map[string]any)
	raw, err := base64.RawURLEncoding.DecodeString(r[field].(string))
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 0x01
	r[field] = base64.RawURLEncoding.EncodeToString(raw)
	out, _ := json.Marshal(m)
	return string(out)
}

func TestIntegrationAuthWebAuthn(t *testing.T) {
	t.Parallel()
	e := newAuthGateway(t, nil)
	u := ejabberdtest.NewUser(t)
	other := ejabberdtest.NewUser(t)

	// Adding a passkey needs u's token and the password again; a user
	// without passkeys cannot log in with one.
	tok := e.Login(t, u.Name, u.Password)
	wantAuthError(t, e.Do(t, "POST", api+"/webauthn/register/start/"+u.Name, "", "text/plain", u.Password), 401, "unauthorized")
	wantAuthError(t, e.Do(t, "POST", api+"/webauthn/register/start/"+u.Name, tok, "text/plain", "wrong password"), 403, "forbidden")
	wantAuthError(t, e.Do(t, "POST", api+"/webauthn/authenticate/start/"+u.Name, "", "", ""), 401, "unauthorized")
	// A finish without a ceremony the gateway knows.
	wantAuthError(t, e.Do(t, "POST", api+"/webauthn/register/finish/"+u.Name+"?ceremony=nope", tok, "application/json", `{"id":"x"}`), 400, "bad_request")

	d := e.registerPasskey(t, u, tok, "laptop", true)
	// Once the account has a passkey, the password alone no longer covers
	// its factors: neither a second passkey nor TOTP with a password
	// token; a passkey login's token may.
	wantAuthError(t, e.Do(t, "POST", api+"/webauthn/register/start/"+u.Name, tok, "text/plain", u.Password), 403, "forbidden")
	wantAuthError(t, e.Do(t, "POST", api+"/totp/register/"+u.Name, tok, "text/plain", u.Password), 403, "forbidden")
	cer, resp := e.assertion(t, u.Name, d)
	tok = authToken(t, e.Do(t, "POST", api+"/webauthn/authenticate/finish/"+u.Name+"?ceremony="+cer, "", "application/json", resp))
	// A second passkey, by a client that does not send the ceremony id.
	d2 := e.registerPasskey(t, u, tok, "", false)

	var list gateway.WebAuthnCredentials
	r := e.Do(t, "GET", api+"/webauthn/credentials", tok, "", "")
	if r.Status != 200 {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &list)
	if len(list.Credentials) != 2 || list.Credentials[0].Name == nil || *list.Credentials[0].Name != "laptop" ||
		list.Credentials[1].Name == nil || *list.Credentials[1].Name != "Passkey" || list.Credentials[0].LastUsedAt == nil || list.Credentials[1].LastUsedAt != nil {
		t.Fatalf("list %s", r.Body)
	}

	t.Run("login", func(t *testing.T) {
		cer, resp := e.assertion(t, u.Name, d)
		tampered := tamperCredential(t, resp, "signature")
		tests := []struct {
			name     string
			user     string
			ceremony string
			ct, body string
			status   int
			errCode  string
		}{
			{"not-json", u.Name, cer, "text/plain", "hello", 400, "bad_request"},
			{"tampered", u.Name, cer, "application/json", tampered, 401, "unauthorized"},
			// The tampered attempt consumed the ceremony.
			{"ceremony-used", u.Name, cer, "application/json", resp, 401, "unauthorized"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.Do(t, "POST", api+"/webauthn/authenticate/finish/"+tt.user+"?ceremony="+tt.ceremony, "", tt.ct, tt.body)
				wantAuthError(t, r, tt.status, tt.errCode)
			})
		}
		// A fresh ceremony, tampered totpApp data.
		cer, resp = e.assertion(t, u.Name, d)
		wantAuthError(t, e.Do(t, "POST", api+"/webauthn/authenticate/finish/"+u.Name+"?ceremony="+cer, "", "application/json", tamperCredential(t, resp, "authenticatorData")), 401, "unauthorized")

		// Good logins: with the ceremony id, and found by the challenge
		// (as text/plain, as SparkWeb sends it).
		cer, resp = e.assertion(t, u.Name, d)
		tok := authToken(t, e.Do(t, "POST", api+"/webauthn/authenticate/finish/"+u.Name+"?ceremony="+cer, "", "application/json", resp))
		if m := e.method(t, tok); m != auth.MethodWebAuthn {
			t.Fatalf("method %q", m)
		}
		_, resp = e.assertion(t, u.Name, d2)
		authToken(t, e.Do(t, "POST", api+"/webauthn/authenticate/finish/"+u.Name, "", "text/plain", resp))
		// Replaying the same assertion fails: its ceremony is gone.
		wantAuthError(t, e.Do(t, "POST", api+"/webauthn/authenticate/finish/"+u.Name, "", "text/plain", resp), 401, "unauthorized")
		// A ceremony of u finished under another user's name.
		cer, resp = e.assertion(t, u.Name, d)
		wantAuthError(t, e.Do(t, "POST", api+"/webauthn/authenticate/finish/"+other.Name+"?ceremony="+cer, "", "application/json", resp), 401, "unauthorized")

		// A sign count that goes backwards (a cloned authenticator) is refused.
		d.cred.Counter = 10
		_, resp = e.assertion(t, u.Name, d)
		authToken(t, e.Do(t, "POST", api+"/webauthn/authenticate/finish/"+u.Name, "", "application/json", resp))
		d.cred.Counter = 5
		_, resp = e.assertion(t, u.Name, d)
		wantAuthError(t, e.Do(t, "POST", api+"/webauthn/authenticate/finish/"+u.Name, "", "application/json", resp), 401, "unauthorized")
		d.cred.Counter = 11
	})

	t.Run("delete", func(t *testing.T) {
		otherTok := e.Login(t, other.Name, other.Password)
		id := list.Credentials[1].Id
		tests := []struct {
			name    string
			token   string
			id      string
			status  int
			errCode string
		}{
			{"no-token", "", id, 401, "unauthorized"},
			{"bad-id", tok, "a+b", 400, "bad_request"},
			{"not-theirs", otherTok, id, 404, "not_found"},
			{"deleted", tok, id, 200, ""},
			{"gone", tok, id, 404, "not_found"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.Do(t, "DELETE", api+"/webauthn/credentials/"+tt.id, tt.token, "", "")
				if tt.status == 200 {
					if r.Status != 200 {
						t.Fatalf("delete: %d %s", r.Status, r.Body)
					}
					return
				}
				wantAuthError(t, r, tt.status, tt.errCode)
			})
		}
		r := e.Do(t, "GET", api+"/webauthn/credentials", tok, "", "")
		var after gateway.WebAuthnCredentials
		r.JSON(t, &after)
		if len(after.Credentials) != 1 || after.Credentials[0].Id != list.Credentials[0].Id || after.Credentials[0].LastUsedAt == nil {
			t.Fatalf("after delete: %s", r.Body)
		}
		// The removed passkey no longer logs in.
		_, resp := e.assertion(t, u.Name, d)
		_, resp2 := e.assertion(t, u.Name, d2)
		authToken(t, e.Do(t, "POST", api+"/webauthn/authenticate/finish/"+u.Name, "", "application/json", resp))
		wantAuthError(t, e.Do(t, "POST", api+"/webauthn/authenticate/finish/"+u.Name, "", "application/json", resp2), 401, "unauthorized")
	})
}

// factorCase is a request that changes an account's factors, sent with a
// token and a password body (none when empty), and the answer it must get.
type factorCase struct {
	name, token, password string
	status                int
	code                  string
}

// runFactorCases sends each case to the path that path returns (called
// once per case) as a subtest.
func (e *authEnv) runFactorCases(t *testing.T, method string, path func() string, cases []factorCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ct := "text/plain"
			if tc.password == "" {
				ct = ""
			}
			wantAuthError(t, e.Do(t, method, path(), tc.token, ct, tc.password), tc.status, tc.code)
		})
	}
}

// TestIntegrationAuthPasskeyEveryFactor: on an account with TOTP, the
// password alone never adds a passkey (issue 24, item 2); only a token
// whose login passed the code does, and only for its own user.
func TestIntegrationAuthPasskeyEveryFactor(t *testing.T) {
	t.Parallel()
	e := newAuthGateway(t, nil)
	u := ejabberdtest.NewUser(t)
	other := ejabberdtest.NewUser(t)
	// A token from before TOTP was switched on: a password login.
	before := e.Login(t, u.Name, u.Password)
	app := e.enrolTOTP(t, u)
	withCode := authToken(t, e.Do(t, "POST", api+"/totp/authenticate/"+u.Name+"/"+app.next(t), "", "text/plain", e.ticket(t, u)))
	otherTok := e.Login(t, other.Name, other.Password)

	start := api + "/webauthn/register/start/" + u.Name
	e.runFactorCases(t, "POST", func() string { return start }, []factorCase{
		{"password-alone", "", u.Password, 401, "unauthorized"},
		{"token-from-before-totp", before, u.Password, 403, "forbidden"},
		{"another-users-token", otherTok, u.Password, 403, "forbidden"},
		{"wrong-password", withCode, "wrong password", 403, "forbidden"},
		{"empty-password", withCode, "", 400, "bad_request"},
	})
	t.Run("finish-with-a-weaker-token", func(t *testing.T) {
		r := e.Do(t, "POST", start, withCode, "text/plain", u.Password)
		if r.Status != 200 {
			t.Fatalf("start: %d %s", r.Status, r.Body)
		}
		var sa startAnswer
		r.JSON(t, &sa)
		wantAuthError(t, e.Do(t, "POST", api+"/webauthn/register/finish/"+u.Name+"?ceremony="+sa.Ceremony, before, "application/json", `{"id":"x"}`), 403, "forbidden")
	})
	t.Run("every-factor", func(t *testing.T) {
		// The refused attempts did not invalidate the token.
		d := e.registerPasskey(t, u, withCode, "phone", true)
		_, resp := e.assertion(t, u.Name, d)
		tok := authToken(t, e.Do(t, "POST", api+"/webauthn/authenticate/finish/"+u.Name, "", "application/json", resp))
		// A passkey login stands for every factor: it may add another.
		e.registerPasskey(t, u, tok, "laptop", false)
	})
}

// TestIntegrationAuthTOTPEveryFactor: TOTP is put on an account, and
// taken off it, only by the user's own token from a login that passed
// every factor the account has, with the password again (issue 24, item
// 2): the password alone never enrols an authenticator of its own.
func TestIntegrationAuthTOTPEveryFactor(t *testing.T) {
	t.Parallel()
	e := newAuthGateway(t, nil)
	u := ejabberdtest.NewUser(t)
	other := ejabberdtest.NewUser(t)
	before := e.Login(t, u.Name, u.Password) // u has no TOTP yet
	otherTok := e.Login(t, other.Name, other.Password)
	register := api + "/totp/register/" + u.Name

	t.Run("enrol", func(t *testing.T) {
		e.runFactorCases(t, "POST", func() string { return register }, []factorCase{
			{"password-alone", "", u.Password, 401, "unauthorized"},
			{"another-users-token", otherTok, u.Password, 403, "forbidden"},
			{"another-users-token-and-password", otherTok, other.Password, 403, "forbidden"},
			{"wrong-password", before, "wrong password", 403, "forbidden"},
			{"empty-password", before, "", 400, "bad_request"},
		})
		// Nothing was enrolled: the password alone still logs in.
		authToken(t, e.Do(t, "POST", api+"/login/"+u.Name, "", "text/plain", u.Password))
	})

	// The account has the password only: a password login is every
	// factor. The refused attempts did not invalidate the token.
	r := e.Do(t, "POST", register, before, "text/plain", u.Password)
	if r.Status != 200 {
		t.Fatalf("enrol with the user's token and password: %d %s", r.Status, r.Body)
	}
	var te gateway.TOTPEntity
	r.JSON(t, &te)
	app := newTOTPApp(t, te.Url, e.clock.now)
	withCode := authToken(t, e.Do(t, "POST", api+"/totp/authenticate/"+u.Name+"/"+app.next(t), "", "text/plain", u.Password))

	t.Run("enrol-again", func(t *testing.T) {
		// A token from before TOTP was switched on is not enough now;
		// one that passed the code finds TOTP active.
		wantAuthError(t, e.Do(t, "POST", register, before, "text/plain", u.Password), 403, "forbidden")
		wantAuthError(t, e.Do(t, "POST", register, withCode, "text/plain", u.Password), 409, "conflict")
	})

	t.Run("remove", func(t *testing.T) {
		withFreshCode := func() string {
			e.clock.advance(30 * time.Second) // a fresh, right code each time
			return api + "/totp/" + app.next(t)
		}
		e.runFactorCases(t, "DELETE", withFreshCode, []factorCase{
			{"token-from-before-totp", before, u.Password, 403, "forbidden"},
			{"wrong-password", withCode, "wrong password", 403, "forbidden"},
			{"no-password", withCode, "", 400, "bad_request"},
		})
		// TOTP is still on.
		e.ticket(t, u)
		e.clock.advance(30 * time.Second)
		if r := e.Do(t, "DELETE", api+"/totp/"+app.next(t), withCode, "text/plain", u.Password); r.Status != 200 {
			t.Fatalf("remove with every factor: %d %s", r.Status, r.Body)
		}
		authToken(t, e.Do(t, "POST", api+"/login/"+u.Name, "", "text/plain", u.Password))
	})
}

func TestIntegrationAuthTokens(t *testing.T) {
	t.Parallel()
	e := newAuthGateway(t, nil)
	u := ejabberdtest.NewUser(t)
	good := e.Login(t, u.Name, u.Password)
	ctx := t.Context()

	// Expired: the same keys, issued nine hours ago (lifetime 8 h).
	past, err := auth.NewTokens(auth.TokensConfig{Keys: e.keys, Store: e.store, Audience: e.domain, Issuer: testIssuer,
		Clock: func() time.Time { return time.Now().Add(-9 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	expired, _, err := past.Issue(ctx, u.JID, auth.MethodPassword)
	if err != nil {
		t.Fatal(err)
	}
	// Wrong key: another key set, everything else right.
	otherKeys, err := auth.LoadOrCreateKeys(filepath.Join(t.TempDir(), "keys"))
	if err != nil {
		t.Fatal(err)
	}
	otherTokens, err := auth.NewTokens(auth.TokensConfig{Keys: otherKeys, Store: e.store, Audience: e.domain, Issuer: testIssuer})
	if err != nil {
		t.Fatal(err)
	}
	wrongKey, _, err := otherTokens.Issue(ctx, u.JID, auth.MethodPassword)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	// alg=none with the good token's claims.
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	// HS256 keyed with the public key (algorithm confusion).
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(good, claims); err != nil {
		t.Fatal(err)
	}
	var pub []byte
	for _, k := range e.keys.PublicKeys(time.Now()) {
		pub = []byte(k)
	}
	hs, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(pub)
	if err != nil {
		t.Fatal(err)
	}
	// Tampered: another subject in the payload, signature kept.
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	forged := strings.Replace(string(payload), u.Name, "admin", 1)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(forged)) + "." + parts[2]
	// Revoked: logged out.
	revoked := e.Login(t, u.Name, u.Password)
	if r := e.Do(t, "POST", api+"/logout", revoked, "", ""); r.Status != 200 {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	// A login ticket is not an access token either.
	ticket, _, err := e.tokens.IssuePurpose(ctx, u.JID, "mfa-totp", time.Minute)
	if err != nil {
		t.Fatal(err)
	}

	tokens := []struct{ name, token string }{
		{"expired", expired},
		{"wrong-key", wrongKey},
		{"alg-none", none},
		{"alg-hs256", hs},
		{"tampered", tampered},
		{"revoked", revoked},
		{"ticket", ticket},
		{"garbage", "eyJ.x.y"},
	}
	endpoints := []struct{ method, path string }{
		{"GET", api + "/webauthn/credentials"},
		{"DELETE", api + "/totp/123456"},
		{"POST", api + "/logout"},
	}
	for _, tk := range tokens {
		t.Run(tk.name, func(t *testing.T) {
			for _, ep := range endpoints {
				for _, h := range []string{tk.token, "Bearer " + tk.token} {
					wantAuthError(t, e.Do(t, ep.method, ep.path, h, "", ""), 401, "unauthorized")
				}
			}
			if _, r := e.Open(t, tk.token, ""); r.Status != 401 {
				t.Fatalf("stream: %d %s, want 401", r.Status, r.Body)
			}
		})
	}
	// The good token still works everywhere.
	if r := e.Do(t, "GET", api+"/webauthn/credentials", good, "", ""); r.Status != 200 {
		t.Fatalf("good token: %d %s", r.Status, r.Body)
	}
	s, r := e.Open(t, good, "")
	if r.Status != 200 {
		t.Fatalf("stream with the good token: %d %s", r.Status, r.Body)
	}
	s.Close()
}

// passwordLoginPaths are the login operations on user (under api) that
// take a password: every one spends the per-address and per-user attempts
// and is refused while the user is locked out.
func passwordLoginPaths(user string) []string {
	return []string{
		"/login/" + user, "/register/" + user, "/totp/authenticate/" + user + "/123456",
	}
}

// passkeyLoginPaths are the passkey login operations on user: they spend
// the per-address attempts only, and are never locked out.
func passkeyLoginPaths(user string) []string {
	return []string{"/webauthn/authenticate/start/" + user, "/webauthn/authenticate/finish/" + user}
}

// loginPaths are all the login operations on user.
func loginPaths(user string) []string {
	return append(passwordLoginPaths(user), passkeyLoginPaths(user)...)
}

func TestIntegrationAuthRateLimit(t *testing.T) {
	t.Parallel()
	t.Run("per-ip", func(t *testing.T) {
		e := newAuthGateway(t, func(ac *gateway.AuthConfig, _ *auth.TOTPConfig) {
			ac.PerIP = gateway.RateLimit{Every: time.Hour, Burst: 3}
		})
		u := ejabberdtest.NewUser(t)
		v := ejabberdtest.NewUser(t)
		for range 3 {
			wantAuthError(t, e.Do(t, "POST", api+"/login/"+u.Name, "", "text/plain", "wrong password"), 401, "unauthorized")
		}
		// Every login operation of any user from this address is limited now.
		for _, path := range loginPaths(v.Name) {
			wantAuthError(t, e.Do(t, "POST", api+path, "", "text/plain", v.Password+"xxxx"), 429, "rate_limited")
		}
		// And so is a refresh, which spends the same attempts.
		wantAuthError(t, refresh(t, e.Client, "sgr_guess"), 429, "rate_limited")
	})
	t.Run("per-user", func(t *testing.T) {
		e := newAuthGateway(t, func(ac *gateway.AuthConfig, _ *auth.TOTPConfig) {
			ac.PerUser = gateway.RateLimit{Every: time.Hour, Burst: 2}
		})
		u := ejabberdtest.NewUser(t)
		v := ejabberdtest.NewUser(t)
		for range 2 {
			wantAuthError(t, e.Do(t, "POST", api+"/login/"+u.Name, "", "text/plain", "wrong password"), 401, "unauthorized")
		}
		// Even the right password waits; usernames are compared lowercased.
		wantAuthError(t, e.Do(t, "POST", api+"/login/"+strings.ToUpper(u.Name), "", "text/plain", u.Password), 429, "rate_limited")
		for _, path := range passwordLoginPaths(u.Name) {
			wantAuthError(t, e.Do(t, "POST", api+path, "", "text/plain", u.Password), 429, "rate_limited")
		}
		// Another user is not affected.
		authToken(t, e.Do(t, "POST", api+"/login/"+v.Name, "", "text/plain", v.Password))
	})
	t.Run("lockout", func(t *testing.T) {
		e := newAuthGateway(t, func(ac *gateway.AuthConfig, _ *auth.TOTPConfig) {
			ac.MaxFailures, ac.FailureWindow = 3, time.Hour
		})
		u := ejabberdtest.NewUser(t)
		v := ejabberdtest.NewUser(t)
		// A success clears earlier failures.
		for range 2 {
			wantAuthError(t, e.Do(t, "POST", api+"/login/"+u.Name, "", "text/plain", "wrong password"), 401, "unauthorized")
		}
		tok := authToken(t, e.Do(t, "POST", api+"/login/"+u.Name, "", "text/plain", u.Password))
		// Failures of every password-based login method count, and so
		// does a wrong password where a factor is added.
		wantAuthError(t, e.Do(t, "POST", api+"/login/"+u.Name, "", "text/plain", "wrong password"), 401, "unauthorized")
		wantAuthError(t, e.Do(t, "POST", api+"/totp/register/"+u.Name, tok, "text/plain", "wrong password"), 403, "forbidden")
		wantAuthError(t, e.Do(t, "POST", api+"/totp/authenticate/"+u.Name+"/123456", "", "text/plain", "wrong password"), 401, "unauthorized")
		// Locked: the right password is refused with 403 and Retry-After.
		for _, path := range passwordLoginPaths(u.Name) {
			wantAuthError(t, e.Do(t, "POST", api+path, "", "text/plain", u.Password), 403, "forbidden")
		}
		authToken(t, e.Do(t, "POST", api+"/login/"+v.Name, "", "text/plain", v.Password))
	})
	t.Run("parallel", func(t *testing.T) {
		// Concurrent guesses cannot overrun the per-user limit.
		e := newAuthGateway(t, func(ac *gateway.AuthConfig, _ *auth.TOTPConfig) {
			ac.PerUser = gateway.RateLimit{Every: time.Hour, Burst: 4}
		})
		u := ejabberdtest.NewUser(t)
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			counts = map[int]int{}
		)
		for range 10 {
			wg.Go(func() {
				r := e.Do(t, "POST", api+"/login/"+u.Name, "", "text/plain", "wrong password")
				mu.Lock()
				counts[r.Status]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if counts[401] != 4 || counts[429] != 6 {
			t.Fatalf("statuses %v, want 4×401 and 6×429", counts)
		}
	})
}

// TestIntegrationAuthLockoutByAddress: wrong passwords lock a user out at
// the address they came from, not everywhere (issue 24, design risk A);
// only many more, from all addresses together, lock the user's password
// logins everywhere; passkey logins are never locked, neither by failed
// passwords nor by the username's spent attempts.
func TestIntegrationAuthLockoutByAddress(t *testing.T) {
	t.Parallel()
	e := newAuthGateway(t, func(ac *gateway.AuthConfig, _ *auth.TOTPConfig) {
		ac.MaxFailures, ac.MaxUserFailures, ac.FailureWindow = 3, 8, time.Hour
	})
	u := ejabberdtest.NewUser(t)
	attacker, victim := e.From(t, "127.0.0.2"), e.From(t, "127.0.0.3")
	// u has a passkey (added before the attack).
	d := e.registerPasskey(t, u, e.Login(t, u.Name, u.Password), "phone", true)
	passkeyLogin := func(t *testing.T, from *gatewaytest.Client) {
		t.Helper()
		_, resp := e.assertion(t, u.Name, d)
		authToken(t, from.Do(t, "POST", api+"/webauthn/authenticate/finish/"+u.Name, "", "application/json", resp))
	}
	wrong := func(t *testing.T, from *gatewaytest.Client, n int) {
		t.Helper()
		for range n {
			wantAuthError(t, from.Do(t, "POST", api+"/login/"+u.Name, "", "text/plain", "wrong password"), 401, "unauthorized")
		}
	}

	t.Run("pair", func(t *testing.T) {
		wrong(t, attacker, 3)
		wantAuthError(t, attacker.Do(t, "POST", api+"/login/"+u.Name, "", "text/plain", u.Password), 403, "forbidden")
		// The user, from another address, logs in as ever.
		authToken(t, victim.Do(t, "POST", api+"/login/"+u.Name, "", "text/plain", u.Password))
		// And so does a passkey from the locked address.
		passkeyLogin(t, attacker)
	})
	t.Run("passkey-failures-do-not-count", func(t *testing.T) {
		from := e.From(t, "127.0.0.4")
		for range 5 {
			wantAuthError(t, from.Do(t, "POST", api+"/webauthn/authenticate/finish/"+u.Name+"?ceremony=x", "", "application/json", `{}`), 401, "unauthorized")
		}
		authToken(t, from.Do(t, "POST", api+"/login/"+u.Name, "", "text/plain", u.Password))
	})
	t.Run("user", func(t *testing.T) {
		// 3 failures so far (the attacker's); 5 more from two fresh
		// addresses, each below its own pair limit, reach 8.
		wrong(t, e.From(t, "127.0.0.5"), 2)
		wrong(t, e.From(t, "127.0.0.6"), 2)
		wrong(t, e.From(t, "127.0.0.7"), 1)
		for _, path := range passwordLoginPaths(u.Name) {
			wantAuthError(t, e.From(t, "127.0.0.8").Do(t, "POST", api+path, "", "text/plain", u.Password), 403, "forbidden")
		}
		passkeyLogin(t, e.From(t, "127.0.0.8"))
	})
	t.Run("user-attempts-spent", func(t *testing.T) {
		e := newAuthGateway(t, func(ac *gateway.AuthConfig, _ *auth.TOTPConfig) {
			ac.PerUser = gateway.RateLimit{Every: time.Hour, Burst: 2}
		})
		u := ejabberdtest.NewUser(t)
		// The login and the start of adding the passkey spend both attempts.
		d := e.registerPasskey(t, u, e.Login(t, u.Name, u.Password), "phone", true)
		wantAuthError(t, e.From(t, "127.0.0.2").Do(t, "POST", api+"/login/"+u.Name, "", "text/plain", "wrong password"), 429, "rate_limited")
		_, resp := e.assertion(t, u.Name, d)
		authToken(t, e.Do(t, "POST", api+"/webauthn/authenticate/finish/"+u.Name, "", "application/json", resp))
	})
}

func TestIntegrationAuthFactorsOff(t *testing.T) {
	t.Parallel()
	// Without TOTP and passkeys their login operations answer 501 before
	// the limits: they spend none of the address's attempts.
	e := newGateway(t, func(c *gateway.Config) {
		c.Auth.PerIP = gateway.RateLimit{Every: time.Hour, Burst: 1}
	})
	u := ejabberdtest.NewUser(t)
	for _, path := range loginPaths(u.Name)[2:] { // the TOTP and passkey ones
		wantAuthError(t, e.Do(t, "POST", api+path, "", "text/plain", u.Password), 501, "not_implemented")
	}
	tok := e.Login(t, u.Name, u.Password)
	// Signed in, the user's own TOTP and passkey operations say so too.
	for _, op := range []struct{ method, path, body string }{
		{"GET", "/totp", ""},
		{"POST", "/totp/recovery", u.Password},
		{"POST", "/totp/register/" + u.Name, u.Password},
		{"GET", "/webauthn/credentials", ""},
	} {
		ct := ""
		if op.body != "" {
			ct = "text/plain"
		}
		wantAuthError(t, e.Do(t, op.method, api+op.path, tok, ct, op.body), 501, "not_implemented")
	}
	wantAuthError(t, e.Do(t, "POST", api+"/login/"+u.Name, "", "text/plain", u.Password), 429, "rate_limited")
}
