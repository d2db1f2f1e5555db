package xmppconn

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/jid"
	"github.com/sparkgate/sparkgate/jid/jidtest"
)

// TestIntegrationServerAgreesOnNames logs in to the real ejabberd with
// every spelling jidtest knows of one account: each login with the
// account's password must succeed, so the server takes the spelling for
// the account, as package jid does. (ejabberd binds the JID as it was
// spelled, so the bound JID is compared in canonical form.) Names that
// package jid keeps apart must be other accounts to the server too: the
// password fails for them. A difference between ejabberd's Nodeprep and
// package jid fails here.
func TestIntegrationServerAgreesOnNames(t *testing.T) {
	s := ejabberdtest.Shared(t)
	suffix := strings.ToLower(strings.TrimPrefix(ejabberdtest.NewUser(t).Name, "u"))
	u := ejabberdtest.NewUserNamed(t, s, jidtest.Name(suffix))
	for _, sp := range jidtest.Spellings(suffix) {
		t.Run(sp.Kind, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			cfg := Config{Addr: s.C2SAddr(), Domain: s.Domain(), User: sp.Text, Password: u.Password, TLS: TLSOff, KeepAlive: -1}
			c, err := Dial(ctx, cfg)
			if err != nil {
				t.Fatalf("Dial as %q: %v", sp.Text, err)
			}
			if b, err := jid.Parse(c.JID()); err != nil || b.Bare() != u.JID {
				t.Errorf("bound %q (%v), want %s", c.JID(), err, u.JID)
			}
			c.Close(ctx)

			cfg.Password = "wrong" + u.Password
			if _, err := Dial(ctx, cfg); !errors.Is(err, ErrNotAuthorized) {
				t.Errorf("Dial as %q with a wrong password: %v, want ErrNotAuthorized", sp.Text, err)
			}
		})
	}
	for _, other := range jidtest.Others(suffix) {
		t.Run("other account: "+other.Kind, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			cfg := Config{Addr: s.C2SAddr(), Domain: s.Domain(), User: other.Text, Password: u.Password, TLS: TLSOff, KeepAlive: -1}
			if c, err := Dial(ctx, cfg); !errors.Is(err, ErrNotAuthorized) {
				if err == nil {
					c.Close(ctx)
				}
				t.Errorf("Dial as %q with %s's password: %v, want ErrNotAuthorized", other.Text, u.Name, err)
			}
		})
	}
}
