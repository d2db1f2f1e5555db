package sse_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDeps keeps sse a leaf of the standard library: it must not reach
// chatapi, xmppconn or any third-party module.
func TestDeps(t *testing.T) {
	for _, pkg := range []string{".", "./ssetest"} {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg).Output()
		if err != nil {
			t.Skipf("go list: %v", err)
		}
		got := strings.Fields(string(out))
		want := []string{"github.com/sparkgate/sparkgate/sse"}
		if pkg != "." {
			want = []string{"github.com/sparkgate/sparkgate/sse/ssetest"}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s imports outside the standard library (-want +got):\n%s", pkg, diff)
		}
	}
}
