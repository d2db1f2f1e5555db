package natstest

import (
	"testing"

	"github.com/sparkgate/sparkgate/internal/depstest"
)

// TestDeps: the harness needs the NATS client (to know the server is ready)
// and nothing of ours.
func TestDeps(t *testing.T) {
	depstest.Only(t, "internal/natstest", depstest.Imports(t, "."), "github.com/nats-io/nats.go")
}
