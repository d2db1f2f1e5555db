package web_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/sparkgate/sparkgate/internal/browsertest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
)

// Journeys of issues 19 and 25 on the people side of the client: the
// gateway's unread counts on every tab, room message states, pictures,
// the account menu with the user's own status, and axe-core on each
// screen. Each runs at 1280×800 and at 390×844 (touch).

// unreadOf is a JavaScript expression: the unread badge of the recent
// conversation id ("chat:…" or "room:…"), "" when none.
func unreadOf(id string) string {
	return `((document.querySelector(` + js(`#chats button[data-conv="`+id+`"] .unread`) + `) || {}).textContent || "")`
}

// unreadCounts is what GET /chat/unread answers for the user with tok,
// by conversation.
func unreadCounts(t *testing.T, e *gatewayenv.Env, tok string) map[string]int {
	t.Helper()
	r := e.Do(t, "GET", rest+"/chat/unread", tok, "", "")
	var list []struct {
		JID   string `json:"jid"`
		Count int    `json:"count"`
	}
	if r.Status != 200 || json.Unmarshal(r.Body, &list) != nil {
		t.Fatalf("GET /chat/unread: %d %s", r.Status, r.Body)
	}
	out := map[string]int{}
	for _, u := range list {
		out[u.JID] = u.Count
	}
	return out
}

// stays fails unless the JavaScript expression is still true after a
// moment (what a late event or a second count would have changed).
func stays(t *testing.T, p *browsertest.Page, expr, what string) {
	t.Helper()
	p.Do(t, chromedp.Sleep(time.Second))
	if !browsertest.MustEval[bool](t, p, expr) {
		t.Errorf("page %s: %s", p.Name, what)
	}
}

// leaveConversation shows the conversation lists again (a phone) and opens
// a chat with someone else, so that the one open before is out of view.
func leaveConversation(t *testing.T, p *browsertest.Page, v viewport, other string) {
	t.Helper()
	if v.mobile {
		p.Do(t, chromedp.Click(chromedp.ID("conv-back")))
	}
	openChat(t, p, other)
}

// TestBrowserUnreadTabs: bob is signed in twice, in two browser contexts
// (two devices, each its own storage). A message from alice shows 1 on
// both; he opens it on one and both clear (the gateway's read state, not
// the tab's). After a reload, what he read is not counted again and what
// he did not read still is, once; reading it on the reloaded device
// clears the other. The chat list and a conversation pass axe-core.
func TestBrowserUnreadTabs(t *testing.T) {
	t.Parallel()
	onDesktop(t, func(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
		alice, bob, carol := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
		ta, tb := e.Login(t, alice.Name, alice.Password), e.Login(t, bob.Name, bob.Password)
		needs(t, e, tb, "GET", rest+"/chat/unread")
		one, two := newPage(t, b, "bob-one-"+v.name), newPage(t, b, "bob-two-"+v.name)
		for _, p := range []*browsertest.Page{one, two} {
			v.apply(t, p)
			signIn(t, e, p, bob.Name, bob.Password)
		}
		id := "chat:" + alice.JID

		sayTo(t, e, ta, bob.Name, "are you there?")
		one.Wait(t, unreadOf(id)+` === "1"`)
		two.Wait(t, unreadOf(id)+` === "1"`)
		two.Wait(t, `document.title === "(1) sparkgate"`)
		one.Axe(t, "chat list")
		one.Screenshot(t, filepath.Join(t.ArtifactDir(), "unread-"+v.name+".png"))

		clickConv(t, one, alice.JID)
		waitShownOnce(t, one, "are you there?")
		one.Wait(t, unreadOf(id)+` === ""`)
		two.Wait(t, unreadOf(id)+` === "" && document.title === "sparkgate"`)
		if n := unreadCounts(t, e, tb)[alice.JID]; n != 0 {
			t.Errorf("the gateway counts %d unread after bob read it", n)
		}
		one.Axe(t, "conversation")

		// Read already: a reload does not count it again.
		two.Do(t, chromedp.Reload())
		two.Wait(t, `document.body.dataset.conn === "connected" && !!document.querySelector(`+js(convButton(alice.JID))+`)`)
		stays(t, two, unreadOf(id)+` === ""`, "a message read on the other device is unread again after a reload")

		// Not read yet: a reload counts it once, as the gateway does.
		leaveConversation(t, one, v, carol.Name)
		sayTo(t, e, ta, bob.Name, "still there?")
		one.Wait(t, unreadOf(id)+` === "1"`)
		two.Wait(t, unreadOf(id)+` === "1"`)
		two.Do(t, chromedp.Reload())
		two.Wait(t, `document.body.dataset.conn === "connected"`)
		two.Wait(t, unreadOf(id)+` === "1"`)
		stays(t, two, unreadOf(id)+` === "1"`, "the unread count changed after a reload")

		clickConv(t, two, alice.JID)
		waitShownOnce(t, two, "still there?")
		one.Wait(t, unreadOf(id)+` === ""`)
		two.Wait(t, unreadOf(id)+` === ""`)
	})
}

// TestBrowserRoomSendStates: a message sent to a room is pending until the
// room reflects it, then sent, shown once; without network it fails with
// Retry, and Retry sends it once. Room messages alice reads in view are
// not counted; those that came while she was elsewhere are, once, after a
// reload too, until she opens the room. The room passes axe-core.
func TestBrowserRoomSendStates(t *testing.T) {
	t.Parallel()
	onDesktop(t, func(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
		alice, bob, carol := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
		tb := e.Login(t, bob.Name, bob.Password)
		p := newPage(t, b, "alice-"+v.name)
		v.apply(t, p)
		p.AllowText("ERR_INTERNET_DISCONNECTED", "ERR_NETWORK_CHANGED", "Failed to fetch")
		signIn(t, e, p, alice.Name, alice.Password)
		room := "states" + strings.ToLower(alice.Name)
		enterRoom(t, p, room)
		if r := e.Do(t, "PUT", rest+"/groupchat/room/"+room, tb, "", ""); r.Status != 200 {
			t.Fatalf("bob joins: %d %s", r.Status, r.Body)
		}

		watchStates(t, p)
		send(t, p, "hello room")
		p.Wait(t, stateOf("hello room")+` === "sent"`)
		if seen := strings.Join(browsertest.MustEval[[]string](t, p, `window.states["hello room"]`), " "); seen != "pending sent" {
			t.Errorf("the room message went through the states %q, want pending, sent", seen)
		}
		stays(t, p, shown("hello room")+` === 1`, "the room's reflection showed the message twice")
		p.Axe(t, "room")

		setOffline(t, p, true)
		send(t, p, "room offline")
		p.Wait(t, stateOf("room offline")+` === "failed"`)
		retry := `(` + msgWith("room offline") + `).querySelector("button.retry")`
		p.Wait(t, `!!`+retry)
		p.Screenshot(t, filepath.Join(t.ArtifactDir(), "room-failed-"+v.name+".png"))
		setOffline(t, p, false)
		p.Wait(t, `document.body.dataset.conn === "connected"`)
		browsertest.MustEval[bool](t, p, `(() => { const b = `+retry+`; b.click(); b.click(); return true; })()`)
		p.Wait(t, stateOf("room offline")+` === "sent"`)
		stays(t, p, shown("room offline")+` === 1`, "the retried room message is shown more than once")

		// Read in view: not counted. Elsewhere: counted, once, reload or not.
		say := func(text string) {
			t.Helper()
			if r := e.Do(t, "POST", rest+"/groupchat/room/"+room, tb, "text/plain", text); r.Status != 200 {
				t.Fatalf("bob says %q: %d %s", text, r.Status, r.Body)
			}
		}
		ta := e.Login(t, alice.Name, alice.Password)
		roomJID := room + "@conference." + strings.Split(alice.JID, "@")[1]
		id := "room:" + roomJID
		say("seen at once")
		waitShownOnce(t, p, "seen at once")
		p.Wait(t, `document.body.dataset.conn === "connected"`)
		pollCount := func(want int) {
			t.Helper()
			deadline := time.Now().Add(10 * time.Second)
			for unreadCounts(t, e, ta)[roomJID] != want {
				if time.Now().After(deadline) {
					t.Fatalf("the gateway counts %d unread in the room, want %d", unreadCounts(t, e, ta)[roomJID], want)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
		pollCount(0)
		leaveConversation(t, p, v, carol.Name)
		say("while away 1")
		say("while away 2")
		p.Wait(t, unreadOf(id)+` === "2"`)
		p.Do(t, chromedp.Reload())
		p.Wait(t, `document.body.dataset.conn === "connected"`)
		p.Wait(t, unreadOf(id)+` === "2"`)
		stays(t, p, unreadOf(id)+` === "2"`, "the room's unread count changed after a reload")
		p.Wait(t, `!!document.querySelector(`+js(`#chats button[data-conv="`+id+`"]`)+`)`)
		browsertest.MustEval[bool](t, p, `(document.querySelector(`+js(`#chats button[data-conv="`+id+`"]`)+`).click(), true)`)
		waitShownOnce(t, p, "while away 2")
		p.Wait(t, unreadOf(id)+` === ""`)
		pollCount(0)
	})
}

// befriendInPages makes the people at pa (a) and pb (b) contacts: a opens
// a chat with b and asks with Add contact, b accepts; both see the other
// online.
func befriendInPages(t *testing.T, pa, pb *browsertest.Page, a, b ejabberdtest.User) {
	t.Helper()
	openChat(t, pa, b.Name)
	pa.Wait(t, `!document.getElementById("contact-add").hidden`)
	clickAction(t, pa, "contact-add")
	accept := `#requests button[aria-label="Accept ` + a.JID + `"]`
	pb.Wait(t, `!!document.querySelector(`+js(accept)+`)`)
	browsertest.MustEval[bool](t, pb, `(document.querySelector(`+js(accept)+`).click(), true)`)
	pa.Wait(t, `!!document.querySelector(`+js(contactButton(b.JID)+" .dot.online")+`)`)
	pb.Wait(t, `!!document.querySelector(`+js(contactButton(a.JID)+" .dot.online")+`)`)
}

// openMenu opens the account menu and waits for it.
func openMenu(t *testing.T, p *browsertest.Page) {
	t.Helper()
	p.Do(t, chromedp.Click(chromedp.ID("menu-toggle")))
	p.Wait(t, `!document.getElementById("menu").hidden && document.getElementById("menu-toggle").getAttribute("aria-expanded") === "true"`)
}

// wideTopbar is a JavaScript expression: the top bar shows Settings and
// Sign out as buttons of their own (a wide screen); on a phone they are
// in the account menu only.
const wideTopbar = `document.getElementById("settings-open").getClientRects().length > 0`

// openSettings opens Settings as a person would at the page's size: the
// top bar's button on a wide screen, the account menu's item on a phone.
func openSettings(t *testing.T, p *browsertest.Page) {
	t.Helper()
	if browsertest.MustEval[bool](t, p, wideTopbar) {
		p.Do(t, chromedp.Click(chromedp.ID("settings-open")))
	} else {
		openMenu(t, p)
		p.Do(t, chromedp.Click(chromedp.ID("menu-settings")))
	}
	p.Wait(t, `document.getElementById("settings").open && document.getElementById("menu").hidden`)
}

// signOut signs out with the top bar's button, or the account menu's
// item on a phone.
func signOut(t *testing.T, p *browsertest.Page) {
	t.Helper()
	if browsertest.MustEval[bool](t, p, wideTopbar) {
		p.Do(t, chromedp.Click(chromedp.ID("signout")))
	} else {
		openMenu(t, p)
		p.Do(t, chromedp.Click(chromedp.ID("menu-signout")))
	}
}

// TestBrowserAccountMenu: the sign-in screen passes axe-core. Signed in,
// the top bar fits the screen on one line; its account menu (a phone's
// only control there) sets bob's status to do not disturb with a message,
// which his contact alice sees; it switches the theme to dark (kept over
// a reload, still passing axe-core); Escape closes it and gives the focus
// back; opening it focuses no text box. From it bob opens Settings and
// sets his picture: it shows on his menu button and, for alice, in her
// contact list and the chat's header; removed, it goes, leaving his
// initial. A nickname bob publishes names him in alice's list and header.
func TestBrowserAccountMenu(t *testing.T) {
	t.Parallel()
	onViewports(t, func(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
		alice, bob := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
		pa, pb := newPage(t, b, "alice-"+v.name), newPage(t, b, "bob-"+v.name)
		for _, p := range []*browsertest.Page{pa, pb} {
			v.apply(t, p)
		}
		pb.Do(t, chromedp.Navigate(e.URL+"/"))
		pb.Wait(t, `document.body.dataset.screen === "auth"`)
		pb.Axe(t, "sign-in")
		signIn(t, e, pa, alice.Name, alice.Password)
		signIn(t, e, pb, bob.Name, bob.Password)
		befriendInPages(t, pa, pb, alice, bob)

		top := `(r => Math.round(r.height))(document.querySelector(".topbar").getBoundingClientRect())`
		if h := browsertest.MustEval[int](t, pb, top); h > 64 {
			t.Errorf("the top bar is %d px high: more than one line", h)
		}
		if !browsertest.MustEval[bool](t, pb, `document.documentElement.scrollWidth <= innerWidth`) {
			t.Error("the page scrolls sideways")
		}
		wide := browsertest.MustEval[bool](t, pb, visible("settings-open")+` && `+visible("signout"))
		if wide == v.mobile {
			t.Errorf("Settings and Sign out beside the menu: %v, want them only on a wide screen", wide)
		}

		// Bob's own status, from the menu.
		openMenu(t, pb)
		if box := browsertest.MustEval[string](t, pb, focusedBox); box != "" {
			t.Errorf("opening the menu focused #%s", box)
		}
		if got := browsertest.MustEval[string](t, pb, textOf("menu-jid")); got != bob.JID {
			t.Errorf("the menu gives the address %q, want %s", got, bob.JID)
		}
		pb.Axe(t, "account menu")
		pb.Screenshot(t, filepath.Join(t.ArtifactDir(), "menu-"+v.name+".png"))
		appTop := `Math.round(document.querySelector(".app").getBoundingClientRect().top)`
		topBefore := browsertest.MustEval[int](t, pb, appTop)
		pb.Do(t,
			chromedp.Click(chromedp.ID("status-dnd")),
			chromedp.SetValue(chromedp.ID("status-text"), "in a meeting"),
			chromedp.Click(chromedp.ID("status-save")),
		)
		pb.Wait(t, `document.getElementById("menu").hidden && document.activeElement.id === "menu-toggle"`)
		pb.Wait(t, `document.getElementById("me-show").classList.contains("dnd") && document.getElementById("me-status").textContent.includes("in a meeting")`)
		// The notice floats: the page under it does not move.
		pb.Wait(t, `!document.getElementById("notice").hidden && document.getElementById("notice").textContent === "Your status is set."`)
		if top := browsertest.MustEval[int](t, pb, appTop); top != topBefore {
			t.Errorf("the page moved from %d to %d px when the notice showed", topBefore, top)
		}
		pa.Wait(t, `!!document.querySelector(`+js(contactButton(bob.JID)+" .dot.dnd")+`)`)
		pa.Wait(t, `document.getElementById("conv-presence").textContent.includes("in a meeting")`)
		// Bob signs in on another device (its storage empty): his status
		// is the one he set, not "Available".
		other := newPage(t, b, "bob-other-"+v.name)
		v.apply(t, other)
		signIn(t, e, other, bob.Name, bob.Password)
		other.Wait(t, `document.getElementById("me-show").classList.contains("dnd") && document.getElementById("me-status").textContent.includes("in a meeting")`)

		// The theme, kept by this browser.
		openMenu(t, pb)
		if got := browsertest.MustEval[[]string](t, pb, `[...document.querySelectorAll('input[name="status-show"]')].filter(r => r.checked).map(r => r.value).concat(document.getElementById("status-text").value)`); strings.Join(got, "|") != "dnd|in a meeting" {
			t.Errorf("the menu shows the status %q, want dnd and the message", got)
		}
		pb.Do(t, chromedp.SetValue(chromedp.ID("theme-choice"), "dark"))
		browsertest.MustEval[bool](t, pb, `(document.getElementById("theme-choice").dispatchEvent(new Event("change")), true)`)
		pb.Wait(t, `document.documentElement.dataset.theme === "dark" && getComputedStyle(document.documentElement).backgroundColor === "rgb(18, 18, 18)"`)
		pb.Axe(t, "account menu, dark")
		pb.Do(t, chromedp.KeyEvent(kb.Escape))
		pb.Wait(t, `document.getElementById("menu").hidden && document.activeElement.id === "menu-toggle"`)
		pb.Do(t, chromedp.Reload())
		pb.Wait(t, `document.body.dataset.conn === "connected" && document.documentElement.dataset.theme === "dark"`)
		pb.Axe(t, "chat list, dark")

		// His picture, from Settings opened in the menu.
		openMenu(t, pb)
		pb.Do(t, chromedp.Click(chromedp.ID("menu-settings")))
		pb.Wait(t, `document.getElementById("settings").open && document.getElementById("menu").hidden`)
		pb.Axe(t, "settings")
		// A notice while Settings is open is shown in it, over its backdrop.
		pb.Do(t, chromedp.Click(chromedp.CSS(`#presence-form button[type="submit"]`)))
		// (In the dialog it is in the top layer with it; the page under the
		// backdrop is not. elementFromPoint cannot tell: the notice lets
		// clicks through.)
		pb.Wait(t, `(n => !n.hidden && n.textContent === "Presence updated." && !!n.closest("dialog[open]") &&
			n.getClientRects().length > 0 && getComputedStyle(n).visibility === "visible")(document.getElementById("notice"))`)
		pb.Do(t, chromedp.SetUploadFiles(chromedp.ID("avatar-input"), []string{writePNG(t, "me.png")}))
		pb.Wait(t, textOf("avatar-state")+` === "Your picture is set. Your contacts see it."`)
		picture := func(sel string) string {
			return `((i) => !!i && i.complete && i.naturalWidth === 40 && i.src.startsWith("blob:"))(document.querySelector(` + js(sel+" img.avatar") + `))`
		}
		pb.Wait(t, picture("#me-avatar")+` && `+picture("#settings-avatar"))
		pb.Do(t, chromedp.Click(chromedp.ID("settings-close")))
		pa.Wait(t, picture(contactButton(bob.JID)))
		pa.Wait(t, picture("#conv-avatar"))
		if alt := browsertest.MustEval[string](t, pa, `document.querySelector("#conv-avatar img").alt`); alt != "" {
			t.Errorf("the header's picture says %q: it is decoration beside the name", alt)
		}
		pa.Screenshot(t, filepath.Join(t.ArtifactDir(), "avatar-"+v.name+".png"))

		// Removed: his initial again.
		openSettings(t, pb)
		pb.Wait(t, `!document.getElementById("avatar-remove").hidden`)
		pb.Do(t, chromedp.Click(chromedp.ID("avatar-remove")))
		pb.Wait(t, textOf("avatar-state")+` === "Your picture is removed." && !document.querySelector("#me-avatar img")`)
		pa.Wait(t, `!document.querySelector(`+js(contactButton(bob.JID)+" img.avatar")+`) && !!document.querySelector(`+js(contactButton(bob.JID)+" .avatar.initial")+`)`)

		// A nickname bob publishes (XEP-0172, here from another client of
		// his) names him for alice, whose contact list gives him no name.
		nick := `<iq type="set"><pubsub xmlns="http://jabber.org/protocol/pubsub"><publish node="http://jabber.org/protocol/nick">` +
			`<item id="current"><nick xmlns="http://jabber.org/protocol/nick">Bobby ` + v.name + `</nick></item></publish></pubsub></iq>`
		if r := e.Do(t, "POST", rest+"/xmpp", e.Login(t, bob.Name, bob.Password), "text/plain", nick); r.Status != 200 || strings.Contains(string(r.Body), `type="error"`) {
			t.Fatalf("bob publishes a nickname: %d %s", r.Status, r.Body)
		}
		pa.Wait(t, `(document.querySelector(`+js(contactButton(bob.JID)+" .name")+`) || {}).textContent === `+js("Bobby "+v.name))
		pa.Wait(t, textOf("conv-title")+` === `+js("Bobby "+v.name))
	})
}

// phoneUserAgent is what the phone's browser says it is.
const phoneUserAgent = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36"

// TestBrowserLogins: Settings lists the account's signed-in devices, this
// browser marked and named ("Chrome on Linux"), the phone named from its
// browser ("Chrome on Android") with a Sign out button; pressing it sends
// the phone back to the sign-in screen saying it was signed out, and the
// list shows this browser alone, which stays connected. At the desktop's
// size only (onDesktop: the steps do not depend on the layout).
func TestBrowserLogins(t *testing.T) {
	t.Parallel()
	onDesktop(t, func(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
		u := ejabberdtest.NewUser(t)
		phone := newPage(t, b, "phone-"+v.name)
		// Signed out from elsewhere while open, the phone's last calls may
		// be refused.
		phone.AllowText("status of 401")
		phone.Do(t, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: phoneUserAgent})
			return err
		}))
		v.apply(t, phone)
		signIn(t, e, phone, u.Name, u.Password)
		p := newPage(t, b, "laptop-"+v.name)
		v.apply(t, p)
		signIn(t, e, p, u.Name, u.Password)

		openSettings(t, p)
		p.Wait(t, `document.querySelectorAll("#logins li").length === 2`)
		items := browsertest.MustEval[[]string](t, p, `[...document.querySelectorAll("#logins li")].map(li => li.textContent)`)
		if !strings.HasPrefix(items[0], "Chrome on Linux") || !strings.Contains(items[0], "this browser") ||
			!strings.Contains(items[0], "signed in with password") {
			t.Errorf("this browser's item: %q", items[0])
		}
		if !strings.HasPrefix(items[1], "Chrome on Android") || !strings.Contains(items[1], "active now") || strings.Contains(items[1], "this browser") {
			t.Errorf("the phone's item: %q", items[1])
		}
		if n := browsertest.MustEval[int](t, p, `document.querySelectorAll("#logins button").length`); n != 1 {
			t.Errorf("%d Sign out buttons, want one (the phone's)", n)
		}
		if bad := browsertest.MustEval[[]string](t, p, a11yAudit); len(bad) > 0 {
			t.Errorf("settings with the devices: %v", bad)
		}

		p.Do(t, chromedp.Click(chromedp.CSS(`#logins button[aria-label^="Sign out Chrome on Android"]`)))
		phone.Wait(t, `document.body.dataset.screen === "auth" && document.getElementById("auth-error").textContent === "You were signed out. Sign in again."`)
		p.Wait(t, `document.querySelectorAll("#logins li").length === 1 && document.getElementById("logins-state").textContent === "Chrome on Android is signed out."`)
		if s := browsertest.MustEval[string](t, p, `document.querySelector("#logins li").textContent`); !strings.Contains(s, "this browser") {
			t.Errorf("the device left: %q", s)
		}
		if c := browsertest.MustEval[string](t, p, `document.body.dataset.conn`); c != "connected" {
			t.Errorf("this browser after signing the phone out: %s", c)
		}
	})
}
