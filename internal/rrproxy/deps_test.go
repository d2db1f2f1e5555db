package rrproxy

import (
	"testing"

	"github.com/sparkgate/sparkgate/internal/depstest"
)

// TestDeps: the proxy is the standard library's reverse proxy, nothing of
// ours.
func TestDeps(t *testing.T) {
	depstest.Only(t, "internal/rrproxy", depstest.Imports(t, "."))
}
