package natsserver

import (
	"testing"

	"github.com/sparkgate/sparkgate/internal/depstest"
)

// TestDeps: the server needs the NATS client (to know it is ready) and
// a free port (internal/freeport), nothing else of ours.
func TestDeps(t *testing.T) {
	depstest.Only(t, "internal/natsserver", depstest.Imports(t, "."), "github.com/nats-io/nats.go", depstest.Ours("internal/freeport"))
}
