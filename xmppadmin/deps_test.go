package xmppadmin_test

import (
	"testing"

	"github.com/sparkgate/sparkgate/internal/depstest"
)

// TestDeps keeps xmppadmin a leaf of the standard library (its tests may use
// the ejabberd harness; its code may not).
func TestDeps(t *testing.T) {
	depstest.Only(t, "xmppadmin", depstest.Deps(t, "."))
}
