package auth

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

// forge signs claims with the given method and key, setting kid when not
// empty.
func forge(t testing.TB, m jwt.SigningMethod, key any, kid string, c jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// goodClaims are claims that Verify accepts at the clock's time.
func goodClaims(now time.Time) *wireClaims {
	return &wireClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   "alice@example.org",
			ID:        "jti-1",
			Issuer:    testIss,
			Audience:  jwt.ClaimStrings{testAud},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
		},
		AMR: []string{MethodPassword},
	}
}

func TestIssueVerify(t *testing.T) {
	ctx := t.Context()
	clock := newClock()
	tk, _ := newTokens(t, clock)
	tok, claims, err := tk.Issue(ctx, "alice@example.org", MethodTOTP)
	if err != nil {
		t.Fatal(err)
	}
	want := Claims{
		Subject:   "alice@example.org",
		ID:        claims.ID,
		Issuer:    testIss,
		Audience:  []string{testAud},
		IssuedAt:  t0,
		NotBefore: t0,
		ExpiresAt: t0.Add(DefaultLifetime),
		Method:    MethodTOTP,
		KeyID:     tk.keys.CurrentKeyID(),
	}
	if d := cmp.Diff(want, claims); d != "" {
		t.Errorf("Issue claims (-want +got):\n%s", d)
	}
	if len(claims.ID) < 20 {
		t.Errorf("jti %q too short", claims.ID)
	}
	clock.Advance(time.Hour)
	got, err := tk.Verify(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Verify claims (-want +got):\n%s", d)
	}
	_, c2, _ := tk.Issue(ctx, "alice@example.org", MethodPassword)
	if c2.ID == claims.ID {
		t.Error("two tokens share a jti")
	}
	if _, _, err := tk.Issue(ctx, "alice@example.org", "magic"); err == nil {
		t.Error("unknown method accepted")
	}
	if _, _, err := tk.Issue(ctx, "", MethodPassword); err == nil {
		t.Error("empty user accepted")
	}
}

// TestVerifyAttacks is the attack matrix: every row must fail with the
// given sentinel.
func TestVerifyAttacks(t *testing.T) {
	ctx := t.Context()
	clock := newClock()
	tk, _ := newTokens(t, clock)
	kid, priv := tk.keys.current()
	pub := priv.Public().(ed25519.PublicKey)
	_, otherPriv, _ := ed25519.GenerateKey(nil)
	now := clock.Now()

	mod := func(f func(c *wireClaims)) *wireClaims {
		c := goodClaims(now)
		f(c)
		return c
	}
	valid := forge(t, jwt.SigningMethodEdDSA, priv, kid, goodClaims(now))
	if _, err := tk.Verify(ctx, valid); err != nil {
		t.Fatalf("control token rejected: %v", err)
	}
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	parts := strings.Split(valid, ".")
	otherPayload := forge(t, jwt.SigningMethodEdDSA, priv, kid, mod(func(c *wireClaims) { c.Subject = "mallory@example.org" }))

	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"empty", "", ErrInvalidToken},
		{"garbage", "not.a.jwt", ErrInvalidToken},
		{"alg-none", forge(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, kid, goodClaims(now)), ErrInvalidToken},
		{"hs256-with-public-key", forge(t, jwt.SigningMethodHS256, []byte(pub), kid, goodClaims(now)), ErrInvalidToken},
		{"hs256-with-public-key-no-kid", forge(t, jwt.SigningMethodHS256, []byte(pub), "", goodClaims(now)), ErrInvalidToken},
		{"wrong-kid", forge(t, jwt.SigningMethodEdDSA, priv, "nope", goodClaims(now)), ErrInvalidToken},
		{"missing-kid", forge(t, jwt.SigningMethodEdDSA, priv, "", goodClaims(now)), ErrInvalidToken},
		{"other-key-our-kid", forge(t, jwt.SigningMethodEdDSA, otherPriv, kid, goodClaims(now)), ErrInvalidToken},
		{"tampered-signature", flip(valid, len(valid)-5), ErrInvalidToken},
		{"tampered-payload", parts[0] + "." + strings.Split(otherPayload, ".")[1] + "." + parts[2], ErrInvalidToken},
		{"signature-stripped", parts[0] + "." + parts[1] + ".", ErrInvalidToken},
		{"expired", forge(t, jwt.SigningMethodEdDSA, priv, kid, mod(func(c *wireClaims) {
			c.IssuedAt = jwt.NewNumericDate(now.Add(-2 * time.Hour))
			c.NotBefore = c.IssuedAt
			c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Second))
		})), ErrExpired},
		{"nbf-in-future", forge(t, jwt.SigningMethodEdDSA, priv, kid, mod(func(c *wireClaims) { c.NotBefore = jwt.NewNumericDate(now.Add(time.Minute)) })), ErrInvalidToken},
		{"iat-in-future", forge(t, jwt.SigningMethodEdDSA, priv, kid, mod(func(c *wireClaims) { c.IssuedAt = jwt.NewNumericDate(now.Add(time.Minute)) })), ErrInvalidToken},
		{"missing-exp", forge(t, jwt.SigningMethodEdDSA, priv, kid, mod(func(c *wireClaims) { c.ExpiresAt = nil })), ErrInvalidToken},
		{"missing-iat", forge(t, jwt.SigningMethodEdDSA, priv, kid, mod(func(c *wireClaims) { c.IssuedAt = nil })), ErrInvalidToken},
		{"missing-nbf", forge(t, jwt.SigningMethodEdDSA, priv, kid, mod(func(c *wireClaims) { c.NotBefore = nil })), ErrInvalidToken},
		{"missing-sub", forge(t, jwt.SigningMethodEdDSA, priv, kid, mod(func(c *wireClaims) { c.Subject = "" })), ErrInvalidToken},
		{"missing-jti", forge(t, jwt.SigningMethodEdDSA, priv, kid, mod(func(c *wireClaims) { c.ID = "" })), ErrInvalidToken},
		{"missing-amr", forge(t, jwt.SigningMethodEdDSA, priv, kid, mod(func(c *wireClaims) { c.AMR = nil })), ErrInvalidToken},
		{"wrong-aud", forge(t, jwt.SigningMethodEdDSA, priv, kid, mod(func(c *wireClaims) { c.Audience = jwt.ClaimStrings{"other"} })), ErrInvalidToken},
		{"missing-aud", forge(t, jwt.SigningMethodEdDSA, priv, kid, mod(func(c *wireClaims) { c.Audience = nil })), ErrInvalidToken},
		{"wrong-iss", forge(t, jwt.SigningMethodEdDSA, priv, kid, mod(func(c *wireClaims) { c.Issuer = "https://evil.example" })), ErrInvalidToken},
		{"purpose-token-as-access", forge(t, jwt.SigningMethodEdDSA, priv, kid, mod(func(c *wireClaims) { c.Purpose = "sse"; c.AMR = nil })), ErrInvalidToken},
		{"too-long", valid + strings.Repeat("A", maxTokenLen), ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tk.Verify(ctx, tt.token)
			if !errors.Is(err, tt.want) || !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("Verify = %+v, %v; want %v (and ErrInvalidToken)", c, err, tt.want)
			}
			if !cmp.Equal(c, Claims{}) {
				t.Errorf("claims returned with error: %+v", c)
			}
		})
	}
}

func TestAudienceList(t *testing.T) {
	clock := newClock()
	tk, _ := newTokens(t, clock)
	kid, priv := tk.keys.current()
	c := goodClaims(clock.Now())
	c.Audience = jwt.ClaimStrings{"other", testAud}
	if _, err := tk.Verify(t.Context(), forge(t, jwt.SigningMethodEdDSA, priv, kid, c)); err != nil {
		t.Errorf("aud list containing ours rejected: %v", err)
	}
}

func TestExpiryAndLeeway(t *testing.T) {
	ctx := t.Context()
	clock := newClock()
	tk, _ := newTokens(t, clock, func(c *TokensConfig) { c.Lifetime = time.Hour; c.Leeway = 30 * time.Second })
	tok, _, err := tk.Issue(ctx, "a@x", MethodPassword)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour + 20*time.Second) // within leeway
	if _, err := tk.Verify(ctx, tok); err != nil {
		t.Errorf("within leeway: %v", err)
	}
	clock.Advance(20 * time.Second)
	if _, err := tk.Verify(ctx, tok); !errors.Is(err, ErrExpired) {
		t.Errorf("after leeway: %v, want ErrExpired", err)
	}
}

func TestRevoke(t *testing.T) {
	ctx := t.Context()
	clock := newClock()
	tk, st := newTokens(t, clock)
	tok, c, _ := tk.Issue(ctx, "a@x", MethodPassword)
	other, _, _ := tk.Issue(ctx, "a@x", MethodPassword)
	if err := tk.Revoke(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Verify(ctx, tok); !errors.Is(err, ErrRevoked) || !errors.Is(err, ErrInvalidToken) {
		t.Errorf("revoked token: %v, want ErrRevoked and ErrInvalidToken", err)
	}
	if _, err := tk.Verify(ctx, other); err != nil {
		t.Errorf("sibling token: %v", err)
	}
	if got := st.revoked[c.ID]; !got.Equal(c.ExpiresAt) {
		t.Errorf("revocation kept until %v, want exp %v", got, c.ExpiresAt)
	}
	if err := tk.Revoke(ctx, Claims{}); err == nil {
		t.Error("Revoke without jti succeeded")
	}
}

// TestRecheck: claims Verify accepted are checked again later, as Verify
// would check their token then: revoked, expired past the leeway.
func TestRecheck(t *testing.T) {
	ctx := t.Context()
	clock := newClock()
	tk, _ := newTokens(t, clock, func(c *TokensConfig) { c.Lifetime = time.Hour; c.Leeway = 30 * time.Second })
	_, kept, _ := tk.Issue(ctx, "a@x", MethodPassword)
	_, out, _ := tk.Issue(ctx, "b@x", MethodPassword)
	_, all, _ := tk.Issue(ctx, "c@x", MethodPassword)
	if err := tk.Recheck(ctx, kept); err != nil {
		t.Fatalf("fresh claims: %v", err)
	}
	if err := tk.Revoke(ctx, out); err != nil {
		t.Fatal(err)
	}
	if err := tk.RevokeUser(ctx, "c@x", clock.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []Claims{out, all} {
		if err := tk.Recheck(ctx, c); !errors.Is(err, ErrRevoked) || !errors.Is(err, ErrInvalidToken) {
			t.Errorf("revoked %s: %v, want ErrRevoked and ErrInvalidToken", c.Subject, err)
		}
	}
	clock.Advance(time.Hour + 20*time.Second) // within leeway
	if err := tk.Recheck(ctx, kept); err != nil {
		t.Errorf("within leeway: %v", err)
	}
	clock.Advance(20 * time.Second)
	if err := tk.Recheck(ctx, kept); !errors.Is(err, ErrExpired) {
		t.Errorf("after leeway: %v, want ErrExpired", err)
	}
}

func TestRevokeUser(t *testing.T) {
	ctx := t.Context()
	clock := newClock()
	tk, _ := newTokens(t, clock)
	old, _, _ := tk.Issue(ctx, "a@x", MethodPassword)
	bob, _, _ := tk.Issue(ctx, "b@x", MethodPassword)
	clock.Advance(400 * time.Millisecond) // same second as the old token
	if err := tk.RevokeUser(ctx, "a@x", clock.Now()); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Millisecond)
	fresh, _, _ := tk.Issue(ctx, "a@x", MethodPassword)

	for _, tt := range []struct {
		name, tok string
		want      error
	}{
		{"before-cutoff", old, ErrRevoked},
		{"after-cutoff-same-second", fresh, nil},
		{"other-user", bob, nil},
	} {
		if _, err := tk.Verify(ctx, tt.tok); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestRotation(t *testing.T) {
	ctx := t.Context()
	clock := newClock()
	tk, _ := newTokens(t, clock, func(c *TokensConfig) { c.Lifetime = time.Hour })
	oldTok, oldC, _ := tk.Issue(ctx, "a@x", MethodPassword)
	clock.Advance(30 * time.Minute)
	if err := tk.RotateKey(); err != nil {
		t.Fatal(err)
	}
	newTok, newC, _ := tk.Issue(ctx, "a@x", MethodPassword)
	if newC.KeyID == oldC.KeyID {
		t.Fatal("kid unchanged after rotation")
	}
	for _, tok := range []string{oldTok, newTok} {
		if _, err := tk.Verify(ctx, tok); err != nil {
			t.Errorf("right after rotation: %v", err)
		}
	}

	// A token of the retired key that claims a long life (forged with the
	// retired private key, e.g. leaked) dies with the key's grace.
	_, oldPriv := func() (string, ed25519.PrivateKey) { return oldC.KeyID, tk.keys.signing[0].priv }()
	long := goodClaims(clock.Now().Add(-30 * time.Minute))
	long.ExpiresAt = jwt.NewNumericDate(clock.Now().Add(24 * time.Hour))
	longTok := forge(t, jwt.SigningMethodEdDSA, oldPriv, oldC.KeyID, long)
	if _, err := tk.Verify(ctx, longTok); err != nil {
		t.Errorf("within grace: %v", err)
	}
	clock.Advance(time.Hour) // grace (Lifetime) since rotation is over
	if _, err := tk.Verify(ctx, longTok); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("retired key after grace: %v, want ErrInvalidToken", err)
	}
	if _, err := tk.Verify(ctx, oldTok); err == nil {
		t.Error("old token still valid")
	}
	fresh, _, _ := tk.Issue(ctx, "a@x", MethodPassword)
	if _, err := tk.Verify(ctx, fresh); err != nil {
		t.Errorf("new key after grace: %v", err)
	}
}

func TestPurposeTokens(t *testing.T) {
	ctx := t.Context()
	clock := newClock()
	tk, _ := newTokens(t, clock)
	sse, c, err := tk.IssuePurpose(ctx, "a@x", "sse", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if c.Purpose != "sse" || c.Method != "" || !c.ExpiresAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("claims = %+v", c)
	}
	reply, _, _ := tk.IssuePurpose(ctx, "a@x", "push-reply", time.Minute)

	tests := []struct {
		name, tok, purpose string
		want               error
	}{
		{"ok", sse, "sse", nil},
		{"reusable", sse, "sse", nil},
		{"wrong-purpose", sse, "push-reply", ErrInvalidToken},
		{"empty-purpose", sse, "", ErrInvalidToken},
		{"single-use-first", reply, "push-reply", nil},
		{"single-use-again", reply, "push-reply", ErrRevoked},
	}
	for _, tt := range tests {
		if _, err := tk.VerifyPurpose(ctx, tt.tok, tt.purpose); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := tk.Verify(ctx, sse); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("purpose token accepted by Verify: %v", err)
	}
	access, _, _ := tk.Issue(ctx, "a@x", MethodPassword)
	if _, err := tk.VerifyPurpose(ctx, access, "sse"); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("access token accepted by VerifyPurpose: %v", err)
	}
	clock.Advance(time.Minute)
	if _, err := tk.VerifyPurpose(ctx, sse, "sse"); !errors.Is(err, ErrExpired) {
		t.Errorf("expired purpose token: %v", err)
	}
	for _, ttl := range []time.Duration{0, -time.Second, DefaultLifetime + time.Second} {
		if _, _, err := tk.IssuePurpose(ctx, "a@x", "sse", ttl); err == nil {
			t.Errorf("ttl %v accepted", ttl)
		}
	}
	if _, _, err := tk.IssuePurpose(ctx, "a@x", "", time.Minute); err == nil {
		t.Error("empty purpose accepted")
	}
}

func TestNewTokensConfig(t *testing.T) {
	k := newKeys(t)
	st := newMemStore()
	for name, cfg := range map[string]TokensConfig{
		"no-keys":     {Store: st, Audience: "a", Issuer: "i"},
		"no-store":    {Keys: k, Audience: "a", Issuer: "i"},
		"no-audience": {Keys: k, Store: st, Issuer: "i"},
		"no-issuer":   {Keys: k, Store: st, Audience: "a"},
		"negative":    {Keys: k, Store: st, Audience: "a", Issuer: "i", Lifetime: -1},
	} {
		if _, err := NewTokens(cfg); err == nil {
			t.Errorf("%s: NewTokens succeeded", name)
		}
	}
	tk, err := NewTokens(TokensConfig{Keys: k, Store: st, Audience: "a", Issuer: "i"})
	if err != nil || tk.Lifetime() != DefaultLifetime {
		t.Errorf("defaults: %v, lifetime %v", err, tk.Lifetime())
	}
}

func TestParseAuthorization(t *testing.T) {
	const jwtish = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhIn0.c2ln-_"
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"Bearer " + jwtish, jwtish, true},
		{"bearer " + jwtish, jwtish, true},
		{"BEARER   " + jwtish + "  ", jwtish, true},
		{jwtish, jwtish, true},
		{" " + jwtish, jwtish, true},
		{"", "", false},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Basic YWxpY2U6c2VjcmV0", "", false},
		{"Token " + jwtish, "", false},
		{"Bearer a.b", "", false},
		{"Bearer a..c", "", false},
		{"Bearer a.b.c.d", "", false},
		{"Bearer a.b.c=", "", false},
		{"Bearer a b.c.d", "", false},
		{jwtish + "\n", jwtish, true},
		{"a.b.c\x00", "", false},
	}
	for i, tt := range tests {
		got, ok := ParseAuthorization(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%d: ParseAuthorization(%q) = %q, %v; want %q, %v", i, tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestClaimsLogValue(t *testing.T) {
	clock := newClock()
	tk, _ := newTokens(t, clock)
	tok, c, _ := tk.Issue(t.Context(), "a@x", MethodPassword)
	var buf bytes.Buffer
	logTo(&buf).Info("login", "claims", c)
	if strings.Contains(buf.String(), strings.Split(tok, ".")[2]) || !strings.Contains(buf.String(), "a@x") {
		t.Errorf("log line: %s", buf.String())
	}
}

// TestRotateWhileVerifying issues and verifies from several goroutines
// while keys rotate: every token stays valid (all within grace), and the
// race detector watches the key set.
func TestRotateWhileVerifying(t *testing.T) {
	ctx := t.Context()
	clock := newClock()
	tk, _ := newTokens(t, clock)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				tok, _, err := tk.Issue(ctx, "a@x", MethodPassword)
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := tk.Verify(ctx, tok); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for range 5 {
		if err := tk.RotateKey(); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if n := len(tk.keys.PublicKeys(clock.Now())); n != 6 {
		t.Errorf("%d verifying keys, want 6", n)
	}
}
