// Package npmci installs a package.json and its package-lock.json with
// `npm ci` into a cache directory outside the repository, for tests that
// need npm packages (axe-core for the browser tests, the TypeScript SDK's
// toolchain): nothing from npm is vendored, the lock file pins it.
//
// Each install lives in its own directory named after the hash of the two
// files, filled in a temporary directory and renamed into place, so test
// binaries running at once never see half an install and later runs reuse
// it without the network.
package npmci

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// ErrNoNPM is returned when an install is needed and npm is not on PATH.
var ErrNoNPM = errors.New("npmci: no npm found (install it with scripts/install-deps.sh node)")

// Install answers the directory (holding node_modules) where the package
// named name, made of pkg (package.json) and lock (package-lock.json), is
// installed, running `npm ci` there first unless an earlier call did.
// root is the cache directory; empty means sparkgate under the user's
// cache directory. probe is a path inside the install (e.g.
// "node_modules/axe-core/axe.min.js") whose presence means it is complete.
func Install(ctx context.Context, root, name string, pkg, lock []byte, probe string) (string, error) {
	sum := sha256.Sum256(append(append([]byte{}, pkg...), lock...))
	if root == "" {
		var err error
		if root, err = os.UserCacheDir(); err != nil {
			root = os.TempDir()
		}
		root = filepath.Join(root, "sparkgate")
	}
	dir := filepath.Join(root, name+"-"+hex.EncodeToString(sum[:])[:16])
	if _, err := os.Stat(filepath.Join(dir, probe)); err == nil {
		return dir, nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", ErrNoNPM
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("npmci: cache: %w", err)
	}
	tmp, err := os.MkdirTemp(root, name+"-install-")
	if err != nil {
		return "", fmt.Errorf("npmci: cache: %w", err)
	}
	defer os.RemoveAll(tmp) // gone once renamed
	for file, b := range map[string][]byte{"package.json": pkg, "package-lock.json": lock} {
		if err := os.WriteFile(filepath.Join(tmp, file), b, 0o644); err != nil {
			return "", err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	// --ignore-scripts: no package runs code at install (esbuild finds its
	// platform binary through its optional dependency without its script).
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error")
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("npmci: npm ci of %s in %s: %v\n%s", name, tmp, err, out)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(filepath.Join(dir, probe)); statErr != nil { // not another binary's install
			return "", fmt.Errorf("npmci: cache: %w", err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, probe)); err != nil {
		return "", fmt.Errorf("npmci: %s installed without %s: %w", name, probe, err)
	}
	return dir, nil
}
