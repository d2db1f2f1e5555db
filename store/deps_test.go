package store_test

import (
	"testing"

	"github.com/sparkgate/sparkgate/internal/depstest"
)

// TestDeps: store may import the packages whose Store interfaces it
// implements, never the gateway, the XMPP side or an HTTP framework.
func TestDeps(t *testing.T) {
	deps := depstest.Deps(t, ".")
	depstest.None(t, "store", deps, "github.com/labstack", "gosrc.io",
		depstest.Ours("gateway"), depstest.Ours("xmppconn"), depstest.Ours("sse"))
	depstest.Only(t, "store", depstest.OfOurs(deps), depstest.Ours("auth"), depstest.Ours("webpush"), depstest.Ours("bookmark"), depstest.Ours("rooms"), depstest.Ours("unread"))
}
