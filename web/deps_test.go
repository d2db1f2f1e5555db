package web_test

import (
	"testing"

	"github.com/sparkgate/sparkgate/internal/depstest"
)

// TestDeps keeps web a leaf of the standard library: it only embeds the
// browser client and the reference page; the gateway serves them.
func TestDeps(t *testing.T) {
	depstest.Only(t, "web", depstest.Deps(t, "."))
}
