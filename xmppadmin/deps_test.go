package xmppadmin_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDeps keeps xmppadmin a leaf of the standard library (its tests may use
// the ejabberd harness; its code may not).
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	want := []string{"github.com/sparkgate/sparkgate/xmppadmin"}
	if diff := cmp.Diff(want, strings.Fields(string(out))); diff != "" {
		t.Errorf("xmppadmin imports outside the standard library (-want +got):\n%s", diff)
	}
}
