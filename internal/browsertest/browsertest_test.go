package browsertest_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sparkgate/sparkgate/internal/browsertest"
)

func TestMain(m *testing.M) { os.Exit(browsertest.Wrap(m).Run()) }

const page = `<!doctype html><html><head><script src="/app.js"></script></head><body><button id="b">go</button><p id="out"></p></body></html>`
const script = `addEventListener('DOMContentLoaded', () => {
  let n = 0;
  document.getElementById('b').addEventListener('click', () => {
    n++;
    document.getElementById('out').textContent = 'clicked ' + n;
    console.log('click', n);
    if (n === 2) console.error('second click');
  });
});`

func TestBrowserHarness(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/app.js" {
			w.Header().Set("Content-Type", "text/javascript")
			w.Write([]byte(script))
			return
		}
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(page))
	}))
	t.Cleanup(srv.Close)
	b := browsertest.Launch(t)
	p := b.NewPage(t, "harness")
	p.AllowText("second click")
	p.Do(t, chromedp.Navigate(srv.URL), chromedp.Click(chromedp.ID("b")))
	p.Wait(t, `document.getElementById('out').textContent === 'clicked 1'`)
	p.Do(t, chromedp.Click(chromedp.ID("b")))
	p.Wait(t, `document.getElementById('out').textContent === 'clicked 2'`)
	if got := browsertest.MustEval[string](t, p, `document.getElementById('out').textContent`); got != "clicked 2" {
		t.Fatalf("out = %q", got)
	}
	p.Screenshot(t, filepath.Join(t.TempDir(), "shot.png"))
}

func TestFind(t *testing.T) {
	t.Setenv(browsertest.ChromeEnv, "/no/such/chromium")
	if _, err := browsertest.Find(); err == nil {
		t.Error("Find with a missing $CHROME_BIN: no error")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(browsertest.ChromeEnv, self)
	if got, err := browsertest.Find(); err != nil || got != self {
		t.Errorf("Find with $CHROME_BIN=%s: %q, %v", self, got, err)
	}
}

// TestBrowserAxe: axe-core is installed (npm ci into the cache), injected
// into a page whose Content-Security-Policy allows only its own scripts,
// finds a button without a name and an image without a text alternative
// (both critical), and nothing on the page once they are fixed.
func TestBrowserAxe(t *testing.T) {
	const broken = `<!doctype html><html lang="en"><head><title>axe</title></head><body><main><h1>Form</h1>` +
		`<button id="b"></button><img id="i" src="data:image/gif;base64,R0lGODlhAQABAAAAACw="></main></body></html>`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src data:")
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(broken))
	}))
	t.Cleanup(srv.Close)
	b := browsertest.Launch(t)
	p := b.NewPage(t, "axe")
	p.Do(t, chromedp.Navigate(srv.URL))
	found := map[string]string{}
	for _, v := range p.AxeViolations(t) {
		found[v.ID] = v.Impact
	}
	if found["button-name"] != "critical" || found["image-alt"] != "critical" {
		t.Errorf("axe found %v, want button-name and image-alt, critical", found)
	}
	browsertest.MustEval[bool](t, p, `(document.getElementById("b").textContent = "Go", document.getElementById("i").alt = "a dot", true)`)
	if vs := p.AxeViolations(t); len(vs) != 0 {
		t.Errorf("axe found %+v on the fixed page, want nothing", vs)
	}
	p.Axe(t, "the fixed page")
}
