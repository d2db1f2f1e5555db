package unread

import (
	"testing"

	"github.com/sparkgate/sparkgate/internal/depstest"
)

// TestDeps keeps unread a leaf of the standard library: the gateway uses
// it and the store implements its Store.
func TestDeps(t *testing.T) {
	depstest.Only(t, "unread", depstest.Deps(t, "."))
}
