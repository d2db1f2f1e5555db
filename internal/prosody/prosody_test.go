package prosody_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/internal/prosodytest"
)

// TestIntegrationStart: the server answers on its client port, accounts
// are made and removed with prosodyctl (removing one twice fails), and
// Close is idempotent. Logins on the accounts are the xmppconn tests'.
func TestIntegrationStart(t *testing.T) {
	s := prosodytest.Start(t)
	if !strings.HasPrefix(s.C2SAddr(), "127.0.0.1:") || s.Domain() != "localhost" || s.MUCService() != "conference.localhost" {
		t.Fatalf("addresses %s %s %s", s.C2SAddr(), s.Domain(), s.MUCService())
	}
	u := prosodytest.NewUser(t, s)
	if ok, err := s.Exists(u.Name); !ok || err != nil {
		t.Fatalf("Exists after register: %v, %v", ok, err)
	}
	if ok, err := s.Exists("nobody-" + u.Name); ok || err != nil {
		t.Fatalf("Exists of nobody: %v, %v", ok, err)
	}
	if err := s.Unregister(t.Context(), u.Name); err != nil {
		t.Fatalf("unregister: %v", err)
	}
	if ok, err := s.Exists(u.Name); ok || err != nil {
		t.Fatalf("Exists after unregister: %v, %v", ok, err)
	}
	if err := s.Unregister(t.Context(), u.Name); err == nil {
		t.Error("a second removal of one account succeeded")
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
