package xmppconn

import (
	"testing"

	"github.com/sparkgate/sparkgate/internal/depstest"
)

// TestDeps: xmppconn speaks XMPP and nothing else. It takes its stanza
// types from gosrc.io/xmpp/stanza (the stream itself is its own), its
// event vocabulary from chatapi and its addresses from jid; it knows
// nothing of HTTP, the event streams, tokens or the store.
func TestDeps(t *testing.T) {
	depstest.Only(t, "xmppconn", depstest.Imports(t, "."),
		depstest.Ours("chatapi"), depstest.Ours("jid"), "gosrc.io/xmpp/stanza")
	depstest.None(t, "xmppconn", depstest.Deps(t, "."), "github.com/labstack",
		depstest.Ours("gateway"), depstest.Ours("sse"), depstest.Ours("auth"), depstest.Ours("store"), depstest.Ours("webpush"))
}
