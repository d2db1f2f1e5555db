package prosody

import (
	"testing"

	"github.com/sparkgate/sparkgate/internal/depstest"
)

// TestDeps: the standard library and a free port, nothing else of ours.
func TestDeps(t *testing.T) {
	depstest.Only(t, "internal/prosody", depstest.Imports(t, "."), depstest.Ours("internal/freeport"))
}
