package prosody

import (
	"testing"

	"github.com/sparkgate/sparkgate/internal/depstest"
)

// TestDeps: the standard library, a free port and the Prosody admin
// backend (a std-only leaf), nothing else of ours.
func TestDeps(t *testing.T) {
	depstest.Only(t, "internal/prosody", depstest.Imports(t, "."), depstest.Ours("internal/freeport"), depstest.Ours("xmppadmin"))
}
