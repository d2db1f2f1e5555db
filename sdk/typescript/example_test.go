package typescript_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sparkgate/sparkgate/internal/browsertest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
)

// TestBrowserSDKExample runs the example chat (example/, on the SDK's ESM
// bundle) in Chromium for two users: each logs in with a password, alice
// sends through the page's form, and bob's page shows the message from
// its event stream. The pages and the bundle are served on the gateway's
// origin by a proxy, as a site serving its own copy would.
func TestBrowserSDKExample(t *testing.T) {
	t.Parallel()
	dir := workdir(t)
	node(t, dir, nil, "node_modules/esbuild/bin/esbuild", "src/index.ts", "--bundle", "--format=esm",
		"--target=es2022", "--minify", "--legal-comments=none", "--outfile=dist/sparkgate-client.js")
	if err := copyDir("example", dir+"/example"); err != nil {
		t.Fatal(err)
	}
	env := gatewayenv.StartWith(t, gatewayenv.Options{Plain: true})
	target, err := url.Parse(env.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.FlushInterval = -1 // the event stream
	files := http.FileServer(http.Dir(dir))
	mux := http.NewServeMux()
	mux.Handle("/example/", files)
	mux.Handle("/dist/", files)
	mux.Handle("/", proxy)
	site := httptest.NewServer(mux)
	t.Cleanup(site.Close)

	alice, bob := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	b := browsertest.Launch(t)
	pages := map[string]*browsertest.Page{}
	for _, u := range []ejabberdtest.User{alice, bob} {
		p := b.NewPage(t, u.Name)
		p.Do(t,
			chromedp.Navigate(site.URL+"/example/index.html"),
			chromedp.SetValue(chromedp.ID("user"), u.Name),
			chromedp.SetValue(chromedp.ID("pass"), u.Password),
			chromedp.Click(chromedp.CSS(`#login button:not([type])`)),
		)
		p.Wait(t, `document.getElementById("state").textContent === "open"`)
		pages[u.Name] = p
	}
	const text = "hello from the example"
	pages[alice.Name].Do(t,
		chromedp.SetValue(chromedp.ID("to"), bob.JID),
		chromedp.SetValue(chromedp.ID("text"), text),
		chromedp.Click(chromedp.CSS(`#send button`)),
	)
	pages[bob.Name].Wait(t, `document.getElementById("log").innerText.includes(`+strconv.Quote(alice.JID+": "+text)+`)`)
	pages[bob.Name].Axe(t, "the example chat")
	pages[alice.Name].Wait(t, `document.querySelector("#log .me") && document.querySelector("#log .me").innerText.includes(`+strconv.Quote(text)+`)`)
}
