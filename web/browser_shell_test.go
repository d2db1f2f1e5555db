package web_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

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
// one. At the desktop's size only (onDesktop: the steps do not depend on
// the layout; TestBrowserAccountMenu covers the phone's menu).
func TestBrowserNotifications(t *testing.T) {
	t.Parallel()
	onDesktop(t, notificationsJourney)
}

// notificationsJourney is TestBrowserNotifications at the viewport v,
// with people of its own.
func notificationsJourney(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
	alice, bob := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	p := newPage(t, b, "alice-"+v.name)
	v.apply(t, p)
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
	openSettings(t, p)
	p.Wait(t, `!document.getElementById("sound-on").checked`)
	p.Do(t, chromedp.Click(chromedp.ID("sound-on")), chromedp.Click(chromedp.ID("settings-close")))
	p.Wait(t, `localStorage.getItem("sparkgate.sound") === "on"`)
	browsertest.MustEval[bool](t, p, `window.setHidden(true)`)
	sayTo(t, e, tokBob, alice.Name, "with a sound")
	p.Wait(t, `window.notes.length === 3 && window.sounds === 1`)

	// Muted on another device (here: the API), bob's next message comes
	// in silently: listed, neither a notification nor a sound.
	if r := e.Do(t, "PUT", rest+"/chat/muted/"+bob.Name, tokAlice, "", ""); r.Status != 200 {
		t.Fatalf("mute bob: %d %s", r.Status, r.Body)
	}
	p.Wait(t, `!!document.querySelector(`+js(convButton(bob.JID)+" .muted")+`)`)
	sayTo(t, e, tokBob, alice.Name, "while muted")
	p.Wait(t, `document.querySelector(`+js(convButton(bob.JID))+`).textContent.includes("while muted")`)
	if n, s := notes(), browsertest.MustEval[int](t, p, `window.sounds`); n != 3 || s != 1 {
		t.Errorf("a muted conversation's message made %d notifications and %d sounds more", n-3, s-1)
	}

	// Strangers muted in Settings: carol, in nobody's roster, comes in
	// silently; dave, whom alice added, still notifies. The gateway keeps
	// the choice (a reload shows it, at the end).
	carol, dave := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	tokCarol, tokDave := e.Login(t, carol.Name, carol.Password), e.Login(t, dave.Name, dave.Password)
	item, _ := json.Marshal(map[string]any{"jid": dave.JID, "nickname": dave.Name, "subscriptionType": 3, "groups": []string{}})
	if r := e.Do(t, "POST", rest+"/roster", tokAlice, "application/json", string(item)); r.Status != 200 {
		t.Fatalf("add dave: %d %s", r.Status, r.Body)
	}
	openSettings(t, p)
	p.Wait(t, `document.getElementById("strangers-notify").checked && !document.getElementById("strangers-choice").hidden`)
	p.Do(t, chromedp.Click(chromedp.ID("strangers-notify")))
	p.Wait(t, `!document.getElementById("strangers-notify").checked && !document.getElementById("strangers-notify").disabled`)
	p.Do(t, chromedp.Click(chromedp.ID("settings-close")))
	if r := e.Do(t, "GET", rest+"/chat/muted", tokAlice, "", ""); r.Status != 200 || !strings.Contains(string(r.Body), `"strangers":{}`) {
		t.Fatalf("GET /chat/muted after the box: %d %s", r.Status, r.Body)
	}
	sayTo(t, e, tokCarol, alice.Name, "from a stranger")
	p.Wait(t, `!!document.querySelector(`+js(convButton(carol.JID))+`)`)
	sayTo(t, e, tokDave, alice.Name, "from a contact")
	p.Wait(t, `window.notes.length === 4`)
	if body, s := browsertest.MustEval[string](t, p, `notes[3].body`), browsertest.MustEval[int](t, p, `window.sounds`); body != "from a contact" || s != 2 {
		t.Errorf("after carol and dave wrote: the last notification says %q, %d sounds (want dave's, 2)", body, s)
	}

	// "Who wrote, not what" in Settings: the next notification names dave
	// and keeps his text back, and the gateway keeps the choice for its
	// pushes (sparkgate.push.preview).
	openSettings(t, p)
	browsertest.MustEval[bool](t, p, `(() => { const s = document.getElementById("preview-level"); s.value = "sender"; s.dispatchEvent(new Event("change")); return true; })()`)
	p.Wait(t, `!document.getElementById("preview-level").disabled`)
	p.Do(t, chromedp.Click(chromedp.ID("settings-close")))
	if r := e.Do(t, "GET", rest+"/config/properties", tokAlice, "", ""); r.Status != 200 || !strings.Contains(string(r.Body), `"sparkgate.push.preview":"sender"`) {
		t.Fatalf("GET /config/properties after the choice: %d %s", r.Status, r.Body)
	}
	sayTo(t, e, tokDave, alice.Name, "the secret plan")
	p.Wait(t, `window.notes.length === 5`)
	if got := browsertest.MustEval[map[string]string](t, p, `({title: notes[4].title, body: notes[4].body})`); got["title"] != dave.Name || got["body"] != "New message" {
		t.Errorf("notification with previews of the sender only: %v", got)
	}
	p.Screenshot(t, filepath.Join(t.ArtifactDir(), "notifications-"+v.name+".png"))
	p.Do(t, chromedp.Reload())
	p.Wait(t, `document.body.dataset.conn === "connected"`)
	openSettings(t, p)
	p.Wait(t, `!document.getElementById("strangers-notify").checked && document.getElementById("preview-level").value === "sender"`)
}

// enterRoom joins room with the sidebar's form and waits for it to open.
func enterRoom(t *testing.T, p *browsertest.Page, room string) {
	t.Helper()
	openWith(t, p, "room", room)
}

// chatOrder is a JavaScript expression: the conversations of the Chats
// list, top to bottom, as kind:name.
const chatOrder = `JSON.stringify([...document.querySelectorAll("#chats button")].map(b => b.dataset.conv.split("@")[0]))`

// TestBrowserChatsRestored: the Chats list comes back on another device
// (a new browser context, its storage empty) with the phone's viewport:
// the people alice wrote with, newest first, each with its last message,
// and the room she joined on the first device, rejoined from its
// bookmark. Leaving the room on the new device removes the bookmark: a
// third device no longer lists it.
func TestBrowserChatsRestored(t *testing.T) {
	t.Parallel()
	e, alice, p := signedInAlone(t, "alice-desk")
	b := browsertest.Launch(t)
	bob, carol := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	tokBob, tokCarol, tokAlice := e.Login(t, bob.Name, bob.Password), e.Login(t, carol.Name, carol.Password), e.Login(t, alice.Name, alice.Password)

	sayTo(t, e, tokBob, alice.Name, "old news from bob")
	// Bob's message is here before carol's leaves: two senders' messages
	// may reach alice in either order on a loaded machine, and the list
	// orders by arrival.
	p.Wait(t, exists(convButton(bob.JID)))
	sayTo(t, e, tokAlice, carol.Name, "alice asks carol")
	sayTo(t, e, tokCarol, alice.Name, "carol answers")
	want := []string{"chat:" + carol.Name, "chat:" + bob.Name}

	room := "restore" + strings.ToLower(alice.Name)
	enterRoom(t, p, room)
	send(t, p, "room news")
	want = append([]string{"room:" + room}, want...)
	p.Wait(t, chatOrder+` === `+js(`["`+strings.Join(want, `","`)+`"]`))
	bookmarks := e.Do(t, "GET", rest+"/bookmarks", tokAlice, "", "")
	if !strings.Contains(string(bookmarks.Body), `"`+room+"@") {
		t.Fatalf("the joined room is not bookmarked: %s", bookmarks.Body)
	}

	// Another device, a phone: the same list, rebuilt.
	phone := newPage(t, b, "alice-phone")
	phone.Do(t, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
	signIn(t, e, phone, alice.Name, alice.Password)
	phone.Wait(t, chatOrder+` === `+js(`["`+strings.Join(want, `","`)+`"]`))
	for jid, snippet := range map[string]string{carol.JID: "carol answers", bob.JID: "old news from bob"} {
		got := browsertest.MustEval[string](t, phone, `document.querySelector(`+js(convButton(jid)+" .snippet")+`).textContent`)
		if got != snippet {
			t.Errorf("%s's snippet on the new device: %q, want %q", jid, got, snippet)
		}
	}
	phone.Wait(t, `!!document.querySelector('#rooms button[data-conv^="room:`+room+`@"]')`)
	phone.Screenshot(t, filepath.Join(t.ArtifactDir(), "chats-restored-phone.png"))

	// And a new tab on the desktop, which kept nothing of the first.
	tab := newPage(t, b, "alice-desk-2")
	signIn(t, e, tab, alice.Name, alice.Password)
	tab.Wait(t, chatOrder+` === `+js(`["`+strings.Join(want, `","`)+`"]`))

	// Opening a restored chat shows its history once.
	clickConv(t, phone, carol.JID)
	waitShownOnce(t, phone, "alice asks carol") // from the conversation's own page
	assertShownOnce(t, phone, "carol answers")  // restored, then met again on that page

	// Leaving the room on the phone forgets it everywhere.
	phone.Do(t, chromedp.Click(chromedp.ID("conv-back")))
	clickNow(t, phone, `#rooms button[data-conv^="room:`+room+`@"]`)
	phone.Wait(t, `document.getElementById("conv-title").textContent === `+js(room))
	clickAction(t, phone, "room-leave")
	phone.Wait(t, `!document.querySelector('#rooms button[data-conv^="room:`+room+`@"]')`)
	deadline := time.Now().Add(5 * time.Second)
	for strings.Contains(string(e.Do(t, "GET", rest+"/bookmarks", tokAlice, "", "").Body), `"`+room+"@") {
		if time.Now().After(deadline) {
			t.Fatal("the room's bookmark is still there after leaving it")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// focusedBox is a JavaScript expression: the id of the focused text box,
// or "" when the focus is elsewhere (no keyboard would pop up).
const focusedBox = `(e => e && (e.tagName === "INPUT" || e.tagName === "TEXTAREA") ? e.id : "")(document.activeElement)`

// TestBrowserPhoneFocus: on a phone (390×844, touch), signing in and
// opening a conversation focus no text box, so no keyboard pops up over
// the screen; the conversation's heading takes the focus instead. The
// page runs under a notch (viewport-fit=cover) and pads its safe areas.
// At 1280×800 with a mouse, the same steps focus "Chat with" and then the
// message box, as before.
func TestBrowserPhoneFocus(t *testing.T) {
	t.Parallel()
	e := gatewayenv.Start(t, nil)
	b := browsertest.Launch(t)
	alice, bob := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)

	phone := newPage(t, b, "alice-phone")
	phone.Do(t, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
	signIn(t, e, phone, alice.Name, alice.Password)
	if !browsertest.MustEval[bool](t, phone, `matchMedia("(pointer: coarse)").matches`) {
		t.Fatal("the emulated phone has no coarse pointer")
	}
	if box := browsertest.MustEval[string](t, phone, focusedBox); box != "" {
		t.Errorf("after sign-in on a phone the focus is in #%s", box)
	}
	openChat(t, phone, bob.Name)
	phone.Wait(t, `document.activeElement.id === "conv-title"`)
	if !browsertest.MustEval[bool](t, phone, `document.querySelector('meta[name=viewport]').content.includes("viewport-fit=cover") && [...document.styleSheets].some(s => [...s.cssRules].some(r => r.cssText.includes("safe-area-inset-bottom")))`) {
		t.Error("the page does not pad the phone's safe areas")
	}
	phone.Screenshot(t, filepath.Join(t.ArtifactDir(), "phone-conversation.png"))

	desk := newPage(t, b, "alice-desk")
	desk.Do(t, chromedp.EmulateViewport(1280, 800))
	signIn(t, e, desk, alice.Name, alice.Password)
	desk.Wait(t, focusedBox+` === "contact-input"`)
	openChat(t, desk, bob.Name)
	desk.Wait(t, focusedBox+` === "composer-input"`)
}

// TestBrowserPassword: alice changes her password in Settings. A wrong
// current password is said in words and changes nothing; the right one
// changes it: this page stays signed in (its stream renewed with the
// token the answer brings, so bob's next message arrives), alice's other
// device is signed out, and the new password signs in. The page changing
// it is at the phone's size, the other device at the desktop's (onPhone).
func TestBrowserPassword(t *testing.T) {
	t.Parallel()
	onPhone(t, passwordJourney)
}

// passwordJourney is TestBrowserPassword at the viewport v, with people
// of its own.
func passwordJourney(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
	alice, bob := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	p, other := newPage(t, b, "alice-here-"+v.name), newPage(t, b, "alice-there-"+v.name)
	v.apply(t, p)
	otherViewport(v).apply(t, other)
	signIn(t, e, p, alice.Name, alice.Password)
	signIn(t, e, other, alice.Name, alice.Password)
	p.AllowText("status of 403") // the wrong current password
	// Every token is revoked: the streams are refused until renewed (this
	// page) or the sign-in shows (the other device).
	p.AllowText("status of 401")
	other.AllowText("status of 401")

	openSettings(t, p)
	change := func(current, next string) {
		t.Helper()
		browsertest.MustEval[bool](t, p, `(document.getElementById("password-state").textContent = "", true)`)
		p.Do(t,
			chromedp.SetValue(chromedp.ID("password-current"), current),
			chromedp.SetValue(chromedp.ID("password-new"), next),
			chromedp.Click(chromedp.ID("password-submit")),
		)
		p.Wait(t, `document.getElementById("password-state").textContent !== ""`)
	}
	change("not the password", "a brand new password")
	if got := browsertest.MustEval[string](t, p, `document.getElementById("password-state").textContent`); !strings.Contains(got, "Wrong password") {
		t.Errorf("a wrong current password says %q", got)
	}
	newPassword := "a brand new password " + alice.Name
	watchSignIn(t, p)
	change(alice.Password, newPassword)
	if got := browsertest.MustEval[string](t, p, `document.getElementById("password-state").textContent`); !strings.Contains(got, "changed") {
		t.Fatalf("the change says %q", got)
	}
	p.Do(t, chromedp.Click(chromedp.ID("settings-close")))

	// The other device is back at sign-in; this page is not.
	other.Wait(t, `document.body.dataset.screen === "auth"`)
	tokBob := e.Login(t, bob.Name, bob.Password)
	sayTo(t, e, tokBob, alice.Name, "after the change")
	p.Wait(t, `!!document.querySelector(`+js(convButton(bob.JID))+`)`)
	p.Wait(t, `document.body.dataset.screen === "app" && document.body.dataset.conn === "connected"`)
	if browsertest.MustEval[bool](t, p, `window.sawSignIn`) {
		t.Error("the page that changed the password showed the sign-in")
	}

	e.Login(t, alice.Name, newPassword) // fails the test unless it signs in
}

// TestBrowserRemoveContact: a contact's conversation offers Remove
// contact; it takes the person off the contact list on the server and on
// the page, and the conversation stays, offering Add contact again. At
// both viewports (on a phone the action is behind "More").
func TestBrowserRemoveContact(t *testing.T) {
	t.Parallel()
	onViewports(t, func(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
		alice, bob := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
		p := newPage(t, b, "alice-"+v.name)
		v.apply(t, p)
		signIn(t, e, p, alice.Name, alice.Password)
		tok := e.Login(t, alice.Name, alice.Password)
		needs(t, e, tok, "GET", rest+"/presence/roster")
		if r := e.Do(t, "POST", rest+"/roster", tok, "application/json", `{"jid":"`+bob.JID+`"}`); r.Status != 200 {
			t.Fatalf("add bob: %d %s", r.Status, r.Body)
		}
		p.Wait(t, `!!document.querySelector(`+js(contactButton(bob.JID))+`)`)
		clickNow(t, p, contactButton(bob.JID))
		p.Wait(t, `!document.getElementById("contact-remove").hidden && document.getElementById("contact-add").hidden`)
		clickAction(t, p, "contact-remove")
		p.Wait(t, `!document.querySelector(`+js(contactButton(bob.JID))+`) && !document.getElementById("contact-add").hidden && document.getElementById("contact-remove").hidden`)
		p.Wait(t, `document.getElementById("conv-title").textContent === `+js(bob.Name))
		if r := e.Do(t, "GET", rest+"/roster", tok, "", ""); r.Status != 200 || strings.Contains(string(r.Body), bob.JID) {
			t.Errorf("the roster after removing bob: %d %s", r.Status, r.Body)
		}
	})
}

// waitTrue polls the page's expression expr every 100 ms until it is true
// or d has passed, and says which; unlike Page.Wait it does not fail the
// test, for a caller that tries again.
func waitTrue(t *testing.T, p *browsertest.Page, expr string, d time.Duration) bool {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if ok, err := browsertest.Eval[bool](t, p, expr); err == nil && ok {
			return true
		}
	}
	return false
}

// TestBrowserSkipLink: the skip link, first on the page, goes where typing
// happens: the sign-in form, then (signed in, no conversation open) the
// "Chat with" box, then the open conversation's message box. It pointed
// at the message box alone, which is hidden on the first two screens.
func TestBrowserSkipLink(t *testing.T) {
	t.Parallel()
	e := gatewayenv.Start(t, nil)
	b := browsertest.Launch(t)
	u, bob := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	p := newPage(t, b, "skip")
	p.Do(t, chromedp.Navigate(e.URL+"/"))
	p.Wait(t, `document.body.dataset.screen === "auth"`)
	skipTo := func(want string) {
		t.Helper()
		p.Do(t, chromedp.Focus(chromedp.ID("skip")), chromedp.KeyEvent(kb.Enter))
		p.WaitShowing(t, `document.activeElement && document.activeElement.id === `+js(want), `document.activeElement && document.activeElement.id`)
	}
	skipTo("login-user")
	signIn(t, e, p, u.Name, u.Password)
	browsertest.MustEval[bool](t, p, `(document.activeElement.blur(), true)`)
	skipTo("contact-input")
	openChat(t, p, bob.Name)
	browsertest.MustEval[bool](t, p, `(document.activeElement.blur(), true)`)
	skipTo("composer-input")
}

// TestBrowserAPIDocsDark: the API reference follows a dark screen (the
// viewer's colours inverted, hues kept) and stays as it is on a light one.
func TestBrowserAPIDocsDark(t *testing.T) {
	t.Parallel()
	onDesktop(t, func(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
		p := newPage(t, b, "docs-"+v.name)
		v.apply(t, p)
		scheme := func(value string) chromedp.Action[chromedp.Void] {
			return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
					Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: value}},
				})
				return err
			})
		}
		filter := `getComputedStyle(document.getElementById("swagger-ui")).filter`
		p.Do(t, scheme("dark"), chromedp.Navigate(e.URL+"/sparkweb/api/docs/"))
		p.Wait(t, `!!document.querySelector("#swagger-ui .info") && `+filter+`.includes("invert")`)
		p.Do(t, scheme("light"))
		p.Wait(t, filter+` === "none"`)
	})
}
