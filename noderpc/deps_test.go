package noderpc_test

import (
	"testing"

	"github.com/sparkgate/sparkgate/internal/depstest"
)

// TestDeps: noderpc carries bytes between nodes over NATS and knows nothing
// of what they mean (the gateway's verbs, XMPP, HTTP).
func TestDeps(t *testing.T) {
	depstest.Only(t, "noderpc", depstest.Imports(t, "."), "github.com/nats-io/nats.go")
}
