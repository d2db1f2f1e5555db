package typescript_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/store"

	"github.com/sparkgate/sparkgate/internal/browsertest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
)

// TestBrowserSDKExample runs the example chat (example/, on the SDK's ESM
// bundle) in Chromium for two users: each logs in with a password, alice
// sends through the page's form, and bob's page shows the message from
// its event stream; then alice registers a passkey and logs in with it
// through the bundle (Chromium's virtual authenticator). The pages and the bundle are served on the gateway's
// origin by a proxy, as a site serving its own copy would.
func TestBrowserSDKExample(t *testing.T) {
	t.Parallel()
	dir := workdir(t)
	bundle(t, dir)
	if err := copyDir("example", dir+"/example"); err != nil {
		t.Fatal(err)
	}
	// The site is on localhost, the passkeys' relying party, and the
	// gateway's passkeys accept its origin.
	var proxy atomic.Pointer[httputil.ReverseProxy]
	files := http.FileServer(http.Dir(dir))
	mux := http.NewServeMux()
	mux.Handle("/example/", files)
	mux.Handle("/dist/", files)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { proxy.Load().ServeHTTP(w, r) })
	site := httptest.NewServer(mux)
	t.Cleanup(site.Close)
	siteURL := strings.Replace(site.URL, "127.0.0.1", "localhost", 1)
	env := gatewayenv.StartWith(t, gatewayenv.Options{Setup: func(c *gateway.Config, st *store.SQLite, keys *auth.Keys) {
		var err error
		c.Auth.Passkeys, err = auth.NewPasskeys(auth.PasskeysConfig{RPID: "localhost", RPDisplayName: "sdk example", RPOrigins: []string{siteURL}, Store: st, Ceremonies: st, Keys: keys})
		if err != nil {
			t.Fatal(err)
		}
	}})
	target, err := url.Parse(env.URL)
	if err != nil {
		t.Fatal(err)
	}
	p := httputil.NewSingleHostReverseProxy(target)
	p.FlushInterval = -1 // the event stream
	proxy.Store(p)

	alice, bob := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	b := browsertest.Launch(t)
	pages := map[string]*browsertest.Page{}
	for _, u := range []ejabberdtest.User{alice, bob} {
		p := b.NewPage(t, u.Name)
		p.Do(t,
			chromedp.Navigate(siteURL+"/example/index.html"),
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

	// Passkeys: alice registers one with Chromium's virtual authenticator
	// and logs in with it, through the helpers of the bundle the gateway
	// serves (web/static/sparkgate-client.js).
	a := pages[alice.Name]
	a.AddVirtualAuthenticator(t)
	got := browsertest.MustEval[string](t, a, `(async () => {
		const { Sparkgate } = await import("/sparkgate-client.js"); // the gateway's copy
		const sg = new Sparkgate({ autoRefresh: false });
		await sg.loginWithPassword(`+strconv.Quote(alice.Name)+`, `+strconv.Quote(alice.Password)+`);
		await sg.registerPasskey(`+strconv.Quote(alice.Name)+`, `+strconv.Quote(alice.Password)+`, { name: "virtual key" });
		const other = new Sparkgate({ autoRefresh: false });
		await other.loginWithPasskey(`+strconv.Quote(alice.Name)+`);
		const me = await other.api.GET("/sparkweb/api/rest/user");
		return me.data.username;
	})()`)
	if got != alice.Name {
		t.Errorf("after a passkey login GET /user answers %q, want %q", got, alice.Name)
	}
}
