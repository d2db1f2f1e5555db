package freeport

import (
	"testing"

	"github.com/sparkgate/sparkgate/internal/depstest"
)

// TestDeps: the standard library alone.
func TestDeps(t *testing.T) {
	depstest.Only(t, "internal/freeport", depstest.Imports(t, "."))
}
