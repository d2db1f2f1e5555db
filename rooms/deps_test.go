package rooms_test

import (
	"testing"

	"github.com/sparkgate/sparkgate/internal/depstest"
)

// TestDeps: rooms is a leaf: the standard library only.
func TestDeps(t *testing.T) {
	deps := depstest.Deps(t, ".")
	depstest.Only(t, "rooms", depstest.OfOurs(deps))
}
