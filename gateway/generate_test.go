package gateway_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// outputLine is the line of oapi-codegen.yaml that names the generated file.
var outputLine = regexp.MustCompile(`(?m)^output:.*$`)

// TestGeneratedCodeIsFresh regenerates openapi.gen.go from ../openapi.yaml
// with the committed configuration and fails when the committed file differs:
// the spec changed and `go generate ./gateway/` was not run.
func TestGeneratedCodeIsFresh(t *testing.T) {
	t.Parallel()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	cfg, err := os.ReadFile("oapi-codegen.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !outputLine.Match(cfg) {
		t.Fatal("oapi-codegen.yaml has no output: line")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "openapi.gen.go")
	cfg = outputLine.ReplaceAllLiteral(cfg, []byte("output: "+out))
	cfgPath := filepath.Join(dir, "oapi-codegen.yaml")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		t.Fatal(err)
	}

	cmd := exec.CommandContext(t.Context(), goCmd, "tool", "oapi-codegen", "-config", cfgPath, "../openapi.yaml")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go tool oapi-codegen: %v\n%s", err, msg)
	}

	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("openapi.gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("openapi.gen.go is stale: run `go generate ./gateway/` (or `make generate`) and commit the result")
	}
}
