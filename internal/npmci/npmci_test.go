package npmci_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sparkgate/sparkgate/internal/npmci"
)

// A package with no dependencies: npm ci installs it without the network.
var (
	pkg  = []byte(`{"name": "npmci-test", "version": "1.0.0", "private": true}`)
	lock = []byte(`{"name": "npmci-test", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
  "packages": {"": {"name": "npmci-test", "version": "1.0.0"}}}`)
)

func TestInstall(t *testing.T) {
	if _, err := exec.LookPath("npm"); err != nil {
		if testing.Short() {
			t.Skip("no npm (-short)")
		}
		t.Fatal("no npm found (install it with scripts/install-deps.sh node)")
	}
	root := t.TempDir()
	dir, err := npmci.Install(t.Context(), root, "t", pkg, lock, "package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(dir) != root {
		t.Errorf("installed in %s, want a directory of %s", dir, root)
	}
	// Installed once: a later call answers the same directory without npm.
	t.Setenv("PATH", t.TempDir())
	again, err := npmci.Install(t.Context(), root, "t", pkg, lock, "package-lock.json")
	if err != nil || again != dir {
		t.Errorf("second Install = %q, %v; want %q without npm", again, err, dir)
	}
	entries, err := os.ReadDir(root)
	if err != nil || len(entries) != 1 {
		t.Errorf("cache holds %d entries (%v), want the install alone (no temporary directory left)", len(entries), err)
	}
	// Another lock file is another install.
	if _, err := npmci.Install(t.Context(), root, "t", pkg, append(lock, '\n'), "package-lock.json"); !errors.Is(err, npmci.ErrNoNPM) {
		t.Errorf("Install of another lock without npm: %v, want ErrNoNPM", err)
	}
}
