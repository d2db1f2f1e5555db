package census_test

import (
	"testing"

	"github.com/sparkgate/sparkgate/internal/depstest"
)

// TestDeps: census speaks only NATS; the gateway reaches it through an
// interface of its own, wired in cmd/sparkgate.
func TestDeps(t *testing.T) {
	depstest.Only(t, "census", depstest.Imports(t, "."), "github.com/nats-io/nats.go")
}
