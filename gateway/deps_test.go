package gateway

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sparkgate/sparkgate/internal/depstest"
)

// stanzaFiles are the files of gateway that still build or read stanzas
// themselves, importing gosrc.io or encoding/xml, until each job has a
// verb on xmppconn.Session (issue 16). The list only shrinks: a file that
// no longer needs the import must leave it, and no other file may join.
var stanzaFiles = []string{
	"bookmarks.go",
}

// TestDeps: gateway speaks HTTP. It never reaches the store's engine or
// the stanza library beyond the files above, and the XMPP stream only
// through xmppconn.
func TestDeps(t *testing.T) {
	depstest.None(t, "gateway", depstest.Imports(t, "."), "modernc.org", "github.com/pressly")
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var speaking []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range af.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			if p == "encoding/xml" || p == "gosrc.io" || strings.HasPrefix(p, "gosrc.io/") {
				speaking = append(speaking, f)
				break
			}
		}
	}
	for _, f := range speaking {
		if !slices.Contains(stanzaFiles, f) {
			t.Errorf("%s imports gosrc.io or encoding/xml: give xmppconn.Session a verb instead", f)
		}
	}
	for _, f := range stanzaFiles {
		if !slices.Contains(speaking, f) {
			t.Errorf("%s no longer speaks XMPP: take it off stanzaFiles", f)
		}
	}
}
