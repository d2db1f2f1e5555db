package natstest

import (
	"testing"

	"github.com/sparkgate/sparkgate/internal/depstest"
)

// TestDeps: the harness is natsserver's server with the tests' skip
// policy, and nothing else of ours.
func TestDeps(t *testing.T) {
	depstest.Only(t, "internal/natstest", depstest.Imports(t, "."), "github.com/sparkgate/sparkgate/internal/natsserver")
}
