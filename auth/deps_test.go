package auth_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps auth a leaf among our packages (it imports none of them)
// and the only home of golang-jwt, pquerna/otp and go-webauthn; it must not
// reach an HTTP framework or the XMPP library either.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		switch {
		case p == "github.com/sparkgate/sparkgate/auth":
		case strings.HasPrefix(p, "github.com/sparkgate/"),
			strings.HasPrefix(p, "github.com/labstack/"),
			strings.HasPrefix(p, "gosrc.io/"),
			strings.HasPrefix(p, "modernc.org/sqlite"),
			strings.HasPrefix(p, "github.com/pressly/"):
			t.Errorf("auth depends on %s", p)
		}
	}
}
