package sparkgate_test

import (
	"testing"

	"github.com/sparkgate/sparkgate/internal/depstest"
)

// TestDeps keeps the module's root package what it is: the embedded
// contract (openapi.yaml), depending on nothing outside the standard
// library, so any package may read the spec without an import cycle.
func TestDeps(t *testing.T) {
	depstest.Only(t, "sparkgate", depstest.Deps(t, "."))
}
