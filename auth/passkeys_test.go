package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/sparkgate/sparkgate/internal/passkeytest"
)

const origin = "http://localhost:8443"

var testRP = virtualwebauthn.RelyingParty{ID: "localhost", Name: "sparkgate", Origin: origin}

func newPasskeys(t testing.TB, clock *fakeClock, mod ...func(*PasskeysConfig)) (*Passkeys, *memStore) {
	t.Helper()
	st := newMemStore()
	cfg := PasskeysConfig{
		RPID:          "localhost",
		RPDisplayName: "sparkgate",
		RPOrigins:     []string{origin},
		Store:         st,
		Clock:         clock.Now,
		Logger:        testLogger(t),
	}
	for _, f := range mod {
		f(&cfg)
	}
	p, err := NewPasskeys(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p, st
}

// device is a virtual authenticator holding one credential.
type device struct {
	authn virtualwebauthn.Authenticator
	cred  virtualwebauthn.Credential
}

// register runs a full registration ceremony for user and returns the
// device that now holds the passkey.
func register(t testing.TB, p *Passkeys, user string) *device {
	t.Helper()
	ctx := t.Context()
	id, opts, err := p.BeginRegistration(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	ao, err := virtualwebauthn.ParseAttestationOptions(string(opts))
	if err != nil {
		t.Fatal(err)
	}
	d := &device{
		authn: virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: []byte(ao.UserID)}),
		cred:  passkeytest.Credential(t),
	}
	resp := virtualwebauthn.CreateAttestationResponse(testRP, d.authn, d.cred, *ao)
	if _, err := p.FinishRegistration(ctx, user, id, []byte(resp), "test key"); err != nil {
		t.Fatalf("FinishRegistration: %v", err)
	}
	d.authn.AddCredential(d.cred)
	return d
}

// assert begins a login for user ("" = discoverable) and returns the
// ceremony id and the device's signed response.
func (d *device) assert(t testing.TB, p *Passkeys, user string) (string, []byte) {
	t.Helper()
	id, opts, err := p.BeginLogin(t.Context(), user)
	if err != nil {
		t.Fatal(err)
	}
	aso, err := virtualwebauthn.ParseAssertionOptions(string(opts))
	if err != nil {
		t.Fatal(err)
	}
	return id, []byte(virtualwebauthn.CreateAssertionResponse(testRP, d.authn, d.cred, *aso))
}

func TestPasskeyRegisterAndLogin(t *testing.T) {
	ctx := t.Context()
	clock := newClock()
	p, _ := newPasskeys(t, clock)
	d := register(t, p, "alice@x")

	for _, user := range []string{"alice@x", ""} { // by name, then discoverable
		id, resp := d.assert(t, p, user)
		got, err := p.FinishLogin(ctx, id, resp)
		if err != nil || got != "alice@x" {
			t.Errorf("FinishLogin(user=%q) = %q, %v", user, got, err)
		}
	}
	list, err := p.List(ctx, "alice@x")
	if err != nil || len(list) != 1 {
		t.Fatalf("List = %v, %v", list, err)
	}
	if list[0].Name != "test key" || list[0].ID != base64.RawURLEncoding.EncodeToString(d.cred.ID) ||
		!list[0].LastUsedAt.Equal(t0) || list[0].AAGUID == "" {
		t.Errorf("List[0] = %+v", list[0])
	}
	if p.pending() != 0 {
		t.Errorf("%d ceremonies left pending", p.pending())
	}
}

func TestPasskeySeveralPerUser(t *testing.T) {
	ctx := t.Context()
	clock := newClock()
	p, _ := newPasskeys(t, clock)
	d1 := register(t, p, "alice@x")

	// The second registration excludes the first credential.
	_, opts, err := p.BeginRegistration(ctx, "alice@x")
	if err != nil {
		t.Fatal(err)
	}
	ao, _ := virtualwebauthn.ParseAttestationOptions(string(opts))
	if len(ao.ExcludeCredentials) != 1 {
		t.Errorf("excludeCredentials = %v", ao.ExcludeCredentials)
	}
	d2 := register(t, p, "alice@x")
	for i, d := range []*device{d1, d2} {
		id, resp := d.assert(t, p, "alice@x")
		if _, err := p.FinishLogin(ctx, id, resp); err != nil {
			t.Errorf("device %d: %v", i, err)
		}
	}
	list, _ := p.List(ctx, "alice@x")
	if len(list) != 2 {
		t.Fatalf("List = %d passkeys", len(list))
	}
	if err := p.Remove(ctx, "bob@x", list[0].ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Remove of another user's passkey = %v", err)
	}
	if err := p.Remove(ctx, "alice@x", "!!"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Remove of a malformed id = %v", err)
	}
	if err := p.Remove(ctx, "alice@x", list[0].ID); err != nil {
		t.Fatal(err)
	}
	id, resp := d1.assert(t, p, "")
	if _, err := p.FinishLogin(ctx, id, resp); !errors.Is(err, ErrPasskeyInvalid) {
		t.Errorf("login with a removed passkey = %v", err)
	}
}

func TestPasskeyRefusals(t *testing.T) {
	ctx := t.Context()
	clock := newClock()
	p, _ := newPasskeys(t, clock)
	d := register(t, p, "alice@x")
	register(t, p, "bob@x")

	t.Run("replay-same-ceremony", func(t *testing.T) {
		id, resp := d.assert(t, p, "alice@x")
		if _, err := p.FinishLogin(ctx, id, resp); err != nil {
			t.Fatal(err)
		}
		if _, err := p.FinishLogin(ctx, id, resp); !errors.Is(err, ErrCeremony) {
			t.Errorf("replay = %v, want ErrCeremony", err)
		}
	})
	t.Run("replay-into-new-ceremony", func(t *testing.T) {
		_, old := d.assert(t, p, "alice@x")
		id, _, err := p.BeginLogin(ctx, "alice@x")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.FinishLogin(ctx, id, old); !errors.Is(err, ErrPasskeyInvalid) {
			t.Errorf("old assertion = %v, want ErrPasskeyInvalid", err)
		}
	})
	t.Run("failed-finish-consumes-ceremony", func(t *testing.T) {
		id, resp := d.assert(t, p, "alice@x")
		if _, err := p.FinishLogin(ctx, id, []byte("{}")); !errors.Is(err, ErrPasskeyInvalid) {
			t.Fatalf("garbage = %v", err)
		}
		if _, err := p.FinishLogin(ctx, id, resp); !errors.Is(err, ErrCeremony) {
			t.Errorf("retry after failure = %v, want ErrCeremony", err)
		}
	})
	t.Run("tampered-signature", func(t *testing.T) {
		id, resp := d.assert(t, p, "alice@x")
		if _, err := p.FinishLogin(ctx, id, tamper(t, resp, "signature")); !errors.Is(err, ErrPasskeyInvalid) {
			t.Errorf("tampered signature = %v", err)
		}
	})
	t.Run("tampered-authenticator-data", func(t *testing.T) {
		id, resp := d.assert(t, p, "alice@x")
		if _, err := p.FinishLogin(ctx, id, tamper(t, resp, "authenticatorData")); !errors.Is(err, ErrPasskeyInvalid) {
			t.Errorf("tampered authenticatorData = %v", err)
		}
	})
	t.Run("wrong-origin", func(t *testing.T) {
		id, opts, _ := p.BeginLogin(ctx, "alice@x")
		aso, _ := virtualwebauthn.ParseAssertionOptions(string(opts))
		evil := testRP
		evil.Origin = "http://localhost:9999"
		resp := virtualwebauthn.CreateAssertionResponse(evil, d.authn, d.cred, *aso)
		if _, err := p.FinishLogin(ctx, id, []byte(resp)); !errors.Is(err, ErrPasskeyInvalid) {
			t.Errorf("wrong origin = %v", err)
		}
	})
	t.Run("someone-elses-ceremony", func(t *testing.T) {
		// Alice's device answers a login begun for bob.
		id, opts, _ := p.BeginLogin(ctx, "bob@x")
		aso, _ := virtualwebauthn.ParseAssertionOptions(string(opts))
		resp := virtualwebauthn.CreateAssertionResponse(testRP, d.authn, d.cred, *aso)
		if user, err := p.FinishLogin(ctx, id, []byte(resp)); !errors.Is(err, ErrPasskeyInvalid) {
			t.Errorf("alice's key on bob's login = %q, %v", user, err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		id, resp := d.assert(t, p, "alice@x")
		clock.Advance(DefaultCeremonyTTL)
		if _, err := p.FinishLogin(ctx, id, resp); !errors.Is(err, ErrCeremony) {
			t.Errorf("expired ceremony = %v, want ErrCeremony", err)
		}
	})
	t.Run("registration-for-another-user", func(t *testing.T) {
		id, opts, _ := p.BeginRegistration(ctx, "alice@x")
		ao, _ := virtualwebauthn.ParseAttestationOptions(string(opts))
		resp := virtualwebauthn.CreateAttestationResponse(testRP, d.authn, passkeytest.Credential(t), *ao)
		if _, err := p.FinishRegistration(ctx, "bob@x", id, []byte(resp), ""); !errors.Is(err, ErrCeremony) {
			t.Errorf("finish as bob = %v, want ErrCeremony", err)
		}
	})
	t.Run("login-ceremony-as-registration", func(t *testing.T) {
		id, resp := d.assert(t, p, "alice@x")
		if _, err := p.FinishRegistration(ctx, "alice@x", id, resp, ""); !errors.Is(err, ErrCeremony) {
			t.Errorf("= %v, want ErrCeremony", err)
		}
	})
	t.Run("duplicate-credential", func(t *testing.T) {
		id, opts, _ := p.BeginRegistration(ctx, "bob@x")
		ao, _ := virtualwebauthn.ParseAttestationOptions(string(opts))
		resp := virtualwebauthn.CreateAttestationResponse(testRP, d.authn, d.cred, *ao)
		if _, err := p.FinishRegistration(ctx, "bob@x", id, []byte(resp), ""); !errors.Is(err, ErrPasskeyInvalid) {
			t.Errorf("alice's credential registered for bob = %v", err)
		}
	})
	t.Run("no-passkeys", func(t *testing.T) {
		if _, _, err := p.BeginLogin(ctx, "carol@x"); !errors.Is(err, ErrNoPasskeys) {
			t.Errorf("BeginLogin = %v, want ErrNoPasskeys", err)
		}
	})
	t.Run("bad-name", func(t *testing.T) {
		id, opts, _ := p.BeginRegistration(ctx, "alice@x")
		ao, _ := virtualwebauthn.ParseAttestationOptions(string(opts))
		resp := virtualwebauthn.CreateAttestationResponse(testRP, d.authn, passkeytest.Credential(t), *ao)
		if _, err := p.FinishRegistration(ctx, "alice@x", id, []byte(resp), strings.Repeat("x", 65)); err == nil {
			t.Error("65-character name accepted")
		}
	})
}

// TestPasskeyCloneWarning: a sign count that goes backwards is refused and
// does not lower the stored count.
func TestPasskeyCloneWarning(t *testing.T) {
	ctx := t.Context()
	clock := newClock()
	p, st := newPasskeys(t, clock)
	d := register(t, p, "alice@x")

	d.cred.Counter = 5
	id, resp := d.assert(t, p, "alice@x")
	if _, err := p.FinishLogin(ctx, id, resp); err != nil {
		t.Fatalf("count 5: %v", err)
	}
	d.cred.Counter = 3
	id, resp = d.assert(t, p, "alice@x")
	if _, err := p.FinishLogin(ctx, id, resp); !errors.Is(err, ErrPasskeyInvalid) {
		t.Errorf("count 3 after 5 = %v, want ErrPasskeyInvalid", err)
	}
	var cred webauthn.Credential
	if err := json.Unmarshal(st.passkeys[0].Data, &cred); err != nil {
		t.Fatal(err)
	}
	if cred.Authenticator.SignCount != 5 {
		t.Errorf("stored sign count = %d, want 5", cred.Authenticator.SignCount)
	}
	d.cred.Counter = 6
	id, resp = d.assert(t, p, "alice@x")
	if _, err := p.FinishLogin(ctx, id, resp); err != nil {
		t.Errorf("count 6: %v", err)
	}
}

func TestPasskeyCeremonyBound(t *testing.T) {
	ctx := t.Context()
	clock := newClock()
	p, _ := newPasskeys(t, clock, func(c *PasskeysConfig) { c.MaxCeremonies = 3 })
	register(t, p, "alice@x")
	for range 3 {
		if _, _, err := p.BeginLogin(ctx, "alice@x"); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := p.BeginLogin(ctx, "alice@x"); !errors.Is(err, ErrTooManyCeremonies) {
		t.Errorf("fourth = %v, want ErrTooManyCeremonies", err)
	}
	if _, _, err := p.BeginRegistration(ctx, "bob@x"); !errors.Is(err, ErrTooManyCeremonies) {
		t.Errorf("a registration at the bound = %v, want ErrTooManyCeremonies", err)
	}
	// A discoverable start keeps nothing, so a full table does not stop it.
	if _, _, err := p.BeginLogin(ctx, ""); err != nil {
		t.Errorf("discoverable start at the bound = %v", err)
	}
	clock.Advance(DefaultCeremonyTTL)
	if _, _, err := p.BeginLogin(ctx, "alice@x"); err != nil {
		t.Errorf("after expiry = %v", err)
	}
	if p.pending() != 1 {
		t.Errorf("pending = %d, want 1 (expired ones swept)", p.pending())
	}
}

// TestPasskeyCeremoniesPerUser: one user's pending ceremonies are
// bounded: a start past the bound replaces that user's oldest, whose
// assertion then finds no ceremony, and leaves other users' alone.
func TestPasskeyCeremoniesPerUser(t *testing.T) {
	ctx := t.Context()
	clock := newClock()
	p, _ := newPasskeys(t, clock, func(c *PasskeysConfig) { c.MaxCeremoniesPerUser = 2 })
	d := register(t, p, "alice@x")
	if _, _, err := p.BeginRegistration(ctx, "bob@x"); err != nil {
		t.Fatal(err)
	}
	var ids []string
	var resps [][]byte
	for range 3 {
		clock.Advance(time.Second)
		id, resp := d.assert(t, p, "alice@x")
		ids, resps = append(ids, id), append(resps, resp)
	}
	if p.pending() != 3 {
		t.Fatalf("pending = %d, want alice's newest 2 and bob's registration", p.pending())
	}
	if _, err := p.FinishLogin(ctx, ids[0], resps[0]); !errors.Is(err, ErrCeremony) {
		t.Errorf("the replaced ceremony = %v, want ErrCeremony", err)
	}
	for i := 1; i < 3; i++ {
		if got, err := p.FinishLogin(ctx, ids[i], resps[i]); err != nil || got != "alice@x" {
			t.Errorf("ceremony %d = %q, %v", i, got, err)
		}
	}
}

// TestPasskeyDiscoverableKeepsNothing: a discoverable start keeps no
// ceremony (its challenge is sealed, discoverable.go), yet its assertion
// signs in once only, before the challenge expires, with the challenge
// as the start made it, on any Passkeys that shares the key.
func TestPasskeyDiscoverableKeepsNothing(t *testing.T) {
	ctx := t.Context()
	keys, err := LoadOrCreateKeys(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	clock := newClock()
	p, st := newPasskeys(t, clock, func(c *PasskeysConfig) { c.Keys = keys })
	d := register(t, p, "alice@x")

	for range 50 {
		if _, _, err := p.BeginLogin(ctx, ""); err != nil {
			t.Fatal(err)
		}
	}
	if p.pending() != 0 {
		t.Fatalf("%d ceremonies kept after 50 discoverable starts, want 0", p.pending())
	}

	t.Run("once", func(t *testing.T) {
		id, resp := d.assert(t, p, "")
		if got, err := p.FinishLogin(ctx, id, resp); err != nil || got != "alice@x" {
			t.Fatalf("first finish = %q, %v", got, err)
		}
		if _, err := p.FinishLogin(ctx, id, resp); !errors.Is(err, ErrCeremony) {
			t.Errorf("replayed = %v, want ErrCeremony", err)
		}
		if _, err := p.FinishLogin(ctx, "", resp); !errors.Is(err, ErrCeremony) {
			t.Errorf("replayed without the id = %v, want ErrCeremony", err)
		}
	})
	t.Run("another ceremony's id", func(t *testing.T) {
		other, _ := d.assert(t, p, "")
		_, resp := d.assert(t, p, "")
		if _, err := p.FinishLogin(ctx, other, resp); !errors.Is(err, ErrCeremony) {
			t.Errorf("finish naming another start = %v, want ErrCeremony", err)
		}
		// Refused before the passkey was checked: it is not spent.
		if got, err := p.FinishLogin(ctx, "", resp); err != nil || got != "alice@x" {
			t.Errorf("the same assertion without an id = %q, %v", got, err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		id, resp := d.assert(t, p, "")
		clock.Advance(DefaultCeremonyTTL)
		if _, err := p.FinishLogin(ctx, id, resp); !errors.Is(err, ErrCeremony) {
			t.Errorf("after the ceremony's lifetime = %v, want ErrCeremony", err)
		}
	})
	t.Run("challenge changed", func(t *testing.T) {
		// A client that moves its challenge's expiry on signs what it
		// changed, and the MAC no longer matches: no ceremony has it.
		_, opts, err := p.BeginLogin(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		aso, err := virtualwebauthn.ParseAssertionOptions(string(opts))
		if err != nil {
			t.Fatal(err)
		}
		if len(aso.Challenge) != sealedLen {
			t.Fatalf("challenge of %d bytes, want %d", len(aso.Challenge), sealedLen)
		}
		aso.Challenge[sealedNonceLen] ^= 0x40
		resp := virtualwebauthn.CreateAssertionResponse(testRP, d.authn, d.cred, *aso)
		if _, err := p.FinishLogin(ctx, "", []byte(resp)); !errors.Is(err, ErrCeremony) {
			t.Errorf("changed challenge = %v, want ErrCeremony", err)
		}
	})
	t.Run("another node", func(t *testing.T) {
		// One credential store and key directory, as nodes share them.
		mk := func(k *Keys) *Passkeys {
			q, err := NewPasskeys(PasskeysConfig{RPID: "localhost", RPDisplayName: "sparkgate", RPOrigins: []string{origin},
				Store: st, Clock: clock.Now, Keys: k, Logger: testLogger(t)})
			if err != nil {
				t.Fatal(err)
			}
			return q
		}
		id, resp := d.assert(t, p, "")
		if _, err := mk(nil).FinishLogin(ctx, id, resp); !errors.Is(err, ErrCeremony) {
			t.Errorf("finish where the key differs = %v, want ErrCeremony", err)
		}
		if got, err := mk(keys).FinishLogin(ctx, id, resp); err != nil || got != "alice@x" {
			t.Errorf("finish on a node sharing the key = %q, %v", got, err)
		}
	})
	t.Run("spent records bounded in memory", func(t *testing.T) {
		q, _ := newPasskeys(t, clock, func(c *PasskeysConfig) { c.MaxCeremonies = 2 })
		e := register(t, q, "bob@x")
		for i := range 3 {
			id, resp := e.assert(t, q, "")
			_, err := q.FinishLogin(ctx, id, resp)
			if i < 2 && err != nil || i == 2 && !errors.Is(err, ErrTooManyCeremonies) {
				t.Errorf("login %d = %v", i, err)
			}
		}
		clock.Advance(DefaultCeremonyTTL)
		id, resp := e.assert(t, q, "")
		if _, err := q.FinishLogin(ctx, id, resp); err != nil {
			t.Errorf("after the spent ones expired = %v", err)
		}
	})
}

func TestNewPasskeysConfig(t *testing.T) {
	st := newMemStore()
	for name, cfg := range map[string]PasskeysConfig{
		"no-store":   {RPID: "localhost", RPDisplayName: "x", RPOrigins: []string{origin}},
		"ip-rpid":    {RPID: "127.0.0.1", RPDisplayName: "x", RPOrigins: []string{origin}, Store: st},
		"no-origins": {RPID: "localhost", RPDisplayName: "x", Store: st},
		"negative":   {RPID: "localhost", RPDisplayName: "x", RPOrigins: []string{origin}, Store: st, CeremonyTTL: -time.Second},
	} {
		if _, err := NewPasskeys(cfg); err == nil {
			t.Errorf("%s: NewPasskeys succeeded", name)
		}
	}
}

// tamper flips one byte of a base64url field of the response.
func tamper(t testing.TB, resp []byte, field string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(resp, &m); err != nil {
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
	return out
}
