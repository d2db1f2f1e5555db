package passkeytest

import (
	"testing"

	"github.com/sparkgate/sparkgate/internal/depstest"
)

// TestDeps: the harness needs the virtual authenticator and nothing of
// ours (auth's own tests use it).
func TestDeps(t *testing.T) {
	depstest.Only(t, "internal/passkeytest", depstest.Imports(t, "."), "github.com/descope/virtualwebauthn")
}
