// Package prosodytest gives integration tests a private Prosody, the second
// XMPP server (internal/prosody), and users on it.
//
//	srv := prosodytest.Start(t)          // stopped at the test's cleanup
//	alice := prosodytest.NewUser(t, srv) // registered now
//
// Skip policy, as ejabberdtest's: without Prosody installed the test fails,
// naming the install step (scripts/install-deps.sh prosody); only `go test
// -short` skips, and only when SPARKGATE_REQUIRE_INTEGRATION=1 (which `make
// test` sets) is absent.
package prosodytest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/internal/prosody"
)

// requireEnv makes integration tests mandatory even under -short.
const requireEnv = "SPARKGATE_REQUIRE_INTEGRATION"

// Start starts a Prosody of the test's own in a directory of t.TempDir and
// stops it at cleanup, printing its log tail if the test failed.
func Start(t testing.TB) *prosody.Server {
	t.Helper()
	if testing.Short() && os.Getenv(requireEnv) != "1" {
		t.Skip("integration test: needs Prosody; skipped under -short")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	s, err := prosody.Start(ctx, prosody.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("prosodytest: start Prosody (install it with `scripts/install-deps.sh prosody`): %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("prosody log tail:\n%s", s.LogTail(40))
		}
		s.Close()
	})
	return s
}

// User is an account registered for one test.
type User struct {
	Name     string // the localpart
	Password string
	JID      string // Name@domain
}

// NewUser registers a user with a random name and password on s.
func NewUser(t testing.TB, s *prosody.Server) User {
	t.Helper()
	u := User{Name: "u" + randomHex(8), Password: randomHex(12)}
	u.JID = u.Name + "@" + s.Domain()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := s.Register(ctx, u.Name, u.Password); err != nil {
		t.Fatalf("prosodytest: register %s: %v", u.Name, err)
	}
	return u
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
