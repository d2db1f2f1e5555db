package prosody_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/internal/prosodytest"
)

// TestIntegrationStart: the server answers on its client port, accounts
// are made with prosodyctl, and Close is idempotent. Logins on the accounts are the xmppconn tests'.
func TestIntegrationStart(t *testing.T) {
	s := prosodytest.Start(t)
	if !strings.HasPrefix(s.C2SAddr(), "127.0.0.1:") || s.Domain() != "localhost" || s.MUCService() != "conference.localhost" {
		t.Fatalf("addresses %s %s %s", s.C2SAddr(), s.Domain(), s.MUCService())
	}
	// Accounts are the admin backend's (xmppadmin's own tests); here only
	// that the harness's Register made one, and that Register sets the
	// password of an account that exists.
	u := prosodytest.NewUser(t, s)
	if ok, err := s.Admin().Exists(t.Context(), u.Name); !ok || err != nil {
		t.Fatalf("Exists after register: %v, %v", ok, err)
	}
	if err := s.Register(t.Context(), u.Name, "another-password"); err != nil {
		t.Fatalf("register again: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if c, err := net.DialTimeout("tcp", s.C2SAddr(), time.Second); err == nil {
		c.Close()
		t.Error("the client port still answers after Close")
	}
}
