package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/serviceworker"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/pquerna/otp/totp"

	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/internal/browsertest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
	"github.com/sparkgate/sparkgate/web"
)

func TestMain(m *testing.M) { ejabberdtest.Main(browsertest.Wrap(m)) }

const rest = "/sparkweb/api/rest"

// wantCSP is the policy the gateway sends with every page; uploadOrigin
// is the XMPP server's HTTP upload origin, the only other one it allows
// requests to and images from.
func wantCSP(uploadOrigin string) string {
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: " + uploadOrigin + "; " +
		"connect-src 'self' " + uploadOrigin + "; worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; " +
		"form-action 'self'; frame-ancestors 'none'"
}

// js quotes s as a JavaScript string literal.
func js(s string) string { return fmt.Sprintf("%q", s) }

// user is a person at a browser page.
type user struct {
	ejabberdtest.User
	p *browsertest.Page
}

// newPage opens a page for a person and expects the gateway's 501 answers
// (features still being built) in its console.
func newPage(t *testing.T, b *browsertest.Browser, name string) *browsertest.Page {
	p := b.NewPage(t, name)
	allowUnimplemented(p)
	return p
}

func allowUnimplemented(p *browsertest.Page) {
	p.AllowText("status of 501")
	// GET /avatar/{jid} answers 404 for a person without a picture (and
	// 403 before a presence subscription): the client asks for its
	// contacts' and its own at sign-in. It answers 502 while the user's
	// XMPP session reconnects, as when a test's account is removed at its
	// end with the page still open (TestBrowserSignInErrors in make test);
	// the picture is then just not drawn.
	p.Allow(func(m chromedp.ConsoleMessage) bool {
		s := m.String()
		return strings.Contains(m.URL, rest+"/avatar/") && (strings.Contains(s, "status of 404") || strings.Contains(s, "status of 403") || strings.Contains(s, "status of 502"))
	})
}

func signIn(t *testing.T, e *gatewayenv.Env, p *browsertest.Page, name, password string) {
	t.Helper()
	p.Do(t, chromedp.Navigate(e.URL+"/"))
	p.Wait(t, `document.body.dataset.screen === "auth"`)
	p.Do(t,
		chromedp.SetValue(chromedp.ID("login-user"), name),
		chromedp.SetValue(chromedp.ID("login-password"), password),
		chromedp.Click(chromedp.ID("login-submit")),
	)
	p.Wait(t, `document.body.dataset.conn === "connected"`)
}

// signedInAlone starts a gateway and a browser for one new person, signed
// in on a page.
func signedInAlone(t *testing.T, name string) (*gatewayenv.Env, ejabberdtest.User, *browsertest.Page) {
	t.Helper()
	e := gatewayenv.Start(t, nil)
	b := browsertest.Launch(t)
	u := ejabberdtest.NewUser(t)
	p := newPage(t, b, name)
	signIn(t, e, p, u.Name, u.Password)
	return e, u, p
}

func openChat(t *testing.T, p *browsertest.Page, name string) {
	t.Helper()
	openWith(t, p, "contact", name)
}

// openWith types name into the sidebar's form (its input is form+"-input")
// and waits for the conversation to open.
func openWith(t *testing.T, p *browsertest.Page, form, name string) {
	t.Helper()
	submit := func() {
		p.Do(t,
			chromedp.SetValue(chromedp.ID(form+"-input"), name),
			chromedp.Click(chromedp.CSS("#"+form+"-form button[type=submit]")),
		)
	}
	submit()
	// The form's handler empties the input. Once in make test
	// (2026-12-05, TestBrowserHistory/desktop, a page just signed in)
	// the conversation never opened after the click; whether the submit
	// was lost is not known. A submit the page did not take is tried
	// once more, and said.
	if !waitTrue(t, p, `document.getElementById(`+js(form+"-input")+`).value === ""`, 5*time.Second) {
		t.Logf("page %s: the %s form kept %q 5 s after its submit; submitting again", p.Name, form, name)
		submit()
	}
	p.Wait(t, `document.getElementById("conv-title").textContent === `+js(name))
}

func send(t *testing.T, p *browsertest.Page, text string) {
	t.Helper()
	p.Do(t,
		chromedp.SetValue(chromedp.ID("composer-input"), text),
		chromedp.Click(chromedp.ID("send")),
	)
	p.Wait(t, `document.getElementById("composer-input").value === ""`)
}

// shown is a JavaScript expression: how many times text is shown as a
// message body in the open conversation.
func shown(text string) string {
	return `[...document.querySelectorAll("#messages .body")].filter(e => e.textContent === ` + js(text) + `).length`
}

func waitShownOnce(t *testing.T, p *browsertest.Page, text string) {
	t.Helper()
	p.Wait(t, shown(text)+` === 1`)
}

// assertShownOnce fails unless text is shown exactly once now.
func assertShownOnce(t *testing.T, p *browsertest.Page, text string) {
	t.Helper()
	if n := browsertest.MustEval[int](t, p, shown(text)); n != 1 {
		t.Errorf("page %s shows %q %d times, want once", p.Name, text, n)
	}
}

// convButton selects the button of the chat with jid among the recent
// conversations.
func convButton(jid string) string {
	return `#chats button[data-conv="chat:` + jid + `"]`
}

// clickConv opens the conversation with jid from the recent ones (a click
// in the page: the list may be redrawn between finding and clicking).
func clickConv(t *testing.T, p *browsertest.Page, jid string) {
	t.Helper()
	clickNow(t, p, convButton(jid))
}

// dropStreams cuts every event stream of e, as a lost connection would,
// and fails the test if there was none. Each page is told to expect the
// browser's complaint about the cut response (ERR_INCOMPLETE_CHUNKED_ENCODING:
// a stream on a taken-over connection ends with the connection).
func dropStreams(t *testing.T, e *gatewayenv.Env, pages ...*browsertest.Page) {
	t.Helper()
	for _, p := range pages {
		p.AllowText("ERR_INCOMPLETE_CHUNKED_ENCODING")
	}
	if n := e.DropStreams(); n == 0 {
		t.Fatal("no open stream to cut")
	}
}

// clickAction clicks the open conversation's action id (a button of
// .conv-actions), through the "More" menu where the screen is narrow enough
// to have one (convmenu.js).
func clickAction(t *testing.T, p *browsertest.Page, id string) {
	t.Helper()
	if browsertest.MustEval[bool](t, p, `getComputedStyle(document.getElementById("conv-more")).display !== "none"`) {
		if !browsertest.MustEval[bool](t, p, `document.getElementById("conv-actions").classList.contains("open")`) {
			p.Do(t, chromedp.Click(chromedp.ID("conv-more")))
		}
		p.Wait(t, `getComputedStyle(document.getElementById("conv-actions")).display !== "none"`)
	}
	p.Do(t, chromedp.Click(chromedp.ID(id)))
}

// clickNow waits for the element sel and clicks it from the page itself:
// the lists are drawn again on changes, and a click through the DevTools
// protocol may aim at a node drawn over in between ("Could not find node
// with given id").
func clickNow(t *testing.T, p *browsertest.Page, sel string) {
	t.Helper()
	p.Wait(t, `!!document.querySelector(`+js(sel)+`)`)
	browsertest.MustEval[bool](t, p, `(document.querySelector(`+js(sel)+`).click(), true)`)
}

// contactButton selects the button of the contact jid in the contact list.
func contactButton(jid string) string {
	return `#contacts button[data-conv="chat:` + jid + `"]`
}

// TestBrowserChat: two people sign in with passwords in two browser
// contexts and talk; typing is shown; a second tab of the sender sees the
// sender's messages; a reload and a dropped stream lose and double nothing.
// At both viewports (one after the other: the journey drops every stream
// of the gateway).
func TestBrowserChat(t *testing.T) {
	t.Parallel()
	onViewports(t, chatJourney)
}

// chatJourney is TestBrowserChat at the viewport v, with people of its
// own.
func chatJourney(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
	alice := user{ejabberdtest.NewUser(t), newPage(t, b, "alice-"+v.name)}
	bob := user{ejabberdtest.NewUser(t), newPage(t, b, "bob-"+v.name)}
	v.apply(t, alice.p)
	v.apply(t, bob.p)
	start := time.Now()

	signIn(t, e, alice.p, alice.Name, alice.Password)
	signIn(t, e, bob.p, bob.Name, bob.Password)
	t.Logf("both signed in after %v", time.Since(start).Round(time.Millisecond))

	openChat(t, alice.p, bob.Name)
	send(t, alice.p, "hello bob")
	waitShownOnce(t, alice.p, "hello bob")

	// Bob sees an unread message from alice, opens the conversation.
	bob.p.Wait(t, `(document.querySelector(`+js(convButton(alice.JID)+" .unread")+`) || {}).textContent === "1"`)
	clickConv(t, bob.p, alice.JID)
	waitShownOnce(t, bob.p, "hello bob")
	bob.p.Wait(t, `!document.querySelector(`+js(convButton(alice.JID)+" .unread")+`)`)
	t.Logf("first message across after %v", time.Since(start).Round(time.Millisecond))

	// Typing shows on the other side, then the reply arrives. It is added
	// to the list: the message shown before stays the same element.
	browsertest.MustEval[bool](t, alice.p, `(window.firstShown = document.querySelector("#messages .msg"), true)`)
	bob.p.Do(t, chromedp.SendKeys(chromedp.ID("composer-input"), "hi al"))
	alice.p.Wait(t, `document.getElementById("typing").textContent.includes("typing")`)
	send(t, bob.p, "hi alice")
	waitShownOnce(t, alice.p, "hi alice")
	alice.p.Wait(t, `document.getElementById("typing").textContent === ""`)
	if !browsertest.MustEval[bool](t, alice.p, `window.firstShown.isConnected && window.firstShown === document.querySelector("#messages .msg")`) {
		t.Error("a new message re-made the messages shown before it")
	}

	// A second tab of alice, signed in by the first one without the form,
	// sees what the first one sends.
	tab2 := tabAt(t, e, alice.p, "alice-tab2-"+v.name, v)
	tab2.Wait(t, `document.body.dataset.conn === "connected"`)
	send(t, alice.p, "from tab one")
	tab2.Wait(t, `!!document.querySelector(`+js(convButton(bob.JID))+`)`)
	clickConv(t, tab2, bob.JID)
	waitShownOnce(t, tab2, "from tab one")
	if mine := browsertest.MustEval[bool](t, tab2, `[...document.querySelectorAll("#messages .msg")].some(m => m.classList.contains("mine") && m.textContent.includes("from tab one"))`); !mine {
		t.Error("tab 2 does not show alice's own message as hers")
	}
	waitShownOnce(t, bob.p, "from tab one")

	// Bob reloads mid-conversation; a message sent meanwhile arrives once
	// and nothing earlier is lost or doubled.
	bob.p.Do(t, chromedp.Reload())
	send(t, alice.p, "during reload")
	bob.p.Wait(t, `document.body.dataset.conn === "connected"`)
	waitShownOnce(t, bob.p, "during reload")
	for _, s := range []string{"hello bob", "hi alice", "from tab one"} {
		assertShownOnce(t, bob.p, s)
	}

	// The stream drops (as a network would); alice writes while it is down.
	tokAlice := e.Login(t, alice.Name, alice.Password)
	dropStreams(t, e, alice.p, bob.p, tab2)
	r := e.Do(t, "POST", rest+"/chat/message/"+url.PathEscape(bob.Name), tokAlice, "text/plain", "while dropped")
	if r.Status != http.StatusOK {
		t.Fatalf("send: %d %s", r.Status, r.Body)
	}
	bob.p.Wait(t, `document.body.dataset.conn === "connected"`)
	waitShownOnce(t, bob.p, "while dropped")
	waitShownOnce(t, alice.p, "while dropped") // the sender's other tabs get it as sent
	for _, s := range []string{"hello bob", "hi alice", "from tab one", "during reload"} {
		assertShownOnce(t, bob.p, s)
	}

	// The browser goes offline: the page says so; back online, a message
	// sent meanwhile arrives once.
	bob.p.AllowText("ERR_INTERNET_DISCONNECTED", "ERR_NETWORK_CHANGED")
	setOffline(t, bob.p, true)
	dropStreams(t, e, alice.p, bob.p, tab2)
	bob.p.Wait(t, `["offline", "reconnecting"].includes(document.body.dataset.conn)`)
	r = e.Do(t, "POST", rest+"/chat/message/"+url.PathEscape(bob.Name), tokAlice, "text/plain", "while offline")
	if r.Status != http.StatusOK {
		t.Fatalf("send: %d %s", r.Status, r.Body)
	}
	setOffline(t, bob.p, false)
	bob.p.Wait(t, `document.body.dataset.conn === "connected"`)
	waitShownOnce(t, bob.p, "while offline")
	assertShownOnce(t, bob.p, "while dropped")

	// The page comes back with an event id the gateway cannot replay from
	// (chatapi.reset): it reloads the conversation from the archive, and
	// a message sent meanwhile shows up once.
	if r := e.Do(t, "GET", rest+"/chat/messages?max=1", tokAlice, "", ""); r.Status == http.StatusOK {
		browsertest.MustEval[bool](t, bob.p, `(sessionStorage.setItem("sparkgate.lastEventId", "no-such-event"), true)`)
		bob.p.Do(t, chromedp.Navigate("about:blank"))
		r = e.Do(t, "POST", rest+"/chat/message/"+url.PathEscape(bob.Name), tokAlice, "text/plain", "after a reset")
		if r.Status != http.StatusOK {
			t.Fatalf("send: %d %s", r.Status, r.Body)
		}
		bob.p.Do(t, chromedp.Navigate(e.URL+"/"))
		bob.p.Wait(t, `document.body.dataset.conn === "connected"`)
		waitShownOnce(t, bob.p, "after a reset")
		for _, s := range []string{"hello bob", "hi alice", "from tab one", "during reload", "while dropped", "while offline"} {
			assertShownOnce(t, bob.p, s)
		}
	}
	t.Logf("chat journey took %v", time.Since(start).Round(time.Millisecond))

	bob.p.Screenshot(t, filepath.Join(t.ArtifactDir(), "chat-"+v.name+".png"))

	// A fresh browser (nothing cached) loads the conversation from the
	// archive, each message once.
	if r := e.Do(t, "GET", rest+"/chat/messages?max=1", tokAlice, "", ""); r.Status == http.StatusOK {
		fresh := newPage(t, b, "bob-fresh-"+v.name)
		v.apply(t, fresh)
		signIn(t, e, fresh, bob.Name, bob.Password)
		openChat(t, fresh, alice.Name)
		for _, s := range []string{"hello bob", "hi alice", "from tab one", "during reload", "while dropped", "while offline"} {
			waitShownOnce(t, fresh, s)
		}
	} else {
		t.Logf("archive not available (%d): history from the archive not tested", r.Status)
	}

	// Phone width (a desktop window made narrow, or the phone): the
	// conversation fills the screen, with a way back.
	if !v.mobile {
		bob.p.Do(t, chromedp.EmulateViewport(375, 740))
	}
	bob.p.Wait(t, `getComputedStyle(document.querySelector(".sidebar")).display === "none" && getComputedStyle(document.getElementById("conv-back")).display !== "none"`)
	bob.p.Screenshot(t, filepath.Join(t.ArtifactDir(), "chat-narrow-"+v.name+".png"))
	bob.p.Do(t, chromedp.Click(chromedp.ID("conv-back")))
	bob.p.Wait(t, `getComputedStyle(document.querySelector(".sidebar")).display !== "none"`)

	// Signing out (on a phone, from the account menu) revokes the token
	// and shows the sign-in screen.
	bob.p.Do(t, chromedp.Click(chromedp.ID("menu-toggle")), chromedp.Click(chromedp.ID("menu-signout")))
	bob.p.Wait(t, `document.body.dataset.screen === "auth" && !sessionStorage.getItem("sparkgate.token")`)
}

func setOffline(t *testing.T, p *browsertest.Page, offline bool) {
	t.Helper()
	p.Do(t, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		cond := &network.Conditions{Offline: offline, DownloadThroughput: -1, UploadThroughput: -1}
		if _, err := cdp.Call(ctx, tg, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			MatchedNetworkConditions: []*network.Conditions{cond},
		}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, network.OverrideNetworkState, network.OverrideNetworkStateParams{
			Offline: offline, DownloadThroughput: -1, UploadThroughput: -1,
		})
		return err
	}))
}

// TestBrowserPasskey registers a passkey through Chrome's virtual
// authenticator and signs in with it: from the username field's autofill,
// and with the passkey button, with and without a username. At the
// desktop's size only (onDesktop: the steps do not depend on the layout).
func TestBrowserPasskey(t *testing.T) {
	t.Parallel()
	onDesktop(t, passkeyJourney)
}

// passkeyJourney is TestBrowserPasskey at the viewport v, with a person
// of its own.
func passkeyJourney(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
	u := ejabberdtest.NewUser(t)
	p := newPage(t, b, "passkey-"+v.name)
	v.apply(t, p)
	p.AddVirtualAuthenticator(t)
	signIn(t, e, p, u.Name, u.Password)
	openSettings(t, p)
	p.Wait(t, `!document.getElementById("passkey-add-form").hidden`)
	// The page adds passkeys with its token and the password again: a
	// wrong password is refused (403) and the page stays signed in.
	p.AllowText("status of 403")
	p.Do(t,
		chromedp.SetValue(chromedp.ID("passkey-password"), "not the password"),
		chromedp.Click(chromedp.CSS("#passkey-add-form button[type=submit]")),
	)
	p.Wait(t, `document.getElementById("passkey-state").textContent.startsWith("Wrong password") && document.body.dataset.screen !== "auth"`)
	p.Do(t,
		chromedp.SetValue(chromedp.ID("passkey-password"), u.Password),
		chromedp.SetValue(chromedp.ID("passkey-name"), "virtual key"),
		chromedp.Click(chromedp.CSS("#passkey-add-form button[type=submit]")),
	)
	p.Wait(t, `document.getElementById("passkey-state").textContent.includes("registered")`)
	p.Wait(t, `document.getElementById("passkeys").textContent.includes("virtual key")`)
	p.Do(t, chromedp.Click(chromedp.ID("settings-close")))

	// Passkey autofill (autofill.js): the sign-in form's username field
	// offers the passkey, and picking it signs in. Chrome's virtual
	// authenticator picks for the person at once, so signing out is
	// enough: the form comes back, and the page signs in again by itself,
	// as the passkey's account, through the ceremony without a username.
	p.Allow(func(m chromedp.ConsoleMessage) bool {
		return strings.Contains(m.URL, "/sparkweb/api/") && strings.Contains(m.Text, "401")
	})
	browsertest.MustEval[bool](t, p, `(window.discoverableStarts = 0, window.fetch = ((f) => (req, init) => {
		if (String(req.url || req).endsWith("/webauthn/authenticate/start")) window.discoverableStarts++;
		return f(req, init);
	})(window.fetch), true)`)
	signOut(t, p)
	p.WaitShowing(t, `document.body.dataset.conn === "connected" && document.getElementById("me-name").textContent === `+js(u.JID)+` && window.discoverableStarts === 1`,
		`[document.body.dataset.screen, document.getElementById("auth-error").textContent, window.discoverableStarts]`)

	// A browser without autofill (conditional mediation) keeps the form
	// and the button: with a username, then without one.
	noAutofill := `(PublicKeyCredential.isConditionalMediationAvailable = async () => false, true)`
	browsertest.MustEval[bool](t, p, noAutofill)
	signOut(t, p)
	p.Wait(t, `document.body.dataset.screen === "auth"`)
	p.Do(t,
		chromedp.SetValue(chromedp.ID("login-user"), u.Name),
		chromedp.Click(chromedp.ID("login-passkey")),
	)
	p.Wait(t, `document.body.dataset.conn === "connected"`)

	// Without a username: the browser offers the passkey it holds for the
	// site, which names the account; the page shows its address and keeps
	// the session across a reload. (Signed out at once, the page may still
	// be loading what a session loads: those answers are 401.)
	signOut(t, p)
	p.Wait(t, `document.body.dataset.screen === "auth"`)
	browsertest.MustEval[bool](t, p, `(document.getElementById("login-user").value = "", true)`)
	p.Do(t, chromedp.Click(chromedp.ID("login-passkey")))
	p.WaitShowing(t, `document.body.dataset.conn === "connected" && document.getElementById("me-name").textContent === `+js(u.JID),
		`[document.getElementById("auth-error").textContent, document.getElementById("me-name").textContent]`)
	p.Do(t, chromedp.Reload())
	p.Wait(t, `document.body.dataset.conn === "connected" && document.getElementById("me-name").textContent === `+js(u.JID))
	browsertest.MustEval[bool](t, p, noAutofill) // the reload undid it

	// The token is revoked elsewhere: the stream ends for good and the
	// page asks to sign in again. From now on the stream is refused, and so
	// is whatever the page still had to load after connecting (roster,
	// rooms), which may or may not have gone out before the logout: 401,
	// or 502 when the XMPP session went away under a request.
	p.Allow(func(m chromedp.ConsoleMessage) bool {
		return strings.Contains(m.URL, "/sparkweb/api/") && (strings.Contains(m.Text, "401") || strings.Contains(m.Text, "502"))
	})
	tok := browsertest.MustEval[string](t, p, `sessionStorage.getItem("sparkgate.token")`)
	if r := e.Do(t, "POST", rest+"/logout", tok, "", ""); r.Status != http.StatusOK {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	p.Wait(t, `document.body.dataset.screen === "auth" && document.getElementById("auth-error").textContent !== "" && !sessionStorage.getItem("sparkgate.token")`)
}

// TestBrowserTOTP enrols an authenticator app from the settings (the QR
// is shown) and signs in with password and code, staying signed in. A
// wrong code, at enrolment and at sign-in, is said to be the code. At the
// phone's size only (onPhone): Settings and Sign out are in the account
// menu there, the harder way.
func TestBrowserTOTP(t *testing.T) {
	t.Parallel()
	onPhone(t, totpJourney)
}

// totpJourney is TestBrowserTOTP at the viewport v, with a person of its
// own.
func totpJourney(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
	u := ejabberdtest.NewUser(t)
	p := newPage(t, b, "totp-"+v.name)
	v.apply(t, p)
	signIn(t, e, p, u.Name, u.Password)
	// A second tab, signed in by this one's hand-off (no "stay signed
	// in"): it must follow the login the setup puts in place of the old.
	two := tabAt(t, e, p, "totp-two-"+v.name, v)
	two.Wait(t, `document.body.dataset.screen === "app" && document.body.dataset.conn === "connected"`)
	openSettings(t, p)
	p.Do(t,
		chromedp.SetValue(chromedp.ID("totp-enrol-password"), u.Password),
		chromedp.Click(chromedp.CSS("#totp-enrol-form button[type=submit]")),
	)
	p.Wait(t, `!document.getElementById("totp-enrolment").hidden && document.getElementById("totp-qr").complete && document.getElementById("totp-qr").naturalWidth > 0`)
	otpURL := browsertest.MustEval[string](t, p, `document.getElementById("totp-url").textContent`)
	ou, err := url.Parse(otpURL)
	if err != nil || ou.Query().Get("secret") == "" {
		t.Fatalf("otpauth url %q: %v", otpURL, err)
	}
	secret := ou.Query().Get("secret")
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// A wrong code at enrolment is said to be the code.
	p.AllowText("status of 401", "status of 403")
	p.Do(t,
		chromedp.SetValue(chromedp.ID("totp-confirm-code"), wrongCode(secret)),
		chromedp.Click(chromedp.CSS("#totp-confirm-form button[type=submit]")),
	)
	p.Wait(t, `document.getElementById("totp-state").textContent !== ""`)
	if got := browsertest.MustEval[string](t, p, `document.getElementById("totp-state").textContent`); !strings.HasPrefix(got, "That code is not right") {
		t.Errorf("a wrong code at enrolment says %q, want it to name the code", got)
	}
	p.Do(t,
		chromedp.SetValue(chromedp.ID("totp-confirm-code"), code),
		chromedp.Click(chromedp.CSS("#totp-confirm-form button[type=submit]")),
	)
	p.Wait(t, `document.getElementById("totp-state").textContent.includes("set up")`)
	// The first recovery codes come with the setup, shown once; Settings
	// says the app is on and offers no second setup.
	p.WaitShowing(t, `document.querySelectorAll("#recovery-codes li").length === 10 && !document.getElementById("recovery-shown").hidden`,
		`document.getElementById("recovery-shown").outerHTML`)
	codes := browsertest.MustEval[[]string](t, p, `[...document.querySelectorAll("#recovery-codes li")].map(li => li.textContent)`)
	p.WaitShowing(t, `document.getElementById("totp-status").textContent.includes("10 recovery codes are left") && document.getElementById("totp-enrol-form").hidden`,
		`document.getElementById("totp-status").textContent`)
	// The setup's sign-in replaced the tab's login: the signed-in devices
	// are this one, by password and app, and the streams of this tab and
	// of the one it handed its login to went on with the new login (a
	// message sent now arrives on both).
	var logins struct {
		Logins []struct {
			Method  string `json:"method"`
			Current bool   `json:"current"`
		} `json:"logins"`
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		r := e.Do(t, "GET", rest+"/logins", browsertest.MustEval[string](t, p, `sessionStorage.getItem("sparkgate.token")`), "", "")
		logins.Logins = nil
		if r.Status == http.StatusOK && json.Unmarshal(r.Body, &logins) == nil && len(logins.Logins) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("logins after the setup: %d %s", r.Status, r.Body)
		}
	}
	if l := logins.Logins[0]; l.Method != "totp" || !l.Current {
		t.Errorf("the login after the setup is %+v, want this tab's, by TOTP", l)
	}
	bob := ejabberdtest.NewUser(t)
	if r := e.Do(t, "POST", rest+"/chat/message/"+url.PathEscape(u.Name), e.Login(t, bob.Name, bob.Password), "text/plain", "after the setup"); r.Status != http.StatusOK {
		t.Fatalf("bob writes: %d %s", r.Status, r.Body)
	}
	for _, tab := range []*browsertest.Page{p, two} {
		tab.WaitShowing(t, `document.body.dataset.screen === "app" && document.getElementById("chats").textContent.includes("after the setup")`,
			`[document.body.dataset.screen, document.body.dataset.conn, document.getElementById("auth-error").textContent]`)
	}
	two.Do(t, chromedp.Navigate("about:blank")) // closed: the steps below sign out and in again
	p.Do(t, chromedp.Click(chromedp.ID("settings-close")))
	signOut(t, p)
	p.Wait(t, `document.body.dataset.screen === "auth"`)

	// The password alone is not enough now: the page asks for the code.
	// "Stay signed in" is ticked on the password step; the code step
	// carries it.
	browsertest.MustEval[bool](t, p, `(document.getElementById("login-remember").checked = true, true)`)
	p.Do(t,
		chromedp.SetValue(chromedp.ID("login-user"), u.Name),
		chromedp.SetValue(chromedp.ID("login-password"), u.Password),
		chromedp.Click(chromedp.ID("login-submit")),
	)
	p.Wait(t, `!document.getElementById("totp-form").hidden`)
	// The code of the enrolment was used; the next step's code is accepted
	// (one step of skew).
	code, err = totp.GenerateCode(secret, time.Now().Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	// A wrong code is said to be the code, not the password.
	p.Do(t,
		chromedp.SetValue(chromedp.ID("totp-code"), wrongCode(secret)),
		chromedp.Click(chromedp.ID("totp-submit")),
	)
	p.Wait(t, `document.getElementById("auth-error").textContent.startsWith("That code is not right")`)
	p.Do(t,
		chromedp.SetValue(chromedp.ID("totp-code"), code),
		chromedp.Click(chromedp.ID("totp-submit")),
	)
	p.Wait(t, `document.body.dataset.conn === "connected"`)
	if !browsertest.MustEval[bool](t, p, kept("localStorage")+` !== "" && `+kept("sessionStorage")+` === ""`) {
		t.Error("the code step did not carry stay signed in: the refresh token is not in localStorage")
	}

	// The phone is lost: "Use a recovery code" asks for one, letters
	// allowed, and one kept at setup signs in (typed in capitals, with a
	// space): once.
	signOut(t, p)
	p.Wait(t, `document.body.dataset.screen === "auth"`)
	p.Do(t,
		chromedp.SetValue(chromedp.ID("login-user"), u.Name),
		chromedp.SetValue(chromedp.ID("login-password"), u.Password),
		chromedp.Click(chromedp.ID("login-submit")),
	)
	p.Wait(t, `!document.getElementById("totp-form").hidden`)
	p.Do(t, chromedp.Click(chromedp.ID("totp-recovery")))
	p.Wait(t, `document.getElementById("totp-code").inputMode === "text" && document.activeElement.id === "totp-code" && document.getElementById("totp-recovery").hidden`)
	p.Do(t,
		chromedp.SetValue(chromedp.ID("totp-code"), strings.ToUpper(strings.Replace(codes[0], "-", " ", 1))),
		chromedp.Click(chromedp.ID("totp-submit")),
	)
	p.Wait(t, `document.body.dataset.conn === "connected"`)

	// Turned off in Settings with the password and another recovery code,
	// the app is no longer asked for.
	openSettings(t, p)
	p.WaitShowing(t, `document.getElementById("totp-status").textContent.includes("9 recovery codes are left")`,
		`document.getElementById("totp-status").textContent`)
	p.Do(t, chromedp.Click(chromedp.CSS("#totp-remove summary")))
	p.Wait(t, `document.getElementById("totp-remove").open`)
	p.Do(t,
		chromedp.SetValue(chromedp.ID("totp-remove-password"), u.Password),
		chromedp.SetValue(chromedp.ID("totp-remove-code"), codes[1]),
		chromedp.Click(chromedp.CSS("#totp-remove-form button[type=submit]")),
	)
	p.WaitShowing(t, `document.getElementById("totp-state").textContent.startsWith("The authenticator app is off") && `+
		`document.getElementById("totp-status").textContent.startsWith("Off") && !document.getElementById("totp-enrol-form").hidden && document.getElementById("recovery").hidden`,
		`[document.getElementById("totp-state").textContent, document.getElementById("totp-status").textContent]`)
	p.Do(t, chromedp.Click(chromedp.ID("settings-close")))
	signOut(t, p)
	p.Wait(t, `document.body.dataset.screen === "auth"`)
	p.Do(t,
		chromedp.SetValue(chromedp.ID("login-user"), u.Name),
		chromedp.SetValue(chromedp.ID("login-password"), u.Password),
		chromedp.Click(chromedp.ID("login-submit")),
	)
	p.Wait(t, `document.body.dataset.conn === "connected" && document.getElementById("totp-form").hidden`)
}

// wrongCode is a six-digit code that secret's authenticator does not
// give now, nor one step either side (nor the next step's).
func wrongCode(secret string) string {
	for _, bad := range []string{"000000", "999999", "123456"} {
		ok := true
		for _, skew := range []time.Duration{-30 * time.Second, 0, 30 * time.Second, 60 * time.Second} {
			if c, _ := totp.GenerateCode(secret, time.Now().Add(skew)); c == bad {
				ok = false
			}
		}
		if ok {
			return bad
		}
	}
	return "000001"
}

// TestPagesCSP: every file of the client is served with the strict
// Content-Security-Policy, and no page has inline script or style.
func TestPagesCSP(t *testing.T) {
	e := gatewayenv.Start(t, nil)
	static, err := fs.Sub(web.FS, "static")
	if err != nil {
		t.Fatal(err)
	}
	scriptTag := regexp.MustCompile(`(?is)<script\b[^>]*>`)
	inline := []*regexp.Regexp{
		regexp.MustCompile(`(?i)<style\b`),
		regexp.MustCompile(`(?i)\sstyle\s*=`),
		regexp.MustCompile(`(?i)\son[a-z]+\s*=`),
		regexp.MustCompile(`(?i)javascript:`),
		regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//`), // another origin
	}
	n := 0
	err = fs.WalkDir(static, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		r := e.Do(t, "GET", "/"+path, "", "", "")
		if r.Status != http.StatusOK {
			t.Errorf("GET /%s: %d", path, r.Status)
		}
		if got, want := r.Header.Get("Content-Security-Policy"), wantCSP(ejabberdtest.Shared(t).UploadOrigin()); got != want {
			t.Errorf("GET /%s: CSP %q, want %q", path, got, want)
		}
		if strings.HasSuffix(path, ".html") {
			for _, tag := range scriptTag.FindAll(r.Body, -1) {
				if !strings.Contains(string(tag), " src=") {
					t.Errorf("%s has an inline script: %q", path, tag)
				}
			}
			for _, re := range inline {
				if m := re.Find(r.Body); m != nil {
					t.Errorf("%s has inline or foreign content: %q", path, m)
				}
			}
		}
		if strings.HasSuffix(path, ".js") {
			for _, bad := range []string{"innerHTML", "eval(", "new Function", "document.write", "localStorage.setItem('sparkgate.token", "document.cookie"} {
				if strings.Contains(string(r.Body), bad) {
					t.Errorf("%s uses %s", path, bad)
				}
			}
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
				t.Errorf("%s: Content-Type %q", path, ct)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 5 {
		t.Fatalf("only %d files served", n)
	}
	r := e.Do(t, "GET", "/", "", "", "")
	if r.Status != http.StatusOK || r.Header.Get("Content-Security-Policy") != wantCSP(ejabberdtest.Shared(t).UploadOrigin()) || !strings.Contains(string(r.Body), `src="main.js"`) {
		t.Fatalf("GET /: %d %q", r.Status, r.Header.Get("Content-Security-Policy"))
	}
}

// needs fails the test when the gateway answers 501 to the operation the
// journey needs. It skipped once, while features were being added; every
// operation is implemented now and the test servers have every service, so
// a 501 is a regression that a skip would have hidden.
func needs(t *testing.T, e *gatewayenv.Env, token, method, path string) {
	t.Helper()
	if r := e.Do(t, method, path, token, "", ""); r.Status == http.StatusNotImplemented {
		t.Fatalf("%s %s answers 501: the feature this journey needs is missing", method, path)
	}
}

// TestBrowserContacts: writing to someone sends no contact request; the
// Add contact button does. Two people add each other from their pages and
// see each other's presence change. At both viewports; on a desktop alice
// uses the keyboard only (a phone focuses no text box by itself).
func TestBrowserContacts(t *testing.T) {
	t.Parallel()
	onViewports(t, contactsJourney)
}

// contactsJourney is TestBrowserContacts at the viewport v, with people
// of its own.
func contactsJourney(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
	alice := user{ejabberdtest.NewUser(t), nil}
	bob := user{ejabberdtest.NewUser(t), nil}
	needs(t, e, e.Login(t, alice.Name, alice.Password), "GET", rest+"/presence/roster")
	alice.p, bob.p = newPage(t, b, "alice-"+v.name), newPage(t, b, "bob-"+v.name)
	v.apply(t, alice.p)
	v.apply(t, bob.p)
	signIn(t, e, bob.p, bob.Name, bob.Password)

	if v.mobile {
		signIn(t, e, alice.p, alice.Name, alice.Password)
		openChat(t, alice.p, bob.Name)
		send(t, alice.p, "typed by keyboard")
	} else {
		// Alice uses the keyboard only: the page starts in the username
		// field, Tab moves to the password, Enter signs in; focus then
		// waits in the contact field, where Enter opens the chat.
		alice.p.Do(t, chromedp.Navigate(e.URL+"/"))
		alice.p.Wait(t, `document.activeElement && document.activeElement.id === "login-user"`)
		alice.p.Do(t, chromedp.KeyEvent(alice.Name), chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(alice.Password), chromedp.KeyEvent(kb.Enter))
		alice.p.Wait(t, `document.body.dataset.conn === "connected" && document.activeElement.id === "contact-input"`)
		alice.p.Do(t, chromedp.KeyEvent(bob.Name), chromedp.KeyEvent(kb.Enter))
		alice.p.Wait(t, `document.getElementById("conv-title").textContent === `+js(bob.Name)+` && document.activeElement.id === "composer-input"`)
		alice.p.Do(t, chromedp.KeyEvent("typed by keyboard"), chromedp.KeyEvent(kb.Enter))
	}
	// Opening a chat and writing asks nothing of bob: no contact request.
	waitShownOnce(t, alice.p, "typed by keyboard")
	bob.p.Wait(t, `!!document.querySelector(`+js(convButton(alice.JID))+`)`) // the message came
	bob.p.Do(t, chromedp.Sleep(time.Second))                                 // and a request would have
	accept := `#requests button[aria-label="Accept ` + alice.JID + `"]`
	if browsertest.MustEval[bool](t, bob.p, `!!document.querySelector(`+js(accept)+`)`) {
		t.Error("opening a chat sent bob a contact request")
	}

	// Alice asks for it: Add contact adds bob and asks for his presence.
	alice.p.Wait(t, `!document.getElementById("contact-add").hidden`)
	clickAction(t, alice.p, "contact-add")
	alice.p.Wait(t, `document.getElementById("contact-add").hidden`)
	bob.p.Wait(t, `!!document.querySelector(`+js(accept)+`)`)
	bob.p.Do(t, chromedp.Click(chromedp.CSS(accept)))
	alice.p.Wait(t, `!!document.querySelector(`+js(contactButton(bob.JID)+" .dot.online")+`)`)
	bob.p.Wait(t, `!!document.querySelector(`+js(contactButton(alice.JID)+" .dot.online")+`)`)

	// Bob goes away; alice sees it.
	openSettings(t, bob.p)
	bob.p.Do(t,
		chromedp.SetValue(chromedp.ID("presence-show"), "away"),
		chromedp.SetValue(chromedp.ID("presence-status"), "lunch"),
		chromedp.Click(chromedp.CSS("#presence-form button[type=submit]")),
		chromedp.Click(chromedp.ID("settings-close")),
	)
	alice.p.Wait(t, `!!document.querySelector(`+js(contactButton(bob.JID)+" .dot.away")+`)`)
	alice.p.Wait(t, `document.getElementById("conv-presence").textContent.includes("lunch")`)

	// Bob signs out (his last session); alice sees him offline.
	signOut(t, bob.p)
	alice.p.Wait(t, `!!document.querySelector(`+js(contactButton(bob.JID)+" .dot.offline")+`)`)

	// A contact added on another device (here: the API) shows up in the
	// list by its name, from the typed roster event; removed there, it goes.
	carol := ejabberdtest.NewUser(t)
	ta := e.Login(t, alice.Name, alice.Password)
	if r := e.Do(t, "POST", rest+"/roster", ta, "application/json", `{"jid":"`+carol.JID+`","nickname":"Caro"}`); r.Status != 200 {
		t.Fatalf("add carol: %d %s", r.Status, r.Body)
	}
	alice.p.Wait(t, `(document.querySelector(`+js(contactButton(carol.JID))+`) || {}).textContent?.includes("Caro")`)
	if r := e.Do(t, "DELETE", rest+"/roster/"+carol.JID, ta, "", ""); r.Status != 200 {
		t.Fatalf("remove carol: %d %s", r.Status, r.Body)
	}
	alice.p.Wait(t, `!document.querySelector(`+js(contactButton(carol.JID))+`)`)

	// Alice renames bob (his conversation's Rename): the list, the header
	// and the roster (another device, after a reload) call him so; an
	// empty name gives him his own back.
	named := func(name string) string {
		return `(document.querySelector(` + js(contactButton(bob.JID)) + `) || {}).textContent?.includes(` + js(name) + `) && document.getElementById("conv-title").textContent === ` + js(name)
	}
	clickNow(t, alice.p, contactButton(bob.JID))
	clickAction(t, alice.p, "contact-rename")
	alice.p.Wait(t, `!document.getElementById("rename-form").hidden && document.activeElement.id === "rename-input"`)
	alice.p.Do(t,
		chromedp.SetValue(chromedp.ID("rename-input"), "Bobby B"),
		chromedp.Click(chromedp.ID("rename-save")),
	)
	alice.p.Wait(t, named("Bobby B")+` && document.getElementById("rename-form").hidden`)
	var roster struct {
		Roster []struct {
			JID      string `json:"jid"`
			Nickname string `json:"nickname"`
		} `json:"roster"`
	}
	if r := e.Do(t, "GET", rest+"/roster", ta, "", ""); r.Status != 200 || json.Unmarshal(r.Body, &roster) != nil || len(roster.Roster) != 1 || roster.Roster[0].Nickname != "Bobby B" {
		t.Fatalf("the roster after the rename: %d %s", r.Status, r.Body)
	}
	alice.p.Do(t, chromedp.Reload())
	alice.p.Wait(t, `document.body.dataset.conn === "connected" && (document.querySelector(`+js(contactButton(bob.JID))+`) || {}).textContent?.includes("Bobby B")`)
	clickNow(t, alice.p, contactButton(bob.JID))
	clickAction(t, alice.p, "contact-rename")
	alice.p.Wait(t, `document.getElementById("rename-input").value === "Bobby B"`)
	browsertest.MustEval[bool](t, alice.p, `(document.getElementById("rename-input").value = "", true)`) // SetValue refuses ""
	alice.p.Do(t, chromedp.Click(chromedp.ID("rename-save")))
	alice.p.Wait(t, named(strings.ToLower(bob.Name)))
}

// TestBrowserRoom: three people in a room: join, invite, post, see the
// occupants, leave; the invitation is no contact. At both viewports.
func TestBrowserRoom(t *testing.T) {
	t.Parallel()
	e := gatewayenv.Start(t, nil)
	for _, v := range viewports {
		t.Run(v.name, func(t *testing.T) { roomJourney(t, e, v) })
	}
}

// roomJourney is TestBrowserRoom at the viewport v, with people of its own.
func roomJourney(t *testing.T, e *gatewayenv.Env, v viewport) {
	alice, bob, carol := threeSignedIn(t, e, &v)
	room := "room" + strings.ToLower(alice.Name)
	roomBtn := `#rooms button[data-conv^="room:` + room + `@"]`

	enterRoom(t, alice.p, room)

	// Alice invites bob; bob accepts the invitation from his page.
	clickAction(t, alice.p, "occupants-toggle")
	alice.p.Do(t,
		chromedp.SetValue(chromedp.ID("invite-input"), bob.Name),
		chromedp.Click(chromedp.CSS("#invite-form button[type=submit]")),
	)
	join := `#invitations button[aria-label="Join ` + room + `"]`
	clickNow(t, bob.p, join) // a list, drawn again as invitations come
	bob.p.Wait(t, `document.getElementById("conv-title").textContent === `+js(room))

	// Carol finds the room in the directory and joins it.
	carol.p.Do(t, chromedp.Click(chromedp.CSS("#directory summary")))
	listed := `#room-directory button[aria-label="Join ` + room + `"]`
	clickNow(t, carol.p, listed) // a list, drawn again as the directory loads
	carol.p.Wait(t, `document.getElementById("conv-title").textContent === `+js(room))
	alice.p.Wait(t, `document.querySelectorAll("#occupants li").length === 3`)

	send(t, alice.p, "hello room")
	for _, u := range []user{alice, bob, carol} {
		waitShownOnce(t, u.p, "hello room")
	}
	send(t, carol.p, "hi from carol")
	for _, u := range []user{alice, bob, carol} {
		waitShownOnce(t, u.p, "hi from carol")
	}
	if !browsertest.MustEval[bool](t, bob.p, `!!document.querySelector(`+js(roomBtn)+`)`) {
		t.Error("bob's room list does not show the room")
	}

	// @-mentions (mentionpick.js): "@" and the start of a nick offers the
	// occupants whose nick starts so (alice's own left out); Enter puts
	// "@nick " in the composer instead of sending, and bob sees the
	// message marked as naming him.
	nick := strings.ToLower(bob.Name) // the nick is the username
	alice.p.Do(t, chromedp.SendKeys(chromedp.ID("composer-input"), "@"+nick[:len(nick)-2]))
	alice.p.WaitShowing(t, `(l => !l.hidden && l.querySelectorAll("[role=option]").length === 1 && l.querySelector("[aria-selected=true]").dataset.nick === `+js(nick)+`)(document.getElementById("mention-list"))`+
		` && document.getElementById("composer-input").getAttribute("aria-activedescendant") === "mention-list-0"`,
		`document.getElementById("mention-list").outerHTML`)
	// The key as a page event: a DevTools Enter also types its character
	// (a separate "char" event), which a person's Enter, refused by the
	// keydown handler, never does.
	browsertest.MustEval[bool](t, alice.p, `document.getElementById("composer-input").dispatchEvent(new KeyboardEvent("keydown", {key: "Enter", bubbles: true, cancelable: true})) === false`)
	alice.p.WaitShowing(t, `document.getElementById("composer-input").value === `+js("@"+nick+" ")+` && document.getElementById("mention-list").hidden`,
		`[document.getElementById("composer-input").value, document.getElementById("mention-list").outerHTML]`)
	alice.p.Do(t, chromedp.SendKeys(chromedp.ID("composer-input"), "look at this"+kb.Enter))
	bob.p.Wait(t, `(m => !!m && m.classList.contains("mention"))(`+msgWith("@"+nick+" look at this")+`)`)
	// The invitation (a message from the room, with a body) is no contact,
	// nor a one-to-one chat with the room among the recent ones.
	for _, list := range []string{"#contacts", "#chats"} {
		if browsertest.MustEval[bool](t, bob.p, `!!document.querySelector(`+js(list+` button[data-conv^="chat:`+room+`@"]`)+`)`) {
			t.Errorf("bob's %s list shows a chat with the room that invited him", list)
		}
	}

	// Bob leaves: the room leaves his list and alice sees two occupants.
	clickAction(t, bob.p, "room-leave")
	bob.p.Wait(t, `!document.querySelector(`+js(roomBtn)+`)`)
	alice.p.Wait(t, `document.querySelectorAll("#occupants li").length === 2`)
	alice.p.Screenshot(t, filepath.Join(t.ArtifactDir(), "room-"+v.name+".png"))
}

// TestBrowserPush: the service worker registers, the page stores a push
// subscription (fabricated: headless Chromium cannot reach a real push
// service, so the subscription points at the fake one), a notification
// reaches the push service, and delivered to the worker it is shown.
//
// Not parallel: it drives the browser's service workers through DevTools
// and waits for the worker's notification, which timed out once among
// parallel journeys on a loaded machine (the cause was not found). At both
// viewports, one after the other, each with a gateway of its own (the
// person who may push is named when it starts).
func TestBrowserPush(t *testing.T) {
	for _, v := range viewports {
		t.Run(v.name, func(t *testing.T) { pushJourney(t, v) })
	}
}

// pushJourney is TestBrowserPush at the viewport v.
func pushJourney(t *testing.T, v viewport) {
	alice := ejabberdtest.NewUser(t)
	e := gatewayenv.StartWith(t, gatewayenv.Options{Push: true, PushAdmins: []string{alice.JID}})
	needs(t, e, "", "GET", rest+"/webpush/vapidkey")
	b := browsertest.Launch(t)
	p := newPage(t, b, "alice-"+v.name)
	v.apply(t, p)
	grantNotifications(t, e, p)
	signIn(t, e, p, alice.Name, alice.Password)

	// The control that turns push on is in Settings, reachable at this
	// size, and says the browser's permission in words. (Headless Chromium
	// has no push service to subscribe with: the page stores a fabricated
	// subscription below instead of pressing it.)
	openSettings(t, p)
	p.Wait(t, `document.getElementById("push-state").textContent === "Notifications are allowed." && document.getElementById("push-enable").getClientRects().length > 0`)
	p.Do(t, chromedp.Click(chromedp.ID("settings-close")))

	sub := e.Push.Subscribe(t)
	script := browsertest.MustEval[string](t, p, `(async () => {
		const m = await import("/push.js");
		await m.registerWorker();
		const reg = await navigator.serviceWorker.ready;
		await m.storeSubscription(`+sub.JSON()+`);
		return reg.active.scriptURL;
	})()`)
	if script != e.URL+"/sw.js" {
		t.Fatalf("service worker %q", script)
	}

	tok := e.Login(t, alice.Name, alice.Password)
	if r := e.Do(t, "POST", rest+"/webpush/message/"+url.PathEscape(alice.Name), tok, "text/plain", "ping from the test"); r.Status != http.StatusOK {
		t.Fatalf("push: %d %s", r.Status, r.Body)
	}
	msg := e.Push.Next(t, 15*time.Second)
	if msg.Err != nil || !strings.Contains(string(msg.Plaintext), "ping from the test") {
		t.Fatalf("push service got %q (%v)", msg.Plaintext, msg.Err)
	}

	// Hand the payload to the service worker as the push service would.
	// Chromium once (CI, full make test) accepted the delivery and showed
	// nothing for 30 s; the worker's code has one path, so the delivery is
	// tried again, at most three times, and each retry is logged with what
	// the page and the worker saw, so a real loss still fails and shows.
	// The registration is looked up once: enabling the ServiceWorker
	// domain reports the registrations, and enabling it again reports
	// nothing (a retry waited for that report until its deadline).
	var regID serviceworker.RegistrationID
	p.Do(t, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		regs := chromedp.Events(ctx, serviceworker.WorkerRegistrationUpdated)
		if _, err := cdp.Call(ctx, tg, serviceworker.Enable, cdp.Empty{}); err != nil {
			return err
		}
		for ev, err := range regs {
			if err != nil {
				return err
			}
			for _, r := range ev.Registrations {
				if r.ScopeURL == e.URL+"/" && !r.IsDeleted {
					regID = r.RegistrationID
					return nil
				}
			}
		}
		return fmt.Errorf("no service worker registration for %s", e.URL)
	}))
	deliver := func() {
		p.Do(t, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, serviceworker.DeliverPushMessage, serviceworker.DeliverPushMessageParams{
				Origin: e.URL, RegistrationID: regID, Data: string(msg.Plaintext),
			})
			return err
		}))
	}
	const shown = `navigator.serviceWorker.ready.then(r => r.getNotifications()).then(ns => ns.some(n => n.body === "ping from the test" && n.actions.length > 0))`
	for attempt := 1; ; attempt++ {
		deliver()
		if waitTrue(t, p, shown, 10*time.Second) {
			break
		}
		seen := browsertest.MustEval[string](t, p, `navigator.serviceWorker.ready.then(r => r.getNotifications()).then(ns =>
			JSON.stringify({permission: Notification.permission, state: navigator.serviceWorker.controller ? "controlled" : "uncontrolled",
				notifications: ns.map(n => ({title: n.title, body: n.body, actions: n.actions.length}))}))`)
		if attempt == 3 {
			t.Fatalf("no notification after %d deliveries; the page saw %s", attempt, seen)
		}
		t.Logf("delivery %d showed no notification in 10 s (the page saw %s); delivering again", attempt, seen)
	}

	// The worker answers a typed reply with the notification's own action
	// token. (A click on a notification cannot be simulated; this runs the
	// worker's post function in the worker, with what the click handler
	// would pass.)
	targets, err := chromedp.Targets(p.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	var sw *target.Info
	for _, ti := range targets {
		if ti.Type == "service_worker" && ti.URL == e.URL+"/sw.js" {
			sw = ti
		}
	}
	if sw == nil {
		t.Fatal("no service worker target")
	}
	swCtx, cancel := chromedp.NewContext(p.Ctx, chromedp.WithTargetID(sw.TargetID), chromedp.WithDetachOnCancel())
	defer cancel()
	ctx, cancelEval := context.WithTimeout(swCtx, browsertest.DefaultTimeout)
	defer cancelEval()
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](`self.registration.getNotifications().then(ns => {
		const n = ns.find(n => n.body === "ping from the test");
		return post(n.data.token, {action: "reply", type: "text", data: n.data.data, value: "reply from the notification"});
	})`, chromedp.EvalAwaitPromise))
	if err != nil || status != http.StatusOK {
		t.Fatalf("reply action from the worker: %d, %v", status, err)
	}
	// The action token is single-use.
	status, err = chromedp.Run(ctx, chromedp.Evaluate[int](`self.registration.getNotifications().then(ns => {
		const n = ns.find(n => n.body === "ping from the test");
		return post(n.data.token, {action: "reply", type: "text", data: n.data.data, value: "again"});
	})`, chromedp.EvalAwaitPromise))
	if err != nil || status != http.StatusUnauthorized {
		t.Fatalf("second reply with the same token: %d, %v", status, err)
	}

	// A password change starts this tab's new login (refresh token
	// family): the page stores its subscription again, which goes with
	// the new login (DELETE /logins/{id} of it would remove it). Headless
	// Chromium's push manager holds no subscription: it answers the
	// fabricated one, as a browser's would.
	browsertest.MustEval[bool](t, p, `(PushManager.prototype.getSubscription = async () => (`+sub.JSON()+`), true)`)
	family := `JSON.parse(atob(sessionStorage.getItem("sparkgate.token").split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).fam`
	before := browsertest.MustEval[string](t, p, family)
	openSettings(t, p)
	p.Do(t,
		chromedp.SetValue(chromedp.ID("password-current"), alice.Password),
		chromedp.SetValue(chromedp.ID("password-new"), "a brand new password"),
		chromedp.Click(chromedp.ID("password-submit")),
	)
	p.Wait(t, `document.getElementById("password-state").textContent.startsWith("Your password is changed")`)
	after := browsertest.MustEval[string](t, p, family)
	if after == "" || after == before {
		t.Fatalf("the login after the password change: %q, before %q", after, before)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		subs, err := e.Store.PushSubscriptions(t.Context(), alice.JID)
		if err != nil {
			t.Fatal(err)
		}
		if len(subs) == 1 && subs[0].Login == after {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the push subscriptions after the password change: %+v, want one of the login %s", subs, after)
		}
	}
}

// a11yAudit is a JavaScript expression listing the visible form controls
// without a label and the buttons without an accessible name.
const a11yAudit = `(() => {
	const visible = (el) => el.getClientRects().length > 0;
	const bad = [];
	for (const el of document.querySelectorAll("input:not([type=hidden]):not([hidden]), select, textarea")) {
		if (!visible(el) && !el.classList.contains("visually-hidden")) continue;
		const labelled = el.labels && el.labels.length > 0 || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby");
		if (!labelled) bad.push("unlabelled " + el.tagName + "#" + el.id);
	}
	for (const el of document.querySelectorAll("button")) {
		if (visible(el) && !(el.textContent.trim() || el.getAttribute("aria-label"))) bad.push("nameless button #" + el.id);
	}
	return bad;
})()`

// TestBrowserAccount: registering from the page, a link preview under a
// message, the meeting button, and labels on every control. At both
// viewports (on a phone the meeting button is behind "More").
func TestBrowserAccount(t *testing.T) {
	t.Parallel()
	pic, err := os.ReadFile(writePNG(t, "pic.png"))
	if err != nil {
		t.Fatal(err)
	}
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/pic.png" {
			w.Header().Set("Content-Type", "image/png")
			w.Write(pic)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<html><head><title>plain</title><meta property="og:title" content="The Preview Title"><meta property="og:description" content="What the page is about"><meta property="og:image" content="/pic.png"></head><body>hi</body></html>`)
	}))
	t.Cleanup(site.Close)
	e := gatewayenv.Start(t, func(c *gateway.Config) {
		c.Users.Preview.Allow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		c.Users.Preview.Ports = []uint16{0}
		c.Collab.Meetings.JitsiURL = "http://127.0.0.1:9"
	})
	b := browsertest.Launch(t)
	for _, v := range viewports {
		t.Run(v.name, func(t *testing.T) { accountJourney(t, e, b, v, site.URL) })
	}
}

// accountJourney is TestBrowserAccount at the viewport v, with people of
// its own; site is the page whose link bob sends.
func accountJourney(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport, site string) {
	// The accounts go after the page is closed (cleanups run last first):
	// a page still loading when its account goes would see 502s.
	bob := ejabberdtest.NewUser(t)
	name := "reg" + strings.ToLower(bob.Name)
	password := "a long enough password"
	t.Cleanup(func() { ejabberdtest.Admin(t).Unregister(context.Background(), name) })
	p := newPage(t, b, "newcomer-"+v.name)
	v.apply(t, p)
	p.Do(t, chromedp.Navigate(e.URL+"/"))
	p.Wait(t, `document.body.dataset.screen === "auth"`)
	if bad := browsertest.MustEval[[]string](t, p, a11yAudit); len(bad) > 0 {
		t.Errorf("sign-in screen: %v", bad)
	}
	p.Do(t,
		chromedp.SetValue(chromedp.ID("login-user"), name),
		chromedp.SetValue(chromedp.ID("login-password"), password),
		chromedp.Click(chromedp.ID("register-submit")),
	)
	// Create account asks for the password again, as a new password.
	p.Wait(t, `!document.getElementById("register-more").hidden && document.activeElement.id === "login-password2" &&
		document.getElementById("login-password").autocomplete === "new-password" && document.getElementById("auth-title").textContent === "Create an account"`)
	p.Do(t,
		chromedp.SetValue(chromedp.ID("login-password2"), password),
		chromedp.Click(chromedp.ID("register-submit")),
	)
	p.Wait(t, `document.body.dataset.conn === "connected"`)
	if bad := browsertest.MustEval[[]string](t, p, a11yAudit); len(bad) > 0 {
		t.Errorf("chat screen: %v", bad)
	}

	// Bob sends a link; the page shows it with the page's preview.
	tok := e.Login(t, bob.Name, bob.Password)
	link := site + "/article"
	if r := e.Do(t, "POST", rest+"/chat/message/"+url.PathEscape(name), tok, "text/plain", "look: "+link); r.Status != http.StatusOK {
		t.Fatalf("send: %d %s", r.Status, r.Body)
	}
	p.Wait(t, `!!document.querySelector(`+js(convButton(bob.JID))+`)`)
	clickConv(t, p, bob.JID)
	waitShownOnce(t, p, "look: "+link)
	p.Wait(t, `[...document.querySelectorAll("#messages .preview a")].some(a => a.textContent === "The Preview Title")`)
	// Its og:image, through the gateway (the page's CSP admits no other
	// origin's images), shown from a blob: URL.
	const pv = `document.querySelector("#messages .preview img.preview-image")`
	p.WaitShowing(t, `!!`+pv+` && `+pv+`.complete && `+pv+`.naturalWidth === 40 && `+pv+`.src.startsWith("blob:")`,
		`document.querySelector("#messages .preview")?.outerHTML`)

	// Markup in a message is text, never markup.
	evil := `<img src=x onerror="window.pwned=1"><b>bold</b> & "quotes"`
	if r := e.Do(t, "POST", rest+"/chat/message/"+url.PathEscape(name), tok, "text/plain", evil); r.Status != http.StatusOK {
		t.Fatalf("send: %d %s", r.Status, r.Body)
	}
	waitShownOnce(t, p, evil)
	if bad := browsertest.MustEval[bool](t, p, `window.pwned === 1 || !!document.querySelector("#messages img:not(.preview-image), #messages b")`); bad {
		t.Error("a message's markup was rendered")
	}

	// A file: the page gets a slot, PUTs the file to the upload service
	// (another origin, allowed by the gateway's connect-src), then sends
	// the link. The link's preview is refused: it is a loopback address.
	p.Allow(func(m chromedp.ConsoleMessage) bool {
		return strings.Contains(m.URL, "/preview/") && strings.Contains(m.URL, url.QueryEscape("/upload/"))
	})
	file := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(file, []byte("some notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p.Do(t, chromedp.SetUploadFiles(chromedp.ID("file-input"), []string{file}))
	p.Wait(t, `[...document.querySelectorAll("#messages .msg.mine .body")].some(b => b.textContent.includes("notes.txt")) || document.getElementById("notice").textContent.includes("could not be reached")`)
	if browsertest.MustEval[bool](t, p, `document.getElementById("notice").textContent.includes("could not be reached")`) {
		t.Fatal("upload: the page could not PUT the file to the upload service")
	}

	// The meeting button shares a meeting link in the conversation. (The
	// link's preview fails: nothing listens there.)
	p.Allow(func(m chromedp.ConsoleMessage) bool {
		return strings.Contains(m.URL, "/preview/") && strings.Contains(m.URL, url.QueryEscape("http://127.0.0.1:9/"))
	})
	p.Wait(t, `!document.getElementById("meeting").hidden`)
	clickAction(t, p, "meeting")
	// The link is shared without the token, which is this user's own.
	p.Wait(t, `[...document.querySelectorAll("#messages .msg.mine .body")].some(b => /^Join the meeting: http:\/\/127\.0\.0\.1:9\/[a-z2-7]{26} \(press Meeting/.test(b.textContent))`)
}

// TestBrowserHistory: a conversation of 250 archived messages (two and a
// half pages) opens on the newest page, scrolled to its end; scrolling to
// the top loads the older pages above, one at a time, each message once
// and in order, and what was at the top stays where it was. At the phone's size only: the steps do not depend on the layout.
func TestBrowserHistory(t *testing.T) {
	t.Parallel()
	onPhone(t, func(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
		frank, gina := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
		tok := e.Login(t, frank.Name, frank.Password)
		if r := e.Do(t, "GET", rest+"/chat/messages?max=1", tok, "", ""); r.Status != http.StatusOK {
			t.Fatalf("the archive answers %d %s", r.Status, r.Body)
		}
		// Gina is online when frank writes (else the messages would reach her
		// next session as offline messages, not from the archive).
		online := newPage(t, b, "gina-before-"+v.name)
		signIn(t, e, online, gina.Name, gina.Password)
		const n = 250 // the page is 100
		body := func(i int) string { return fmt.Sprintf("history %03d", i) }
		for i := 1; i <= n; i++ {
			if r := e.Do(t, "POST", rest+"/chat/message/"+url.PathEscape(gina.Name), tok, "text/plain", body(i)); r.Status != http.StatusOK {
				t.Fatalf("send %d: %d %s", i, r.Status, r.Body)
			}
		}
		online.Wait(t, `(document.querySelector(`+js(convButton(frank.JID)+" .unread")+`) || {}).textContent === "`+fmt.Sprint(n)+`"`)
		// Another browser (nothing cached) opens the conversation.
		p := newPage(t, b, "gina-"+v.name)
		v.apply(t, p)
		signIn(t, e, p, gina.Name, gina.Password)
		openChat(t, p, frank.Name)

		const count = `document.querySelectorAll("#messages .msg").length`
		const inOrder = `(() => { const b = [...document.querySelectorAll("#messages .body")].map(e => e.textContent);
			return b.every((x, i) => i === 0 || b[i-1] < x); })()`
		waitShownOnce(t, p, body(n))
		p.Wait(t, count+` === 100`)
		if got := browsertest.MustEval[[]int](t, p, `[`+shown(body(150))+`, `+shown(body(151))+`]`); got[0] != 0 || got[1] != 1 {
			t.Errorf("the first page shows %s %d times and %s %d times, want the newest 100 only", body(150), got[0], body(151), got[1])
		}
		if !browsertest.MustEval[bool](t, p, inOrder) {
			t.Errorf("the newest page is not in order: %v", browsertest.MustEval[[]string](t, p, `[...document.querySelectorAll("#messages .body")].map(e => e.textContent)`))
		}
		p.Wait(t, `(l => l.scrollHeight - l.scrollTop - l.clientHeight < 40)(document.getElementById("messages"))`)

		// Scroll to the top, twice: each time the older page comes above,
		// and the message that was at the top stays in view where it was.
		for _, page := range []struct{ wasTop, total int }{{151, 200}, {51, n}} {
			top := `(() => { const l = document.getElementById("messages");
				const m = [...l.querySelectorAll(".msg")].find(e => e.querySelector(".body").textContent === ` + js(body(page.wasTop)) + `);
				return Math.round(m.getBoundingClientRect().top - l.getBoundingClientRect().top); })()`
			before := browsertest.MustEval[int](t, p, `(document.getElementById("messages").scrollTop = 0, `+top+`)`)
			p.Wait(t, count+` === `+fmt.Sprint(page.total))
			if !browsertest.MustEval[bool](t, p, inOrder) {
				t.Errorf("the conversation is not in order with %d messages", page.total)
			}
			if after := browsertest.MustEval[int](t, p, top); after < before-40 || after > before+40 {
				t.Errorf("%s moved from %dpx to %dpx below the list's top when the older page came", body(page.wasTop), before, after)
			}
		}
		for i := 1; i <= n; i++ {
			assertShownOnce(t, p, body(i))
		}
		p.Screenshot(t, filepath.Join(t.ArtifactDir(), "history-"+v.name+".png"))

		// Search (search.js), on another device: the messages holding every
		// word (the gateway's rule), newest first, each word marked; the
		// oldest page's message opens the conversation there, with the
		// pages above loaded and the message in view, marked.
		s := newPage(t, b, "gina-search-"+v.name)
		v.apply(t, s)
		signIn(t, e, s, gina.Name, gina.Password)
		want := []string{body(200), body(100)}
		for i := 9; i >= 1; i-- {
			want = append(want, body(i))
		}
		if found := search(t, s, "00 history"); !slices.Equal(found, want) {
			t.Errorf("searching \"00 history\" found %q, want %q", found, want)
		}
		if marks := browsertest.MustEval[[]string](t, s, `[...document.querySelectorAll("#search-results .found")].map(b => [...b.querySelectorAll("mark")].map(m => m.textContent).join("|"))`); len(marks) != len(want) || marks[0] != "history|00" {
			t.Errorf("the marked words are %q, want history|00 in each", marks)
		}
		if said := browsertest.MustEval[string](t, s, `document.getElementById("search-state").textContent`); said != "11 messages found, newest first." {
			t.Errorf("the search of 11 says %q", said)
		}
		openFound(t, s, body(3))
		if got := browsertest.MustEval[int](t, s, count); got != n {
			t.Errorf("%d messages shown after opening the oldest page's result, want %d", got, n)
		}
		// "history" matches all 250: the newest 50 are listed, and the
		// person is told older ones match too.
		if found := search(t, s, "history"); len(found) != 50 || found[0] != body(n) || found[49] != body(n-49) {
			t.Errorf("searching \"history\" found %q; want the newest 50, %s to %s", found, body(n), body(n-49))
		}
		if said := browsertest.MustEval[string](t, s, `document.getElementById("search-state").textContent`); !strings.Contains(said, "older ones match too") {
			t.Errorf("a search with more than 50 matches says %q", said)
		}
		// "Show older matches" adds the archive's next pages, each
		// message once, until all 250 are listed, newest first; then the
		// button goes, and the focus is on the first one added.
		for page := 2; page <= 5; page++ {
			s.Do(t, chromedp.Click(chromedp.ID("search-more")))
			s.Wait(t, fmt.Sprintf(`document.querySelectorAll("#search-results .found").length === %d`, page*50))
			if got := browsertest.MustEval[string](t, s, `document.activeElement.closest(".found") ? document.activeElement.querySelector(".snippet").textContent : document.activeElement.id`); got != body(n-(page-1)*50) {
				t.Errorf("after page %d the focus is on %q, want the first added, %s", page, got, body(n-(page-1)*50))
			}
		}
		s.Wait(t, `document.getElementById("search-more").hidden && document.getElementById("search-state").textContent === "250 messages found, newest first."`)
		all := browsertest.MustEval[[]string](t, s, `[...document.querySelectorAll("#search-results .found .snippet")].map(e => e.textContent)`)
		for i, got := range all {
			if got != body(n-i) {
				t.Fatalf("result %d of all 250 is %q, want %q", i, got, body(n-i))
			}
		}
		if r := search(t, s, "no such words here"); len(r) != 0 || !browsertest.MustEval[bool](t, s, `document.getElementById("search-state").textContent.startsWith("No messages contain")`) {
			t.Errorf("a search that matches nothing: %q, said %q", r, browsertest.MustEval[string](t, s, `document.getElementById("search-state").textContent`))
		}

		// Typing filters the lists by name at once; emptied, they are whole.
		frankShown := `!!document.querySelector(` + js(convButton(frank.JID)) + `)`
		browsertest.MustEval[bool](t, s, `(e => (e.value = "", e.dispatchEvent(new Event("input")), true))(document.getElementById("search-input"))`)
		s.Wait(t, frankShown+` && document.getElementById("search-results").hidden`)
		s.Do(t, chromedp.SendKeys(chromedp.ID("search-input"), strings.ToUpper(frank.Name[:5])))
		s.Wait(t, frankShown)
		s.Do(t, chromedp.SendKeys(chromedp.ID("search-input"), "zz"))
		s.Wait(t, `!`+frankShown+` && document.getElementById("chats").textContent.startsWith("No conversation has that name")`)
		s.Do(t, chromedp.SendKeys(chromedp.ID("search-input"), kb.Escape))
		s.Wait(t, frankShown+` && document.getElementById("search-input").value === ""`)
	})
}

// search runs the sidebar's message search for text on p and answers the
// bodies of the results, in the order shown.
func search(t *testing.T, p *browsertest.Page, text string) []string {
	t.Helper()
	if browsertest.MustEval[bool](t, p, `document.body.classList.contains("in-conv") && getComputedStyle(document.getElementById("conv-back")).display !== "none"`) {
		p.Do(t, chromedp.Click(chromedp.ID("conv-back"))) // a phone shows one pane
	}
	browsertest.MustEval[bool](t, p, `(document.getElementById("search-state").textContent = "", true)`)
	p.Do(t,
		chromedp.SetValue(chromedp.ID("search-input"), text),
		chromedp.Click(chromedp.ID("search-submit")),
	)
	p.Wait(t, `(s => s !== "" && s !== "Searching…")(document.getElementById("search-state").textContent)`)
	return browsertest.MustEval[[]string](t, p, `[...document.querySelectorAll("#search-results .found .snippet")].map(e => e.textContent)`)
}

// openFound clicks the search result whose text is body and waits for
// its message to be shown in view, marked as the one found.
func openFound(t *testing.T, p *browsertest.Page, body string) {
	t.Helper()
	browsertest.MustEval[bool](t, p, `([...document.querySelectorAll("#search-results .found")].find(b => b.querySelector(".snippet").textContent === `+js(body)+`).click(), true)`)
	p.WaitShowing(t, `(() => { const m = `+msgWith(body)+`; if (!m || !m.classList.contains("found-here")) return false;
		const l = document.getElementById("messages").getBoundingClientRect(), r = m.getBoundingClientRect();
		return r.top >= l.top - 1 && r.bottom <= l.bottom + 1; })()`, `document.getElementById("notice").textContent`)
}

// TestBrowserNoSuchUser: writing to an address that does not exist never
// shows it typing (a bounce echoes our own chat state back), and the
// bounce says the message was not delivered. At both viewports.
func TestBrowserNoSuchUser(t *testing.T) {
	t.Parallel()
	onViewports(t, func(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
		alice := ejabberdtest.NewUser(t)
		p := newPage(t, b, "alice-"+v.name)
		v.apply(t, p)
		signIn(t, e, p, alice.Name, alice.Password)
		// Remember whether "typing" ever shows, however briefly.
		browsertest.MustEval[bool](t, p, `(() => {
		const el = document.getElementById("typing");
		window.typingSeen = "";
		new MutationObserver(() => { if (el.textContent.includes("typing")) window.typingSeen = el.textContent; })
			.observe(el, {childList: true, characterData: true, subtree: true});
		return true;
	})()`)
		ghost := "nosuch" + strings.ToLower(alice.Name)
		openChat(t, p, ghost)
		p.Do(t, chromedp.SendKeys(chromedp.ID("composer-input"), "hello ghost"))
		p.Do(t, chromedp.Click(chromedp.ID("send")))
		p.Wait(t, `document.getElementById("notice").textContent.includes("not delivered")`)
		p.Do(t, chromedp.Sleep(time.Second)) // a late bounce
		if seen := browsertest.MustEval[string](t, p, `window.typingSeen`); seen != "" {
			t.Errorf("the page showed %q for an address that does not exist", seen)
		}
		if got := browsertest.MustEval[string](t, p, `document.getElementById("typing").textContent`); got != "" {
			t.Errorf("typing line %q", got)
		}
	})
}

// TestBrowserConnection: the badge follows the event stream. The network
// goes away while the stream stays open (a blip), and comes back: the
// badge says connected again, and a message sent meanwhile is shown.
// (Before, the badge kept saying Offline while messages arrived.) At both
// viewports.
func TestBrowserConnection(t *testing.T) {
	t.Parallel()
	onViewports(t, func(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
		u, bob := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
		p := newPage(t, b, "alice-"+v.name)
		v.apply(t, p)
		signIn(t, e, p, u.Name, u.Password)
		tok := e.Login(t, bob.Name, bob.Password)
		p.AllowText("ERR_INTERNET_DISCONNECTED", "ERR_NETWORK_CHANGED")

		// A blip the stream never noticed: the browser says offline, then
		// online, while the stream stays open (no error, no new open event
		// to wake the badge). Back online the badge is the stream's again.
		browsertest.MustEval[bool](t, p, `window.dispatchEvent(new Event("offline")) || true`)
		p.Wait(t, `document.body.dataset.conn === "offline"`)
		browsertest.MustEval[bool](t, p, `window.dispatchEvent(new Event("online")) || true`)
		p.Wait(t, `document.body.dataset.conn === "connected" && document.getElementById("conn").textContent === "Connected"`)

		// A cut the stream notices.
		setOffline(t, p, true)
		p.Wait(t, `document.body.dataset.conn === "offline"`)
		setOffline(t, p, false)
		if r := e.Do(t, "POST", rest+"/chat/message/"+url.PathEscape(u.Name), tok, "text/plain", "after the blip"); r.Status != http.StatusOK {
			t.Fatalf("send: %d %s", r.Status, r.Body)
		}
		p.Wait(t, `!!document.querySelector(`+js(convButton(bob.JID))+`)`)
		p.Wait(t, `document.body.dataset.conn === "connected" && document.getElementById("conn").textContent === "Connected"`)
	})
}

// TestBrowserSignInErrors: each way a sign-in or registration fails is
// said in its own plain sentence, picked by the error's code and never
// the server's message: a wrong password, no passkey for this user, a
// username the server refuses (no regular expression shown), a password
// too short, a taken name, an account locked out (with the wait), too
// many attempts, and a server that cannot be reached. At both viewports.
func TestBrowserSignInErrors(t *testing.T) {
	t.Parallel()
	e := gatewayenv.Start(t, func(c *gateway.Config) {
		c.Auth.MaxFailures = 2                                         // locked at the third attempt
		c.Auth.PerUser = gateway.RateLimit{Every: time.Hour, Burst: 3} // and refused at the fourth
	})
	b := browsertest.Launch(t)
	for _, v := range viewports {
		t.Run(v.name, func(t *testing.T) { signInErrors(t, e, b, v) })
	}
}

// signInErrors is TestBrowserSignInErrors at the viewport v, with people
// of its own.
func signInErrors(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
	// The accounts first, so that they are removed after the page is
	// closed: the page signs in as wrong at the end and may still be
	// loading its lists (502s while ejabberd ends the removed user's
	// session).
	wrong, locked, limited := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	p := newPage(t, b, "visitor-"+v.name)
	v.apply(t, p)
	p.AllowText("status of 400", "status of 401", "status of 403", "status of 409", "status of 429", "ERR_INTERNET_DISCONNECTED")
	p.Do(t, chromedp.Navigate(e.URL+"/"))
	p.Wait(t, `document.body.dataset.screen === "auth"`)

	// attempt fills the form, presses a button and waits for the error.
	attempt := func(name, password, button string) string {
		t.Helper()
		browsertest.MustEval[bool](t, p, `(document.getElementById("auth-error").textContent = "",
			document.getElementById("login-user").value = `+js(name)+`,
			document.getElementById("login-password").value = `+js(password)+`, true)`)
		if button == "register-submit" {
			// The first press makes the form a registration; the password
			// goes in twice.
			if browsertest.MustEval[bool](t, p, `document.getElementById("register-more").hidden`) {
				p.Do(t, chromedp.Click(chromedp.ID(button)))
				p.Wait(t, `!document.getElementById("register-more").hidden`)
			}
			browsertest.MustEval[bool](t, p, `(document.getElementById("login-password2").value = `+js(password)+`, true)`)
		}
		p.Do(t, chromedp.Click(chromedp.ID(button)))
		p.Wait(t, `document.getElementById("auth-error").textContent !== ""`)
		return browsertest.MustEval[string](t, p, `document.getElementById("auth-error").textContent`)
	}
	expect := func(what, got string, want *regexp.Regexp) {
		t.Helper()
		if !want.MatchString(got) {
			t.Errorf("%s: the page says %q, want %v", what, got, want)
		}
		if strings.ContainsAny(got, `^$\[]`) || strings.Contains(got, "regular expression") || strings.Contains(got, "parameter") {
			t.Errorf("%s: the page shows the server's validator text: %q", what, got)
		}
	}

	expect("wrong password", attempt(wrong.Name, "not the password", "login-submit"),
		regexp.MustCompile(`^Wrong username or password\.$`))
	// The button pressed has the focus again (disabled while busy, it had
	// lost it to the page).
	if id := browsertest.MustEval[string](t, p, `document.activeElement ? document.activeElement.id : ""`); id != "login-submit" {
		t.Errorf("after a failed sign-in the focus is on %q, want the sign-in button", id)
	}
	expect("no passkey", attempt(wrong.Name, "", "login-passkey"),
		regexp.MustCompile(`^This user has no passkey`))
	expect("a username with a space, signing in", attempt("Jane "+v.name, "whatever it is", "login-submit"),
		regexp.MustCompile(`^That username cannot be used: a username has no spaces`))
	expect("a username with a space, registering", attempt("Jane "+v.name, "a long enough password", "register-submit"),
		regexp.MustCompile(`^That username cannot be used: a username has no spaces`))
	expect("a short password", attempt("new"+strings.ToLower(wrong.Name), "short", "register-submit"),
		regexp.MustCompile(`^Choose a longer password: at least 8 characters\.$`))
	expect("a taken name", attempt(wrong.Name, "a long enough password", "register-submit"),
		regexp.MustCompile(`^That username is taken\.`))
	// Two passwords that differ are said so, before any request.
	browsertest.MustEval[bool](t, p, `(document.getElementById("auth-error").textContent = "",
		document.getElementById("login-password").value = "one long password",
		document.getElementById("login-password2").value = "another long password", true)`)
	p.Do(t, chromedp.Click(chromedp.ID("register-submit")))
	p.Wait(t, `document.getElementById("auth-error").textContent !== ""`)
	expect("passwords that differ", browsertest.MustEval[string](t, p, `document.getElementById("auth-error").textContent`),
		regexp.MustCompile(`^The two passwords differ`))

	// Two failed logins lock the account out from this address.
	for range 2 {
		if r := e.Do(t, "POST", rest+"/login/"+url.PathEscape(locked.Name), "", "text/plain", "not the password"); r.Status != http.StatusUnauthorized {
			t.Fatalf("failed login: %d %s", r.Status, r.Body)
		}
	}
	expect("locked out", attempt(locked.Name, locked.Password, "login-submit"),
		regexp.MustCompile(`^Too many failed sign-ins: this account is locked for now\. Try again in (1[0-5]|[2-9]) minutes\.$`))

	// Three attempts spend the username's; the fourth is refused.
	for range 3 {
		e.Do(t, "POST", rest+"/register/"+url.PathEscape(limited.Name), "", "text/plain", "a long enough password")
	}
	expect("rate limited", attempt(limited.Name, limited.Password, "login-submit"),
		regexp.MustCompile(`^Too many attempts\. Try again in (an hour|[0-9]+ minutes)\.$`))

	// No network: the server cannot be reached.
	setOffline(t, p, true)
	expect("offline", attempt(wrong.Name, wrong.Password, "login-submit"),
		regexp.MustCompile(`^Cannot reach the server\. Check your connection`))
	setOffline(t, p, false)
	p.Do(t, chromedp.SetValue(chromedp.ID("login-password"), wrong.Password), chromedp.Click(chromedp.ID("login-submit")))
	p.Wait(t, `document.body.dataset.conn === "connected"`)
}

// TestBrowserDrafts: each conversation keeps its own unsent text. A draft
// typed to bob is not in carol's composer, and what is sent to carol goes
// to carol only; back with bob, and after a reload, bob's draft is there,
// and sent, it goes to bob. At the phone's size only (onPhone: the steps
// do not depend on the layout).
func TestBrowserDrafts(t *testing.T) {
	t.Parallel()
	onPhone(t, func(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
		alice, bob, carol := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
		p := newPage(t, b, "alice-"+v.name)
		v.apply(t, p)
		signIn(t, e, p, alice.Name, alice.Password)
		composer := func(want string) {
			t.Helper()
			p.Wait(t, `document.getElementById("composer-input").value === `+js(want))
		}
		back := func() { // a phone shows the list or a conversation
			if v.mobile {
				p.Do(t, chromedp.Click(chromedp.ID("conv-back")))
			}
		}

		openChat(t, p, bob.Name)
		p.Do(t, chromedp.SendKeys(chromedp.ID("composer-input"), "draft for bob"))
		leaveConversation(t, p, v, carol.Name)
		composer("")
		p.Do(t, chromedp.SendKeys(chromedp.ID("composer-input"), "hi carol"), chromedp.Click(chromedp.ID("send")))
		waitShownOnce(t, p, "hi carol")
		composer("")

		back()
		clickConv(t, p, bob.JID)
		p.Wait(t, `document.getElementById("conv-title").textContent === `+js(bob.Name))
		composer("draft for bob")
		if n := browsertest.MustEval[int](t, p, shown("hi carol")); n != 0 {
			t.Errorf("bob's conversation shows the message sent to carol")
		}
		p.Do(t, chromedp.Reload())
		p.Wait(t, `document.body.dataset.conn === "connected" && document.getElementById("conv-title").textContent === `+js(bob.Name))
		composer("draft for bob")
		p.Do(t, chromedp.Click(chromedp.ID("send")))
		waitShownOnce(t, p, "draft for bob")
		composer("")

		back()
		clickConv(t, p, carol.JID)
		p.Wait(t, `document.getElementById("conv-title").textContent === `+js(carol.Name))
		waitShownOnce(t, p, "hi carol")
		composer("")
		if n := browsertest.MustEval[int](t, p, shown("draft for bob")); n != 0 {
			t.Errorf("carol's conversation shows the message sent to bob")
		}
	})
}

// TestBrowserChats: the recent conversations, people and rooms, are
// listed by their last activity, each with its last message, its time and
// its unread count; the conversation shows the day and groups one
// sender's messages in a row. At both viewports.
func TestBrowserChats(t *testing.T) {
	t.Parallel()
	onViewports(t, func(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
		alice, bob, carol := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
		p := newPage(t, b, "alice-"+v.name)
		v.apply(t, p)
		signIn(t, e, p, alice.Name, alice.Password)
		tokBob, tokCarol := e.Login(t, bob.Name, bob.Password), e.Login(t, carol.Name, carol.Password)
		say := func(tok, text string) {
			t.Helper()
			if r := e.Do(t, "POST", rest+"/chat/message/"+url.PathEscape(alice.Name), tok, "text/plain", text); r.Status != http.StatusOK {
				t.Fatalf("send: %d %s", r.Status, r.Body)
			}
		}
		order := func(want ...string) {
			t.Helper()
			p.Wait(t, `JSON.stringify([...document.querySelectorAll("#chats button")].map(b => b.dataset.conv.split("@")[0])) === `+js(`["`+strings.Join(want, `","`)+`"]`))
		}
		item := func(jid, part string) string {
			return browsertest.MustEval[string](t, p, `(document.querySelector(`+js(convButton(jid)+" "+part)+`) || {}).textContent || ""`)
		}

		// Nothing yet: the list says how to start, and our own address.
		p.Wait(t, `document.querySelector("#chats .hint").textContent.includes(`+js(alice.JID)+`)`)

		say(tokBob, "first from bob")
		order("chat:" + bob.Name)
		say(tokCarol, "hello from carol\nsecond line")
		order("chat:"+carol.Name, "chat:"+bob.Name)
		if got := item(carol.JID, ".snippet"); got != "hello from carol second line" {
			t.Errorf("carol's last message in the list: %q", got)
		}
		// The count is chatapi.unread, a lazy event (openapi.yaml): it may
		// follow the message by up to 100 ms, so it is waited for.
		p.Wait(t, `(document.querySelector(`+js(convButton(carol.JID)+" .unread")+`) || {}).textContent === "1"`)
		if got := item(carol.JID, ".when"); !regexp.MustCompile(`[0-9]`).MatchString(got) {
			t.Errorf("carol's time in the list: %q", got)
		}

		// A new message moves its conversation up; the keyboard's place in the
		// list stays where it was.
		browsertest.MustEval[bool](t, p, `(document.querySelector(`+js(convButton(carol.JID))+`).focus(), true)`)
		say(tokBob, "bob again")
		order("chat:"+bob.Name, "chat:"+carol.Name)
		if got := browsertest.MustEval[string](t, p, `document.activeElement.dataset.conv || document.activeElement.id`); got != "chat:"+carol.JID {
			t.Errorf("the focus went to %q when the list was redrawn", got)
		}
		p.Wait(t, `(document.querySelector(`+js(convButton(bob.JID)+" .unread")+`) || {}).textContent === "2"`)

		// Opened: read; the day is named, both of bob's messages were unread
		// (the "New messages" divider above them), and they are one group.
		clickConv(t, p, bob.JID)
		waitShownOnce(t, p, "bob again")
		p.Wait(t, `!document.querySelector(`+js(convButton(bob.JID)+" .unread")+`)`)
		if got := browsertest.MustEval[[]string](t, p, `[...document.querySelectorAll("#messages > li")].map(li => li.classList.contains("day") ? "day:" + li.textContent : li.classList.contains("new-divider") ? "new" : (li.classList.contains("grouped") ? "grouped" : "first"))`); strings.Join(got, " ") != "day:Today new first grouped" {
			t.Errorf("the conversation's elements: %v, want a day, the divider, then one group of two", got)
		}
		// Bubbles are sized to what they hold: a short message's is
		// narrower than half the list, a long one's stops at the bubble's
		// maximum width (75% of the list, 90% on a phone) and wraps.
		long := strings.TrimSpace(strings.Repeat("a long message that wraps ", 20))
		say(tokBob, long)
		waitShownOnce(t, p, long)
		widths := browsertest.MustEval[[]float64](t, p, `(() => {
			const list = document.querySelector("#messages").clientWidth;
			const w = (text) => [...document.querySelectorAll("#messages li.msg")].find(li => li.textContent.includes(text)).getBoundingClientRect().width / list;
			return [w("bob again"), w("a long message that wraps a long")];
		})()`)
		if widths[0] >= 0.5 || widths[1] < 0.6 || widths[1] > 0.91 {
			t.Errorf("bubble widths as a share of the list: short %.2f (want < 0.5), long %.2f (want 0.6–0.9)", widths[0], widths[1])
		}

		// A room joined and written to comes first, with our message.
		if r := e.Do(t, "GET", rest+"/groupchat/rooms", tokBob, "", ""); r.Status == http.StatusOK {
			room := "chats" + strings.ToLower(alice.Name)
			if v.mobile {
				p.Do(t, chromedp.Click(chromedp.ID("conv-back")))
			}
			enterRoom(t, p, room)
			send(t, p, "room hello")
			if v.mobile {
				p.Do(t, chromedp.Click(chromedp.ID("conv-back")))
			}
			order("room:"+room, "chat:"+bob.Name, "chat:"+carol.Name)
			p.Wait(t, `document.querySelector("#chats button .snippet").textContent === "You: room hello"`)
		}
		p.Screenshot(t, filepath.Join(t.ArtifactDir(), "chats-"+v.name+".png"))
	})
}

// signInWith signs in with the form, "stay signed in" ticked or not.
func signInWith(t *testing.T, e *gatewayenv.Env, p *browsertest.Page, name, password string, remember bool) {
	t.Helper()
	p.Do(t, chromedp.Navigate(e.URL+"/"))
	p.Wait(t, `document.body.dataset.screen === "auth"`)
	browsertest.MustEval[bool](t, p, `(document.getElementById("login-remember").checked = `+fmt.Sprint(remember)+`, true)`)
	p.Do(t,
		chromedp.SetValue(chromedp.ID("login-user"), name),
		chromedp.SetValue(chromedp.ID("login-password"), password),
		chromedp.Click(chromedp.ID("login-submit")),
	)
	p.Wait(t, `document.body.dataset.conn === "connected"`)
}

// watchSignIn makes window.sawSignIn true whenever the page shows the
// sign-in screen from now on.
func watchSignIn(t *testing.T, p *browsertest.Page) {
	t.Helper()
	browsertest.MustEval[bool](t, p, `(() => {
		window.sawSignIn = false;
		new MutationObserver(() => { if (document.body.dataset.screen === "auth") window.sawSignIn = true; })
			.observe(document.body, {attributes: true, attributeFilter: ["data-screen"]});
		return true;
	})()`)
}

// kept is a JavaScript expression: the refresh token kept in storage
// ("sessionStorage" or "localStorage"), or "".
func kept(storage string) string {
	return `((JSON.parse(` + storage + `.getItem("sparkgate.refresh") || "null") || {}).refreshToken || "")`
}

// sayTo sends text to name as the user with token tok.
func sayTo(t *testing.T, e *gatewayenv.Env, tok, name, text string) {
	t.Helper()
	if r := e.Do(t, "POST", rest+"/chat/message/"+url.PathEscape(name), tok, "text/plain", text); r.Status != http.StatusOK {
		t.Fatalf("send: %d %s", r.Status, r.Body)
	}
}

// life is the access tokens' lifetime in the refresh journeys.
const life = 6 * time.Second

// shortLived starts a gateway whose access tokens live life, a browser,
// and two people.
//
// The tests that use it are not parallel with the other journeys: on a busy
// machine a token of 6 s could expire before the tab first uses it. Their
// two viewports run side by side, the only journeys running in this
// package then: those tests sleep through token lifetimes (78 s of an
// otherwise idle package, one viewport after the other, 2026-12-05).
func shortLived(t *testing.T) (*gatewayenv.Env, *browsertest.Browser, ejabberdtest.User, ejabberdtest.User) {
	t.Helper()
	e := gatewayenv.StartWith(t, gatewayenv.Options{TokenLifetime: life})
	return e, browsertest.Launch(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
}

// TestBrowserRefresh: access tokens live 6 s. A tab signed in without
// "stay signed in" keeps its refresh token in sessionStorage, never in
// localStorage. It refreshes before each expiry; its stream, ended when
// the token it was opened with expires, is reopened with the new token and
// Last-Event-ID, so messages sent after the first token (and the second)
// expired arrive; a call refused because the tab's token expired is
// refreshed and sent again once. A second tab is signed in without the
// form by the first (over a BroadcastChannel), keeps the tokens in its own
// sessionStorage, and the two refresh over two more expiries without
// revoking the family: both receive. The sign-in page never shows.
// Signing out removes the tokens, and the other tab signs out too. At both
// viewports, side by side (see shortLived).
func TestBrowserRefresh(t *testing.T) {
	for _, v := range viewports {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			refreshJourney(t, v)
		})
	}
}

// refreshJourney is TestBrowserRefresh at the viewport v.
func refreshJourney(t *testing.T, v viewport) {
	e, b, alice, bob := shortLived(t)
	p := newPage(t, b, "alice-"+v.name)
	v.apply(t, p)
	p.AllowText("status of 401") // the call sent with an expired token, below
	signInWith(t, e, p, alice.Name, alice.Password, false)
	watchSignIn(t, p)
	first := browsertest.MustEval[string](t, p, `sessionStorage.getItem("sparkgate.token")`)
	if !browsertest.MustEval[bool](t, p, kept("sessionStorage")+` !== "" && `+kept("localStorage")+` === ""`) {
		t.Fatal("without stay signed in, the refresh token is not in sessionStorage only")
	}

	// The first token expires: the tab has refreshed, its stream goes on.
	p.Do(t, chromedp.Sleep(life+time.Second))
	if browsertest.MustEval[string](t, p, `sessionStorage.getItem("sparkgate.token")`) == first {
		t.Fatal("the tab did not refresh its token before it expired")
	}
	sayTo(t, e, e.Login(t, bob.Name, bob.Password), alice.Name, "after the first expiry")
	p.Wait(t, `!!document.querySelector(`+js(convButton(bob.JID))+`)`)
	clickConv(t, p, bob.JID)
	waitShownOnce(t, p, "after the first expiry")

	// A call with an expired token is refused, refreshed and sent again.
	browsertest.MustEval[bool](t, p, `(sessionStorage.setItem("sparkgate.token", `+js(first)+`), true)`)
	openSettings(t, p)
	p.Do(t,
		chromedp.SetValue(chromedp.ID("presence-show"), "away"),
		chromedp.Click(chromedp.CSS("#presence-form button[type=submit]")),
	)
	p.Wait(t, `document.getElementById("notice").textContent === "Presence updated."`)
	p.Do(t, chromedp.Click(chromedp.ID("settings-close")))
	if browsertest.MustEval[string](t, p, `sessionStorage.getItem("sparkgate.token")`) == first {
		t.Error("the tab still holds the expired token after a call was refused with it")
	}

	// A second tab is signed in without the form: the first one gives it
	// its tokens, and it keeps them in its own sessionStorage.
	two := tabAt(t, e, p, "alice-two-"+v.name, v, "status of 401")
	two.Wait(t, `document.body.dataset.screen === "app" && document.body.dataset.conn === "connected"`)
	if !browsertest.MustEval[bool](t, two, kept("sessionStorage")+` !== "" && `+kept("localStorage")+` === ""`) {
		t.Error("the second tab does not keep the refresh token in its sessionStorage only")
	}
	watchSignIn(t, two)

	// Two expiries later (the tabs' timers fire together, and the tab that
	// refreshed second takes the first one's tokens), both still receive.
	p.Do(t, chromedp.Sleep(2*life))
	sayTo(t, e, e.Login(t, bob.Name, bob.Password), alice.Name, "after the next expiry")
	waitShownOnce(t, p, "after the next expiry")
	assertShownOnce(t, p, "after the first expiry")
	two.Wait(t, `!!document.querySelector(`+js(convButton(bob.JID))+`)`)
	for _, q := range []*browsertest.Page{p, two} {
		q.Wait(t, `document.body.dataset.conn === "connected"`)
		if browsertest.MustEval[bool](t, q, `window.sawSignIn`) {
			t.Errorf("%s showed the sign-in page while it was open", q.Name)
		}
	}

	signOut(t, p)
	p.Wait(t, `document.body.dataset.screen === "auth" && !sessionStorage.getItem("sparkgate.token") && `+kept("sessionStorage")+` === "" && `+kept("localStorage")+` === ""`)
	two.Wait(t, `document.body.dataset.screen === "auth" && `+kept("sessionStorage")+` === ""`)
}

// TestBrowserRefreshTabs: access tokens live 6 s. With "stay signed in"
// the refresh token is in localStorage, not sessionStorage, and a second
// tab of the same browser is signed in without the form. Both tabs
// refreshing at the same moment take turns (the Web Lock): the second uses
// the first one's new tokens instead of spending the spent refresh token,
// which would revoke the family; both stay signed in over several
// expiries (their timers fire together) and receive a message. Signing out
// in one tab removes the tokens from both storages and ends the other
// tab's session too; a new page then shows the form. At both viewports,
// side by side (see shortLived).
func TestBrowserRefreshTabs(t *testing.T) {
	for _, v := range viewports {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			refreshTabsJourney(t, v)
		})
	}
}

// refreshTabsJourney is TestBrowserRefreshTabs at the viewport v.
func refreshTabsJourney(t *testing.T, v viewport) {
	e, b, alice, bob := shortLived(t)
	one := newPage(t, b, "alice-one-"+v.name)
	v.apply(t, one)
	signInWith(t, e, one, alice.Name, alice.Password, true)
	if !browsertest.MustEval[bool](t, one, kept("localStorage")+` !== "" && `+kept("sessionStorage")+` === ""`) {
		t.Fatal("with stay signed in, the refresh token is not in localStorage only")
	}

	// The second tab adopts the kept access token while it is not yet
	// due for a refresh: with 6 s tokens it may have only 1.2 s left
	// (api.js due), and on a slow machine its first calls can arrive
	// after the expiry. They are refused, refreshed and sent again once
	// (TestBrowserRefresh checks that), but Chromium logs each 401 (a
	// fresh clone's make test, 2026-12-05: the roster, the block list).
	two := tabAt(t, e, one, "alice-two-"+v.name, v, "status of 401")
	two.Wait(t, `document.body.dataset.screen === "app" && document.body.dataset.conn === "connected"`)
	if got := browsertest.MustEval[string](t, two, `document.getElementById("me-name").textContent`); !strings.Contains(strings.ToLower(got), strings.ToLower(alice.Name)) {
		t.Errorf("the second tab is signed in as %q", got)
	}
	for _, p := range []*browsertest.Page{one, two} {
		p.AllowText("status of 401") // the requests under way when the family is revoked at the end
		watchSignIn(t, p)
	}

	// Both refresh at once.
	results := make(chan string, 2)
	for _, p := range []*browsertest.Page{one, two} {
		go func() {
			got, err := browsertest.Eval[string](t, p, `import("/api.js").then(m => m.refresh(sessionStorage.getItem("sparkgate.token"))).then(() => "ok", e => "refused: " + e.message)`)
			if err != nil {
				got = err.Error()
			}
			results <- p.Name + ": " + got
		}()
	}
	for range 2 {
		if r := <-results; !strings.HasSuffix(r, ": ok") {
			t.Errorf("refresh at the same moment: %s", r)
		}
	}

	// Two more expiries; both tabs still receive.
	one.Do(t, chromedp.Sleep(2*life))
	sayTo(t, e, e.Login(t, bob.Name, bob.Password), alice.Name, "to both tabs")
	for _, p := range []*browsertest.Page{one, two} {
		p.Wait(t, `!!document.querySelector(`+js(convButton(bob.JID))+`)`)
		p.Wait(t, `document.body.dataset.conn === "connected"`)
		if browsertest.MustEval[bool](t, p, `window.sawSignIn`) {
			t.Errorf("%s showed the sign-in page", p.Name)
		}
	}

	signOut(t, one)
	one.Wait(t, `document.body.dataset.screen === "auth" && !sessionStorage.getItem("sparkgate.token") && `+kept("sessionStorage")+` === "" && `+kept("localStorage")+` === ""`)
	two.Wait(t, `document.body.dataset.screen === "auth" && document.getElementById("auth-error").textContent !== "" && !sessionStorage.getItem("sparkgate.token") && `+kept("localStorage")+` === ""`)
	two.Do(t, chromedp.Reload())
	two.Wait(t, `document.body.dataset.screen === "auth"`)
}
