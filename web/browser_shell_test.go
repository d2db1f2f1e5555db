package web_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"

	"github.com/sparkgate/sparkgate/internal/browsertest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
)

// grantNotifications lets the page's origin show notifications, as a
// person's "Allow" would.
func grantNotifications(t *testing.T, e *gatewayenv.Env, p *browsertest.Page) {
	t.Helper()
	p.Do(t, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		c := chromedp.FromContext(ctx)
		_, err := cdp.Call(ctx, c.Browser, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: "notifications"},
			Setting:    browser.PermissionSettingGranted, Origin: e.URL, BrowserContextID: c.BrowserContextID,
		})
		return err
	}))
}

// watchNotifications records every notification the page makes in
// window.notes ({title, body, tag, n}), and every sound it starts in
// window.sounds; it lets the test say whether the page is hidden
// (window.setHidden(bool)), which a headless tab cannot be made by hand.
const watchNotifications = `(() => {
	window.notes = [];
	window.sounds = 0;
	const N = window.Notification;
	window.Notification = class extends N {
		constructor(title, opts) {
			super(title, opts);
			window.notes.push({title, body: opts.body, tag: opts.tag, n: this});
		}
	};
	const A = window.AudioContext;
	const start = OscillatorNode.prototype.start;
	OscillatorNode.prototype.start = function (...a) { window.sounds++; return start.apply(this, a); };
	let hidden = false;
	Object.defineProperty(document, "hidden", {configurable: true, get: () => hidden});
	Object.defineProperty(document, "visibilityState", {configurable: true, get: () => hidden ? "hidden" : "visible"});
	window.setHidden = (h) => { hidden = h; document.dispatchEvent(new Event("visibilitychange")); return true; };
	return Boolean(A);
})()`

// TestBrowserNotifications: with the tab open but hidden and the
// permission granted, each new message from someone else makes one
// notification (none while the tab is seen, none for the person's own
// messages sent from elsewhere); the favicon and the title carry the
// unread count; clicking the notification opens its conversation. The
// sound is off until turned on in Settings, then each such message plays
// one.
func TestBrowserNotifications(t *testing.T) {
	e := gatewayenv.Start(t, nil)
	b := browsertest.Launch(t)
	alice, bob := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	p := newPage(t, b, "alice")
	grantNotifications(t, e, p)
	signIn(t, e, p, alice.Name, alice.Password)
	if !browsertest.MustEval[bool](t, p, watchNotifications) {
		t.Fatal("no AudioContext in this browser")
	}
	tokAlice, tokBob := e.Login(t, alice.Name, alice.Password), e.Login(t, bob.Name, bob.Password)
	notes := func() int { return browsertest.MustEval[int](t, p, `window.notes.length`) }

	// Seen: the message is listed, and no notification.
	sayTo(t, e, tokBob, alice.Name, "while you look")
	p.Wait(t, `!!document.querySelector(`+js(convButton(bob.JID))+`)`)
	if n := notes(); n != 0 {
		t.Errorf("%d notifications while the tab is seen", n)
	}

	// Hidden: one notification per message, none for alice's own.
	browsertest.MustEval[bool](t, p, `window.setHidden(true)`)
	sayTo(t, e, tokBob, alice.Name, "are you there?")
	p.Wait(t, `window.notes.length === 1`)
	got := browsertest.MustEval[map[string]string](t, p, `({title: notes[0].title, body: notes[0].body, tag: notes[0].tag})`)
	if got["title"] != bob.Name || got["body"] != "are you there?" || got["tag"] != "chat:"+bob.JID {
		t.Errorf("notification %v", got)
	}
	sayTo(t, e, tokAlice, bob.Name, "sent from my phone")
	sayTo(t, e, tokBob, alice.Name, "second one")
	p.Wait(t, `window.notes.length === 2`)
	if body := browsertest.MustEval[string](t, p, `notes[1].body`); body != "second one" {
		t.Errorf("second notification says %q (alice's own message must make none)", body)
	}
	if s := browsertest.MustEval[int](t, p, `window.sounds`); s != 0 {
		t.Errorf("%d sounds with the sound off (the default)", s)
	}

	// The unread count: in the title and on the favicon.
	p.Wait(t, `document.title === "(3) sparkgate"`)
	p.Wait(t, `document.querySelector('link[rel="icon"]').dataset.unread === "3" && document.querySelector('link[rel="icon"]').href.startsWith("data:image/svg+xml,")`)

	// Clicking the notification opens bob's conversation; seen again, the
	// count goes.
	browsertest.MustEval[bool](t, p, `(notes[1].n.dispatchEvent(new Event("click")), window.setHidden(false))`)
	p.Wait(t, `document.getElementById("conv-title").textContent === `+js(bob.Name))
	waitShownOnce(t, p, "second one")
	p.Wait(t, `document.title === "sparkgate" && document.querySelector('link[rel="icon"]').getAttribute("href") === "/icon.svg"`)

	// The sound, turned on in Settings, plays once per message while hidden.
	p.Do(t, chromedp.Click(chromedp.ID("settings-open")))
	p.Wait(t, `document.getElementById("settings").open && !document.getElementById("sound-on").checked`)
	p.Do(t, chromedp.Click(chromedp.ID("sound-on")), chromedp.Click(chromedp.ID("settings-close")))
	p.Wait(t, `localStorage.getItem("sparkgate.sound") === "on"`)
	browsertest.MustEval[bool](t, p, `window.setHidden(true)`)
	sayTo(t, e, tokBob, alice.Name, "with a sound")
	p.Wait(t, `window.notes.length === 3 && window.sounds === 1`)
	p.Screenshot(t, filepath.Join(t.ArtifactDir(), "notifications.png"))
}
