package natslog_test

import (
	"testing"

	"github.com/sparkgate/sparkgate/internal/depstest"
)

// TestDeps: natslog is the one home of the NATS client in the gateway's
// code, and knows nothing of HTTP handlers, XMPP or the sse hub (it
// satisfies sse.Remote by shape).
func TestDeps(t *testing.T) {
	depstest.Only(t, "natslog", depstest.Imports(t, "."), "github.com/nats-io/nats.go")
}
