package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// The peers the SSE layer is compared with, at the versions measured in
// shared/research/sse-peers.md. Their code is built from the Go module
// proxy into a cache directory outside the repository, never vendored.
const (
	mercureVersion    = "v0.24.2"
	centrifugoVersion = "v6.9.1"
)

// peerCacheDir is where built peers are kept: -peer-cache, or
// sparkgate-bench under the user's cache directory.
func peerCacheDir(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory for the peers (set -peer-cache): %w", err)
	}
	return filepath.Join(base, "sparkgate-bench"), nil
}

// peerBinary returns the path of the peer name at version in cache,
// building it with build first when it is not there. build writes the
// executable at the path it is given; it goes to a temporary name that is
// renamed only once complete, so an interrupted build is built again.
func peerBinary(ctx context.Context, cache, name, version string, build func(ctx context.Context, out, work string) error) (string, error) {
	bin := filepath.Join(cache, name+"-"+version, name)
	if fi, err := os.Stat(bin); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return bin, nil
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", err
	}
	work, err := os.MkdirTemp(filepath.Dir(bin), "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	out := filepath.Join(work, name)
	if err := build(ctx, out, work); err != nil {
		return "", fmt.Errorf("building %s %s: %w", name, version, err)
	}
	if err := os.Rename(out, bin); err != nil {
		return "", err
	}
	return bin, nil
}

// goCmd runs the go command in dir with extra environment, its output
// kept for the error.
func goCmd(ctx context.Context, dir string, env []string, args ...string) error {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), append([]string{"GOWORK=off"}, env...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		s := strings.TrimSpace(string(out))
		if len(s) > 2048 {
			s = s[len(s)-2048:]
		}
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, s)
	}
	return nil
}

// buildCentrifugo installs Centrifugo from the module proxy (about two
// minutes on two idle cores).
func buildCentrifugo(ctx context.Context, out, work string) error {
	gobin := filepath.Join(work, "bin")
	if err := goCmd(ctx, work, []string{"GOBIN=" + gobin}, "install", "github.com/centrifugal/centrifugo/v6@"+centrifugoVersion); err != nil {
		return err
	}
	return os.Rename(filepath.Join(gobin, "centrifugo"), out)
}

// buildMercure builds the Mercure hub as a Caddy module. `go install` of
// its caddy/mercure command is refused (its module replaces the hub
// module by a relative path), so the command is built in a throwaway
// module that requires github.com/dunglas/mercure/caddy. The proxy does
// not serve the pinned pseudo-version of golang.org/x/crypto/x509roots/
// fallback that Caddy pulls in; it only embeds root certificates for
// systems without any, so an empty stand-in replaces it.
func buildMercure(ctx context.Context, out, work string) error {
	files := map[string]string{
		"go.mod": "module sparkbench.local/mercurepeer\n\ngo 1.26\n\n" +
			"require github.com/dunglas/mercure/caddy " + mercureVersion + "\n\n" +
			"replace golang.org/x/crypto/x509roots/fallback => ./fallback\n",
		"main.go": "// Command mercure is Caddy with the Mercure hub module, for sparkbench.\n" +
			"package main\n\nimport (\n" +
			"\tcaddycmd \"github.com/caddyserver/caddy/v2/cmd\"\n" +
			"\t_ \"github.com/caddyserver/caddy/v2/modules/standard\"\n" +
			"\t_ \"github.com/dunglas/mercure/caddy\"\n)\n\n" +
			"func main() { caddycmd.Main() }\n",
		"fallback/go.mod":      "module golang.org/x/crypto/x509roots/fallback\n\ngo 1.26\n",
		"fallback/fallback.go": "// Package fallback stands in for the embedded root certificates.\npackage fallback\n",
	}
	for name, body := range files {
		p := filepath.Join(work, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			return err
		}
	}
	if err := goCmd(ctx, work, nil, "mod", "tidy"); err != nil {
		return err
	}
	return goCmd(ctx, work, nil, "build", "-o", out, ".")
}

// errNoPeer marks a peer that could not be built or started: the run goes
// on without it and says why.
var errNoPeer = errors.New("peer unavailable")
