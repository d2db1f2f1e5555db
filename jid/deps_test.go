package jid

import (
	"testing"

	"github.com/sparkgate/sparkgate/internal/depstest"
)

// TestDeps: jid needs the stringprep tables and nothing of ours.
func TestDeps(t *testing.T) {
	depstest.Only(t, "jid", depstest.Imports(t, "."), "github.com/xdg-go/stringprep")
	depstest.Only(t, "jid/jidtest", depstest.Imports(t, "./jidtest"))
}
