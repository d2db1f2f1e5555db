// Package browsertest is the harness of the browser tests: it finds
// Chromium, launches it headless once per test binary, opens pages in separate
// browser contexts (separate storage, like separate people), pipes each
// page's console and uncaught exceptions to t.Logf and fails the test on a
// console error that the test did not expect.
//
// A browser test starts with Launch:
//
//	func TestBrowserChat(t *testing.T) {
//		b := browsertest.Launch(t)           // skips only under -short
//		p := b.NewPage(t, "alice")
//		p.Do(t, chromedp.Navigate(url))
//		p.Wait(t, `document.body.dataset.conn === "connected"`)
//	}
//
// and the package's TestMain stops the browser after the tests:
//
//	func TestMain(m *testing.M) { ejabberdtest.Main(browsertest.Wrap(m)) }
//
// p.Axe(t, "sign-in") checks the page as it is with axe-core and fails
// the test on serious and critical violations (axe.go says where axe-core
// comes from).
//
// Skip policy, as for ejabberdtest: without Chromium the test fails, naming
// the install step; only `go test -short` skips, and not when
// SPARKGATE_REQUIRE_INTEGRATION=1 (which `make test` sets).
package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromeEnv names an environment variable holding the path of the browser
// to use; it wins over the search of Find.
const ChromeEnv = "CHROME_BIN"

// requireEnv makes browser tests mandatory even under -short.
const requireEnv = "SPARKGATE_REQUIRE_INTEGRATION"

// ErrNoChromium is returned by Find when no browser is installed.
var ErrNoChromium = errors.New("browsertest: no Chromium found (install it with scripts/install-deps.sh chromium, or set " + ChromeEnv + ")")

// DefaultTimeout bounds each step a Page runs for a test.
const DefaultTimeout = 30 * time.Second

// Find returns the path of a Chromium (or Chrome) executable: $CHROME_BIN,
// then the usual Debian and upstream names.
func Find() (string, error) {
	if p := os.Getenv(ChromeEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("browsertest: %s=%s: %w", ChromeEnv, p, err)
		}
		return p, nil
	}
	for _, name := range []string{"/usr/bin/chromium", "/usr/lib/chromium/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// Flags are the command-line switches every browser gets (besides
// headless mode and a fresh profile directory).
var Flags = []string{
	"no-sandbox", "disable-gpu", "disable-quic", "no-first-run",
	"disable-background-networking", "disable-component-update", "disable-sync",
	"disable-dev-shm-usage", "no-default-browser-check",
}

// Browser is the headless Chromium of a test binary: one process shared by
// every test (starting Chromium costs seconds; a browser context per page
// keeps people apart just as well), restarted if it died.
type Browser struct {
	ctx context.Context // has the browser
}

// shared is the binary's browser, started by the first Launch and stopped
// by Wrap's Run.
var shared struct {
	mu     sync.Mutex
	b      *Browser
	stop   func()
	tmpDir string
}

// Launch returns the test binary's Chromium, starting it on first use (or
// again when it died). Pages opened from it close with their test; the
// browser itself lives until the package's tests end (Wrap). Under -short
// (without SPARKGATE_REQUIRE_INTEGRATION=1) it skips the test; when
// Chromium is missing it fails it.
func Launch(t testing.TB) *Browser {
	t.Helper()
	if testing.Short() && os.Getenv(requireEnv) != "1" {
		t.Skip("browser test skipped under -short")
	}
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.b != nil && shared.b.ctx.Err() == nil {
		return shared.b
	}
	closeShared()
	path, err := Find()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "browsertest-profile-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(dir),
		chromedp.Headless,
		chromedp.WindowSize(1280, 900),
	}
	for _, f := range Flags {
		opts = append(opts, chromedp.Flag(f, true))
	}
	opts = append(chromedp.DefaultExecAllocatorOptions[:], opts...)
	// The browser outlives the test that started it: its context is the
	// binary's, and its own log goes nowhere (a finished test's Logf
	// panics); each page logs its console to its own test.
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(func(string, ...any) {}))
	shared.stop = func() {
		cancelBrowser()
		cancelAlloc() // waits for the browser process
	}
	shared.tmpDir = dir
	start := time.Now()
	if err := chromedp.Do(bctx); err != nil {
		closeShared()
		t.Fatalf("browsertest: start %s: %v", path, err)
	}
	t.Logf("browsertest: %s started in %v", path, time.Since(start).Round(time.Millisecond))
	shared.b = &Browser{ctx: bctx}
	return shared.b
}

// closeShared stops the shared browser, if any; shared.mu is held.
func closeShared() {
	if shared.stop != nil {
		shared.stop()
	}
	if shared.tmpDir != "" {
		os.RemoveAll(shared.tmpDir)
	}
	shared.b, shared.stop, shared.tmpDir = nil, nil, ""
}

// runner is what Wrap wraps: a *testing.M, or another harness's wrap.
type runner interface{ Run() int }

// Wrap returns m whose Run also stops the shared browser after the tests:
// a package of browser tests has
//
//	func TestMain(m *testing.M) { ejabberdtest.Main(browsertest.Wrap(m)) }
func Wrap(m runner) runner { return wrapped{m} }

type wrapped struct{ m runner }

func (w wrapped) Run() int {
	code := w.m.Run()
	shared.mu.Lock()
	closeShared()
	shared.mu.Unlock()
	return code
}

// Page is one tab. Its methods fail the test on error.
type Page struct {
	// Ctx is the page's chromedp context, for actions the helpers lack.
	Ctx  context.Context
	Name string

	mu      sync.Mutex
	allowed []func(chromedp.ConsoleMessage) bool
	errs    []string
}

// NewPage opens a tab in a new browser context (its own cookies and
// storage). Everything it writes to the console goes to t.Logf; a console
// error or exception that no Allow matches fails the test at its end.
func (b *Browser) NewPage(t testing.TB, name string) *Page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	return newPage(t, name, ctx, cancel)
}

// NewTab opens another tab in the same browser context as p (same origin
// storage, like a second tab of one person).
func (p *Page) NewTab(t testing.TB, name string) *Page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(p.Ctx)
	return newPage(t, name, ctx, cancel)
}

func newPage(t testing.TB, name string, ctx context.Context, cancel context.CancelFunc) *Page {
	p := &Page{Ctx: ctx, Name: name}
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		t.Fatalf("browsertest: open page %s: %v", name, err)
	}
	messages := chromedp.Console(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			t.Logf("[%s console %s] %s", name, m.Type, describe(m))
			if m.Type == chromedp.ConsoleError || m.IsException() {
				p.record(m)
			}
		}
	})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, e := range p.errs {
			t.Errorf("page %s: unexpected console error: %s", name, e)
		}
	})
	return p
}

func (p *Page) record(m chromedp.ConsoleMessage) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ok := range p.allowed {
		if ok(m) {
			return
		}
	}
	p.errs = append(p.errs, describe(m))
}

// secretParam matches the value of a token or password in a query string.
var secretParam = regexp.MustCompile(`(?i)([?&](?:token|access_token|password|ticket)=)[^&\s)"']+`)

// describe is the message with its URL, tokens in URLs redacted: test
// logs never show credentials.
func describe(m chromedp.ConsoleMessage) string {
	s := m.String()
	if m.URL != "" {
		s += " (" + m.URL + ")"
	}
	return secretParam.ReplaceAllString(s, "${1}REDACTED")
}

// Allow makes console errors matching ok expected (e.g. a request the test
// makes fail on purpose).
func (p *Page) Allow(ok func(chromedp.ConsoleMessage) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.allowed = append(p.allowed, ok)
}

// AllowText allows console errors whose text contains any of the strings.
func (p *Page) AllowText(substrings ...string) {
	p.Allow(func(m chromedp.ConsoleMessage) bool {
		s := m.String()
		for _, sub := range substrings {
			if strings.Contains(s, sub) {
				return true
			}
		}
		return false
	})
}

// Do runs the steps within DefaultTimeout.
func (p *Page) Do(t testing.TB, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, DefaultTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("page %s: %v", p.Name, err)
	}
}

// Wait polls the JavaScript expression until it is truthy, for at most
// DefaultTimeout; on timeout it fails the test with the page's text.
func (p *Page) Wait(t testing.TB, expr string) {
	t.Helper()
	p.wait(t, expr, DefaultTimeout, "")
}

// WaitShowing is Wait whose failure also shows the value of the JavaScript
// expression show, evaluated at the timeout: what the page held instead
// of what was waited for.
func (p *Page) WaitShowing(t testing.TB, expr, show string) {
	t.Helper()
	p.wait(t, expr, DefaultTimeout, show)
}

// WaitFor is Wait with a timeout.
func (p *Page) WaitFor(t testing.TB, expr string, d time.Duration) {
	t.Helper()
	p.wait(t, expr, d, "")
}

func (p *Page) wait(t testing.TB, expr string, d time.Duration, show string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, d+5*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(d))); err != nil {
		body, _ := Eval[string](t, p, `document.body ? document.body.innerText.slice(0, 2000) : ""`)
		shown := ""
		if show != "" {
			v, err := Eval[any](t, p, show)
			text, _ := json.Marshal(v)
			shown = fmt.Sprintf("\n%s is %s", show, text)
			if err != nil {
				shown += fmt.Sprintf(" (%v)", err)
			}
		}
		t.Fatalf("page %s: waiting for %s: %v%s\npage text:\n%s", p.Name, expr, err, shown, body)
	}
}

// Eval evaluates a JavaScript expression (awaiting a promise) in the page.
func Eval[T any](t testing.TB, p *Page, expr string) (T, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, DefaultTimeout)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

// MustEval is Eval failing the test on error.
func MustEval[T any](t testing.TB, p *Page, expr string) T {
	t.Helper()
	v, err := Eval[T](t, p, expr)
	if err != nil {
		t.Fatalf("page %s: eval %s: %v", p.Name, expr, err)
	}
	return v
}

// Screenshot saves a PNG of the page's viewport to path.
func (p *Page) Screenshot(t testing.TB, path string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, DefaultTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("page %s: screenshot: %v", p.Name, err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}
