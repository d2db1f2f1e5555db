package npmci_test

import (
	"testing"

	"github.com/sparkgate/sparkgate/internal/depstest"
)

// TestDeps: the standard library alone.
func TestDeps(t *testing.T) {
	depstest.Only(t, "internal/npmci", depstest.Imports(t, "."))
}
