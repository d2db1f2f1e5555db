package pgtest_test

import (
	"testing"

	"github.com/sparkgate/sparkgate/internal/depstest"
)

// TestDeps: the harness is standalone: pgserver's server, none of the
// gateway's packages.
func TestDeps(t *testing.T) {
	deps := depstest.Deps(t, ".")
	depstest.Only(t, "internal/pgtest", depstest.OfOurs(deps), "github.com/sparkgate/sparkgate/internal/pgserver", depstest.Ours("internal/freeport"))
}
