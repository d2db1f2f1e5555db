package auth_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/descope/virtualwebauthn"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/internal/passkeytest"
	"github.com/sparkgate/sparkgate/store"
)

// TestPasskeysWithSQLite registers a passkey and logs in with it over the
// real store, then again after reopening it; a discoverable login's
// assertion, spent in the store, is refused after the reopening too.
func TestPasskeysWithSQLite(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "sparkgate.db")
	keys, err := auth.LoadOrCreateKeys(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rp := virtualwebauthn.RelyingParty{ID: "localhost", Name: "sparkgate", Origin: "https://localhost"}
	open := func() (*store.SQLite, *auth.Passkeys) {
		st, err := store.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		p, err := auth.NewPasskeys(auth.PasskeysConfig{RPID: rp.ID, RPDisplayName: rp.Name, RPOrigins: []string{rp.Origin}, Store: st, Ceremonies: st, Keys: keys})
		if err != nil {
			t.Fatal(err)
		}
		return st, p
	}
	st, p := open()

	id, opts, err := p.BeginRegistration(ctx, "alice@x")
	if err != nil {
		t.Fatal(err)
	}
	ao, err := virtualwebauthn.ParseAttestationOptions(string(opts))
	if err != nil {
		t.Fatal(err)
	}
	authn := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: []byte(ao.UserID)})
	cred := passkeytest.Credential(t)
	resp := virtualwebauthn.CreateAttestationResponse(rp, authn, cred, *ao)
	if _, err := p.FinishRegistration(ctx, "alice@x", id, []byte(resp), "laptop"); err != nil {
		t.Fatal(err)
	}
	st.Close()

	st, p = open()
	var last []byte
	for i, counter := range []uint32{1, 2} {
		cred.Counter = counter
		id, opts, err := p.BeginLogin(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		aso, err := virtualwebauthn.ParseAssertionOptions(string(opts))
		if err != nil {
			t.Fatal(err)
		}
		resp := virtualwebauthn.CreateAssertionResponse(rp, authn, cred, *aso)
		if user, err := p.FinishLogin(ctx, id, []byte(resp)); err != nil || user != "alice@x" {
			t.Errorf("login %d = %q, %v", i, user, err)
		}
		last = []byte(resp)
	}
	st.Close()
	st, p = open()
	defer st.Close()
	if _, err := p.FinishLogin(ctx, "", last); !errors.Is(err, auth.ErrCeremony) {
		t.Errorf("the last assertion again, after a reopening = %v, want ErrCeremony", err)
	}
	list, err := p.List(ctx, "alice@x")
	if err != nil || len(list) != 1 || list[0].Name != "laptop" || list[0].LastUsedAt.IsZero() {
		t.Errorf("List = %+v, %v", list, err)
	}
}
