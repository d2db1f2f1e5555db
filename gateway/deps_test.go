package gateway

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sparkgate/sparkgate/internal/depstest"
)

// TestDeps: gateway speaks HTTP. It never reaches the store's engine, and
// XMPP only through xmppconn's verbs: no file of it imports the stanza
// library (gosrc.io) or encoding/xml (issue 16). A handler that needs a
// stanza asks for a verb on xmppconn.Session.
func TestDeps(t *testing.T) {
	// The tests' client speaks the API and reads events, nothing more.
	depstest.Only(t, "gateway/gatewaytest", depstest.Imports(t, "./gatewaytest"),
		depstest.Ours("chatapi"), depstest.Ours("sse/ssetest"))
	depstest.None(t, "gateway", depstest.Imports(t, "."), "modernc.org", "github.com/pressly", "gosrc.io",
		"code.dny.dev/ssrf", "golang.org/x/net/html") // web pages only through linkpreview
	// Several nodes reach NATS through interfaces (EventLog, Ownership)
	// implemented in natslog and lease, wired in cmd/sparkgate.
	depstest.None(t, "gateway", depstest.Imports(t, "."), "github.com/nats-io",
		depstest.Ours("lease"), depstest.Ours("natslog"))
	// encoding/xml is in the standard library, which depstest leaves
	// out: read the imports of each file.
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range af.Imports {
			if p, _ := strconv.Unquote(im.Path.Value); p == "encoding/xml" {
				t.Errorf("%s imports encoding/xml: give xmppconn.Session a verb instead", f)
			}
		}
	}
}
