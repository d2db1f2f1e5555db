package browsertest

// Accessibility checks with axe-core (Deque's rules engine, from npm).
//
// axe-core is not vendored: axe/package.json and axe/package-lock.json pin
// it, and the first check of a test binary installs it with `npm ci` into
// a cache directory outside the repository (package npmci). Later runs
// read it from there without the network. Without
// npm the check fails, naming the install step (scripts/install-deps.sh
// node), as a missing Chromium does: a skipped accessibility check proves
// nothing.

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sparkgate/sparkgate/internal/npmci"
)

//go:embed axe/package.json axe/package-lock.json
var axePackage embed.FS

// AxeCacheEnv names an environment variable holding the directory axe-core
// is installed under; it wins over the user's cache directory.
const AxeCacheEnv = "SPARKGATE_AXE_CACHE"

// ErrNoNPM is returned when axe-core is not installed yet and npm is missing.
var ErrNoNPM = npmci.ErrNoNPM

var axe struct {
	once sync.Once
	src  string
	err  error
}

// axeSource answers the text of axe.min.js, installing it the first time.
func axeSource() (string, error) {
	axe.once.Do(func() { axe.src, axe.err = installAxe() })
	return axe.src, axe.err
}

func installAxe() (string, error) {
	pkg, err := axePackage.ReadFile("axe/package.json")
	if err != nil {
		return "", err
	}
	lock, err := axePackage.ReadFile("axe/package-lock.json")
	if err != nil {
		return "", err
	}
	const script = "node_modules/axe-core/axe.min.js"
	dir, err := npmci.Install(context.Background(), os.Getenv(AxeCacheEnv), "axe", pkg, lock, script)
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(filepath.Join(dir, script))
	if err != nil {
		return "", fmt.Errorf("browsertest: axe-core: %w", err)
	}
	return string(b), nil
}

// AxeViolation is one rule axe-core found broken on a page.
type AxeViolation struct {
	ID     string    `json:"id"`
	Impact string    `json:"impact"`
	Help   string    `json:"help"`
	Nodes  []AxeNode `json:"nodes"`
}

// AxeNode is one element breaking a rule.
type AxeNode struct {
	Target  []string `json:"target"`
	Summary string   `json:"summary"`
}

// axeRun runs axe-core on the whole document and answers its violations
// (at most five elements each).
const axeRun = `axe.run(document, {resultTypes: ["violations"]}).then((r) => JSON.stringify(r.violations.map((v) => ({
	id: v.id, impact: v.impact || "", help: v.help,
	nodes: v.nodes.slice(0, 5).map((n) => ({target: n.target.map(String), summary: n.failureSummary || ""})),
}))))`

// AxeViolations injects axe-core into the page (once) and answers what it
// finds on the page as it is now.
func (p *Page) AxeViolations(t testing.TB) []AxeViolation {
	t.Helper()
	src, err := axeSource()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(p.Ctx, DefaultTimeout)
	defer cancel()
	// DevTools' evaluation is not the page's script: the page's
	// Content-Security-Policy does not apply to it.
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof axe === "object"`))
	if err == nil && !loaded {
		_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](src+"\n;true"))
	}
	if err != nil {
		t.Fatalf("page %s: inject axe-core: %v", p.Name, err)
	}
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("page %s: run axe-core: %v", p.Name, err)
	}
	var vs []AxeViolation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		t.Fatalf("page %s: axe-core's answer: %v", p.Name, err)
	}
	return vs
}

// Axe checks the page as it is now with axe-core and fails the test on
// every moderate, serious or critical violation (minor ones are logged);
// what names the screen in the messages.
func (p *Page) Axe(t testing.TB, what string) {
	t.Helper()
	for _, v := range p.AxeViolations(t) {
		var b strings.Builder
		fmt.Fprintf(&b, "page %s, %s: axe %s (%s): %s", p.Name, what, v.ID, v.Impact, v.Help)
		for _, n := range v.Nodes {
			fmt.Fprintf(&b, "\n\t%s: %s", strings.Join(n.Target, " "), strings.ReplaceAll(n.Summary, "\n", " "))
		}
		if v.Impact != "minor" {
			t.Error(b.String())
		} else {
			t.Log(b.String())
		}
	}
}
