package auth_test

import (
	"errors"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/auth"
)

// TestLogins: each login is listed once with its device and method, the
// last used first; ending one revokes its access and refresh tokens and
// leaves the others; a family that is not the user's live one is
// ErrNotFound and ends nothing.
func TestLogins(t *testing.T) {
	ctx := t.Context()
	e := newRefresh(t)
	laptop, err := e.refresh.Start(ctx, "alice@x", auth.MethodPassword, false, "Laptop")
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	phone, err := e.refresh.Start(ctx, "alice@x", auth.MethodWebAuthn, true, "Phone")
	if err != nil {
		t.Fatal(err)
	}
	carol, err := e.refresh.Start(ctx, "carol@x", auth.MethodPassword, false, "Carol's")
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	laptop, err = e.refresh.Rotate(ctx, laptop.Refresh) // the laptop is the last used now
	if err != nil {
		t.Fatal(err)
	}

	ls, err := e.refresh.Logins(ctx, "alice@x")
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 2 || ls[0].Family != laptop.AccessClaims.Family || ls[1].Family != phone.AccessClaims.Family {
		t.Fatalf("Logins = %+v, want the laptop then the phone", ls)
	}
	if l := ls[0]; l.Device != "Laptop" || l.Method != auth.MethodPassword || l.Remember ||
		!l.LastUsedAt.Equal(e.clock.Now().Truncate(time.Millisecond)) || !l.LastUsedAt.After(l.StartedAt) {
		t.Errorf("laptop = %+v", l)
	}
	if l := ls[1]; l.Device != "Phone" || l.Method != auth.MethodWebAuthn || !l.Remember || !l.LastUsedAt.Equal(l.StartedAt) {
		t.Errorf("phone = %+v", l)
	}

	// Not alice's, or not a family at all: nothing ends.
	for _, fam := range []string{carol.AccessClaims.Family, "no-such-family", ""} {
		if _, err := e.refresh.EndLogin(ctx, "alice@x", fam); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("EndLogin(%q) = %v, want ErrNotFound", fam, err)
		}
	}
	if _, err := e.tokens.Verify(ctx, carol.Access); err != nil {
		t.Errorf("carol's token after alice tried to end her login: %v", err)
	}

	ended, err := e.refresh.EndLogin(ctx, "alice@x", phone.AccessClaims.Family)
	if err != nil || ended.Device != "Phone" {
		t.Fatalf("EndLogin(phone) = %+v, %v", ended, err)
	}
	if _, err := e.tokens.Verify(ctx, phone.Access); !errors.Is(err, auth.ErrRevoked) {
		t.Errorf("the phone's access token after its login ended: %v, want revoked", err)
	}
	if _, err := e.refresh.Rotate(ctx, phone.Refresh); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("the phone's refresh after its login ended: %v, want refused", err)
	}
	if _, err := e.tokens.Verify(ctx, laptop.Access); err != nil {
		t.Errorf("the laptop's token after the phone's login ended: %v", err)
	}
	if ls, err := e.refresh.Logins(ctx, "alice@x"); err != nil || len(ls) != 1 || ls[0].Family != laptop.AccessClaims.Family {
		t.Errorf("Logins after the phone's ended = %+v, %v", ls, err)
	}
	if _, err := e.refresh.EndLogin(ctx, "alice@x", phone.AccessClaims.Family); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("ending the phone's login again: %v, want ErrNotFound", err)
	}

	// An expired login is no longer listed.
	e.clock.Advance(3 * time.Hour)
	if ls, err := e.refresh.Logins(ctx, "alice@x"); err != nil || len(ls) != 0 {
		t.Errorf("Logins after the laptop's login expired = %+v, %v", ls, err)
	}
}
