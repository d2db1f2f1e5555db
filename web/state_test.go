package web_test

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sparkgate/sparkgate/internal/browsertest"
	"github.com/sparkgate/sparkgate/web"
)

// statePage loads only state.js's checks (testdata/state_test.js): no app,
// no gateway.
const statePage = `<!doctype html><html><head><meta charset="utf-8"><title>state.js</title><link rel="icon" href="/icon.svg">` +
	`<script type="module" src="/test/state_test.js"></script></head><body></body></html>`

// TestBrowserState runs the checks of state.js, the client's model, in
// Chromium: de-duplication by every identity of a message, time order with
// older archive pages in front, unread counts, change notices and the
// sessionStorage round trip. The module is served from the embedded files,
// as the gateway serves it.
func TestBrowserState(t *testing.T) {
	static, err := fs.Sub(web.FS, "static")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /", http.FileServerFS(static))
	mux.Handle("GET /test/", http.StripPrefix("/test/", http.FileServerFS(os.DirFS("testdata"))))
	mux.HandleFunc("GET /test/state.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(statePage))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	b := browsertest.Launch(t)
	p := b.NewPage(t, "state")
	p.Do(t, chromedp.Navigate(srv.URL+"/test/state.html"))
	p.Wait(t, `!!window.stateTest`)
	type result struct {
		Ran      int      `json:"ran"`
		Failures []string `json:"failures"`
	}
	r := browsertest.MustEval[result](t, p, `window.stateTest`)
	for _, f := range r.Failures {
		t.Error(f)
	}
	if r.Ran < 30 {
		t.Errorf("only %d checks ran", r.Ran)
	}
	t.Logf("%d checks of state.js", r.Ran)
}
