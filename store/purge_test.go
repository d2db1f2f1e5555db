package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/store"
	"github.com/sparkgate/sparkgate/webpush"
)

// give stores one of everything a user can own in the store.
func give(t *testing.T, s *store.SQLite, user string) {
	t.Helper()
	ctx := t.Context()
	steps := []func() error{
		func() error {
			return s.PutTOTPSecret(ctx, auth.TOTPSecret{User: user, Ciphertext: []byte("c"), Nonce: []byte("n"), CreatedAt: t0})
		},
		func() error { _, err := s.UseTOTPStep(ctx, user, 7, t0.Add(time.Hour)); return err },
		func() error { return s.AddTOTPFailure(ctx, user, t0) },
		func() error { _, err := s.WebAuthnHandle(ctx, user, []byte("h-"+user)); return err },
		func() error {
			return s.AddPasskeyCredential(ctx, auth.PasskeyCredential{User: user, ID: []byte("k-" + user), Name: "key", Data: []byte(`{}`), CreatedAt: t0})
		},
		func() error {
			return s.PutPushSubscription(ctx, webpush.Subscription{User: user, Resource: "phone", Endpoint: "https://push.example/" + user, P256dh: "p", Auth: "a"})
		},
		func() error {
			_, err := s.SetUserProperties(ctx, user, map[string]string{"color": "red"}, nil, 0)
			return err
		},
		func() error { return s.RevokeUserBefore(ctx, user, t0) },
		func() error {
			_, err := s.AddPushNode(ctx, webpush.PushNode{User: user, Node: "n-" + user, Secret: "s"})
			return err
		},
		func() error {
			return s.AddRefreshToken(ctx, auth.RefreshToken{Hash: []byte("r-" + user), Family: "f", User: user,
				Method: auth.MethodPassword, StartedAt: t0, IssuedAt: t0, ExpiresAt: t0.Add(time.Hour)})
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
}

// owns lists what user still owns in the store.
func owns(t *testing.T, s *store.SQLite, user string) []string {
	t.Helper()
	ctx := t.Context()
	var got []string
	if _, err := s.TOTPSecret(ctx, user); err == nil {
		got = append(got, "totp secret")
	}
	if fresh, err := s.UseTOTPStep(ctx, user, 7, t0.Add(time.Hour)); err != nil || !fresh {
		got = append(got, "totp used step")
	}
	if fs, err := s.TOTPFailures(ctx, user, t0.Add(-time.Hour)); err != nil || len(fs) > 0 {
		got = append(got, "totp failures")
	}
	if _, err := s.UserByWebAuthnHandle(ctx, []byte("h-"+user)); err == nil {
		got = append(got, "webauthn handle")
	}
	if pks, err := s.PasskeyCredentials(ctx, user); err != nil || len(pks) > 0 {
		got = append(got, "passkeys")
	}
	if subs, err := s.PushSubscriptions(ctx, user); err != nil || len(subs) > 0 {
		got = append(got, "push subscriptions")
	}
	if props, err := s.UserProperties(ctx, user); err != nil || len(props) > 0 {
		got = append(got, "properties")
	}
	if _, err := s.PushNode(ctx, user); err == nil {
		got = append(got, "push node")
	}
	if _, _, err := s.SpendRefreshToken(ctx, []byte("r-"+user), t0); err == nil {
		got = append(got, "refresh token")
	}
	return got
}

func TestPurgeUser(t *testing.T) { eachBackend(t, testPurgeUser) }

func testPurgeUser(t *testing.T, newStore opener) {
	s, _ := newStore(t)
	ctx := context.Background()
	give(t, s, "a@x")
	give(t, s, "b@x")
	if err := s.PurgeUser(ctx, "a@x"); err != nil {
		t.Fatalf("PurgeUser = %v", err)
	}
	if got := owns(t, s, "a@x"); len(got) > 0 {
		t.Errorf("after PurgeUser, a@x still owns %v", got)
	}
	// The cutoff stays: tokens of the removed account stay revoked.
	if cut, err := s.UserRevokedBefore(ctx, "a@x"); err != nil || !cut.Equal(t0) {
		t.Errorf("a@x's cutoff = %v, %v; want %v", cut, err, t0)
	}
	// b@x's UseTOTPStep in owns is a replay: everything is still there.
	if got := owns(t, s, "b@x"); len(got) != 9 {
		t.Errorf("b@x owns %v; want all 9 untouched", got)
	}
	for _, u := range []string{"a@x", "nobody@x"} {
		if err := s.PurgeUser(ctx, u); err != nil {
			t.Errorf("PurgeUser(%q) again = %v; want nil", u, err)
		}
	}
}
