package store_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps: store may import the packages whose Store interfaces it
// implements, never the gateway, the XMPP side or an HTTP framework.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	allowed := map[string]bool{
		"github.com/sparkgate/sparkgate/store":    true,
		"github.com/sparkgate/sparkgate/auth":     true,
		"github.com/sparkgate/sparkgate/webpush":  true,
		"github.com/sparkgate/sparkgate/bookmark": true,
	}
	for _, p := range strings.Fields(string(out)) {
		switch {
		case strings.HasPrefix(p, "github.com/sparkgate/") && !allowed[p],
			strings.HasPrefix(p, "github.com/labstack/"),
			strings.HasPrefix(p, "gosrc.io/"):
			t.Errorf("store depends on %s", p)
		}
	}
}
