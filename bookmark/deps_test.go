package bookmark

import (
	"testing"

	"github.com/sparkgate/sparkgate/internal/depstest"
)

// TestDeps keeps bookmark a leaf of the standard library: it is a vocabulary
// other packages share, so it may depend on none of them.
func TestDeps(t *testing.T) {
	depstest.Only(t, "bookmark", depstest.Deps(t, "."))
}
