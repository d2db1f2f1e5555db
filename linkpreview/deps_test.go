package linkpreview

import (
	"testing"

	"github.com/sparkgate/sparkgate/internal/depstest"
)

// TestDeps: linkpreview is a leaf. Outside the standard library it needs
// the SSRF guard and the HTML tokenizer (with its charset decoders), and
// it knows none of our packages: the gateway calls it, never the reverse.
func TestDeps(t *testing.T) {
	depstest.Only(t, "linkpreview", depstest.Imports(t, "."), "code.dny.dev/ssrf", "golang.org/x/net/html")
	depstest.None(t, "linkpreview", depstest.Deps(t, "."), depstest.Module)
}
