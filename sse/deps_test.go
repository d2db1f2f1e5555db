package sse_test

import (
	"testing"

	"github.com/sparkgate/sparkgate/internal/depstest"
)

// TestDeps keeps sse a leaf of the standard library: it must not reach
// chatapi, xmppconn or any third-party module (ssetest reaches sse alone).
func TestDeps(t *testing.T) {
	depstest.Only(t, "sse", depstest.Deps(t, "."))
	depstest.Only(t, "sse/ssetest", depstest.Deps(t, "./ssetest"), depstest.Ours("sse"))
}
