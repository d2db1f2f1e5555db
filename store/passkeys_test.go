package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/store"
)

var _ auth.PasskeyStore = (*store.SQLite)(nil)

func TestWebAuthnHandle(t *testing.T) { eachBackend(t, testWebAuthnHandle) }

func testWebAuthnHandle(t *testing.T, newStore opener) {
	ctx := t.Context()
	s, _ := newStore(t)
	h, err := s.WebAuthnHandle(ctx, "a@x", []byte("handle-a"))
	if err != nil || string(h) != "handle-a" {
		t.Fatalf("first WebAuthnHandle = %q, %v", h, err)
	}
	if h, err := s.WebAuthnHandle(ctx, "a@x", []byte("other")); err != nil || string(h) != "handle-a" {
		t.Errorf("second WebAuthnHandle = %q, %v; want the stored one", h, err)
	}
	if u, err := s.UserByWebAuthnHandle(ctx, []byte("handle-a")); err != nil || u != "a@x" {
		t.Errorf("UserByWebAuthnHandle = %q, %v", u, err)
	}
	if _, err := s.UserByWebAuthnHandle(ctx, []byte("nope")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown handle = %v", err)
	}
	// Handles are unique across users.
	if _, err := s.WebAuthnHandle(ctx, "b@x", []byte("handle-a")); err == nil {
		t.Error("duplicate handle for another user accepted")
	}
}

func TestPasskeyCredentials(t *testing.T) { eachBackend(t, testPasskeyCredentials) }

func testPasskeyCredentials(t *testing.T, newStore opener) {
	ctx := t.Context()
	s, _ := newStore(t)
	c1 := auth.PasskeyCredential{User: "a@x", ID: []byte{1, 2}, Name: "laptop", Data: []byte(`{"k":1}`), CreatedAt: t0}
	// The foreign key needs the user's handle first (foreign_keys is on).
	if err := s.AddPasskeyCredential(ctx, c1); err == nil {
		t.Fatal("credential without a webauthn user accepted: foreign keys off?")
	}
	if _, err := s.WebAuthnHandle(ctx, "a@x", []byte("ha")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WebAuthnHandle(ctx, "b@x", []byte("hb")); err != nil {
		t.Fatal(err)
	}
	c2 := auth.PasskeyCredential{User: "a@x", ID: []byte{3}, Name: "phone", Data: []byte(`{}`), CreatedAt: t0.Add(time.Minute)}
	for _, c := range []auth.PasskeyCredential{c2, c1} {
		if err := s.AddPasskeyCredential(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	dup := c1
	dup.User = "b@x"
	if err := s.AddPasskeyCredential(ctx, dup); !errors.Is(err, store.ErrExists) || !errors.Is(err, auth.ErrExists) {
		t.Errorf("duplicate id = %v, want ErrExists", err)
	}
	got, err := s.PasskeyCredentials(ctx, "a@x")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]auth.PasskeyCredential{c1, c2}, got); d != "" {
		t.Errorf("PasskeyCredentials (-want +got):\n%s", d)
	}
	if err := s.UpdatePasskeyCredential(ctx, "a@x", c1.ID, []byte("new"), t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdatePasskeyCredential(ctx, "b@x", c1.ID, []byte("x"), t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update of another user's credential = %v", err)
	}
	got, _ = s.PasskeyCredentials(ctx, "a@x")
	if string(got[0].Data) != "new" || !got[0].LastUsedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("after update: %+v", got[0])
	}
	if err := s.DeletePasskeyCredential(ctx, "b@x", c1.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete of another user's credential = %v", err)
	}
	if err := s.DeletePasskeyCredential(ctx, "a@x", c1.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.PasskeyCredentials(ctx, "a@x"); len(got) != 1 {
		t.Errorf("after delete: %d credentials", len(got))
	}
	if got, err := s.PasskeyCredentials(ctx, "nobody@x"); err != nil || len(got) != 0 {
		t.Errorf("unknown user: %v, %v", got, err)
	}
}

func TestDeleteUserPasskeys(t *testing.T) { eachBackend(t, testDeleteUserPasskeys) }

func testDeleteUserPasskeys(t *testing.T, newStore opener) {
	ctx := t.Context()
	s, _ := newStore(t)
	for _, u := range []string{"a@x", "b@x"} {
		if _, err := s.WebAuthnHandle(ctx, u, []byte("h-"+u)); err != nil {
			t.Fatal(err)
		}
		for i, id := range [][]byte{[]byte(u + "1"), []byte(u + "2")} {
			c := auth.PasskeyCredential{User: u, ID: id, Name: "key", Data: []byte(`{}`), CreatedAt: t0.Add(time.Duration(i) * time.Minute)}
			if err := s.AddPasskeyCredential(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.DeleteUserPasskeys(ctx, "a@x"); err != nil {
		t.Fatalf("DeleteUserPasskeys = %v", err)
	}
	if got, err := s.PasskeyCredentials(ctx, "a@x"); err != nil || len(got) != 0 {
		t.Errorf("after delete, a@x has %d credentials, %v; want none", len(got), err)
	}
	if _, err := s.UserByWebAuthnHandle(ctx, []byte("h-a@x")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after delete, a@x's handle = %v; want ErrNotFound", err)
	}
	if got, err := s.PasskeyCredentials(ctx, "b@x"); err != nil || len(got) != 2 {
		t.Errorf("b@x has %d credentials, %v; want 2 (untouched)", len(got), err)
	}
	// Again, and for a user who never had any: not an error.
	for _, u := range []string{"a@x", "nobody@x"} {
		if err := s.DeleteUserPasskeys(ctx, u); err != nil {
			t.Errorf("DeleteUserPasskeys(%q) = %v; want nil", u, err)
		}
	}
	// A fresh handle can be stored after deletion.
	if h, err := s.WebAuthnHandle(ctx, "a@x", []byte("new")); err != nil || string(h) != "new" {
		t.Errorf("WebAuthnHandle after delete = %q, %v", h, err)
	}
}
