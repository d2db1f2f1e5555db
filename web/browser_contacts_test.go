package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/internal/browsertest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
)

// requestButton selects the Accept or Decline button of jid's contact
// request.
func requestButton(action, jid string) string {
	return `#requests button[aria-label="` + action + ` ` + jid + `"]`
}

// exists is a JavaScript expression: an element matches sel.
func exists(sel string) string { return `!!document.querySelector(` + js(sel) + `)` }

// aliceOnTwo signs alice in on two devices (browser contexts): here, at
// the viewport v, and there, at the other one; bob is signed in through
// the API (tb).
func aliceOnTwo(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) (alice, bob ejabberdtest.User, here, there *browsertest.Page, tb string) {
	t.Helper()
	alice, bob = ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	here, there = newPage(t, b, "alice-here-"+v.name), newPage(t, b, "alice-there-"+v.name)
	v.apply(t, here)
	otherViewport(v).apply(t, there)
	signIn(t, e, here, alice.Name, alice.Password)
	signIn(t, e, there, alice.Name, alice.Password)
	return alice, bob, here, there, e.Login(t, bob.Name, bob.Password)
}

// TestBrowserDeclineRequest: bob asks to see alice's presence; alice,
// signed in on a desktop and a phone, sees Accept and Decline on both.
// She declines on one: the request leaves both pages, and bob is told
// (his stream gets alice's unsubscribed presence). The page declining is
// the desktop's (onDesktop); the phone shows the request leave.
func TestBrowserDeclineRequest(t *testing.T) {
	t.Parallel()
	onDesktop(t, declineJourney)
}

// declineJourney is TestBrowserDeclineRequest at the viewport v.
func declineJourney(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
	alice, bob, here, there, tb := aliceOnTwo(t, e, b, v)
	needs(t, e, tb, "GET", rest+"/presence/roster")
	bobStream := e.OpenConnected(t, tb, "")

	if r := e.Do(t, "POST", rest+"/roster", tb, "application/json", `{"jid":"`+alice.JID+`","subscriptionType":1}`); r.Status != 200 {
		t.Fatalf("bob asks: %d %s", r.Status, r.Body)
	}
	for _, p := range []*browsertest.Page{there, here} {
		p.Wait(t, exists(requestButton("Accept", bob.JID))+` && `+exists(requestButton("Decline", bob.JID)))
	}
	here.Do(t, chromedp.Click(chromedp.CSS(requestButton("Decline", bob.JID))))
	for _, p := range []*browsertest.Page{there, here} {
		p.Wait(t, `!`+exists(requestButton("Accept", bob.JID))+` && !document.querySelector("#requests li")`)
	}

	deadline := time.Now().Add(10 * time.Second)
	for {
		var p chatapi.Presence
		bobStream.NextNamed(t, chatapi.EventPresence, time.Until(deadline), &p)
		if p.PresenceType == chatapi.PresenceUnsubscribed && strings.HasPrefix(p.From, alice.JID) {
			break
		}
	}
	// Nothing is offered again when alice's pages load anew.
	there.Do(t, chromedp.Reload())
	there.Wait(t, `document.body.dataset.conn === "connected"`)
	there.Do(t, chromedp.Sleep(time.Second)) // a request would be shown by now
	if browsertest.MustEval[bool](t, there, exists(requestButton("Accept", bob.JID))) {
		t.Error("the declined request is offered again after a reload")
	}
}

// blockedListed is a JavaScript expression: settings list jid as blocked.
func blockedListed(jid string) string {
	return exists(`#blocked-list button[aria-label="Unblock ` + jid + `"]`)
}

// TestBrowserBlock: alice blocks bob from his conversation. Her other
// device hears of it and lists him under Blocked too; bob's messages no
// longer arrive. She unblocks him from the Blocked list in settings, and
// his next message arrives. At the phone's size only (onPhone; the page
// blocking is at v: on a phone Block is in the conversation's "More"
// menu and Settings in the account menu, the harder way; the other device
// is at the desktop's).
func TestBrowserBlock(t *testing.T) {
	t.Parallel()
	onPhone(t, blockJourney)
}

// blockJourney is TestBrowserBlock at the viewport v.
func blockJourney(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
	alice, bob, here, there, tb := aliceOnTwo(t, e, b, v)
	ta := e.Login(t, alice.Name, alice.Password)
	needs(t, e, ta, "GET", rest+"/blocklist")

	sayTo(t, e, tb, alice.Name, "before the block")
	clickConv(t, here, bob.JID)
	waitShownOnce(t, here, "before the block")
	here.Wait(t, `!document.getElementById("contact-block").hidden && document.getElementById("contact-unblock").hidden`)
	clickAction(t, here, "contact-block")
	here.Wait(t, `document.getElementById("contact-block").hidden && !document.getElementById("contact-unblock").hidden && document.getElementById("contact-add").hidden`)
	here.Wait(t, blockedListed(bob.JID))
	there.Wait(t, blockedListed(bob.JID)) // the server's push, through the other device's stream

	sayTo(t, e, tb, alice.Name, "while blocked")
	here.Do(t, chromedp.Sleep(2*time.Second)) // it would have arrived by now
	if n := browsertest.MustEval[int](t, here, shown("while blocked")); n != 0 {
		t.Fatalf("a blocked person's message is shown %d times", n)
	}

	openSettings(t, here)
	here.Wait(t, blockedListed(bob.JID))
	browsertest.MustEval[bool](t, here, `(document.querySelector('#blocked-list button[aria-label="Unblock `+bob.JID+`"]').click(), true)`)
	here.Wait(t, `!`+blockedListed(bob.JID))
	there.Wait(t, `!`+blockedListed(bob.JID))
	here.Do(t, chromedp.Click(chromedp.ID("settings-close")))
	here.Wait(t, `!document.getElementById("contact-block").hidden`)

	sayTo(t, e, tb, alice.Name, "after the unblock")
	waitShownOnce(t, here, "after the unblock")
	if n := browsertest.MustEval[int](t, here, shown("while blocked")); n != 0 {
		t.Errorf("the message sent while blocked arrived later (%d)", n)
	}
	r := e.Do(t, "GET", rest+"/blocklist", ta, "", "")
	var list struct {
		JIDs []string `json:"jids"`
	}
	if err := json.Unmarshal(r.Body, &list); r.Status != 200 || err != nil || len(list.JIDs) != 0 {
		t.Errorf("the blocklist after unblocking: %d %s", r.Status, r.Body)
	}
}

// TestBrowserSignOutEverywhere: alice is signed in in two browsers, the
// other one with "stay signed in". From one she signs out everywhere: that
// page shows the sign-in saying so, the other lands on the sign-in too,
// and does not come back signed in after a reload. The page signing out
// is at the phone's size (on a phone Settings is in the account menu),
// the other at the desktop's (onPhone).
func TestBrowserSignOutEverywhere(t *testing.T) {
	t.Parallel()
	onPhone(t, func(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
		alice := ejabberdtest.NewUser(t)
		here, there := newPage(t, b, "alice-here-"+v.name), newPage(t, b, "alice-there-"+v.name)
		v.apply(t, here)
		otherViewport(v).apply(t, there)
		signIn(t, e, here, alice.Name, alice.Password)
		signInWith(t, e, there, alice.Name, alice.Password, true)
		// The revoked tokens are refused while the pages find out.
		here.AllowText("status of 401")
		there.AllowText("status of 401")

		openSettings(t, here)
		// From the page itself: Settings draws its lists (devices,
		// passkeys, the blocklist) as they load, moving the button under a
		// click aimed through the DevTools protocol.
		clickNow(t, here, "#signout-everywhere")
		here.Wait(t, `document.body.dataset.screen === "auth"`)
		if got := browsertest.MustEval[string](t, here, `document.getElementById("auth-error").textContent`); !strings.Contains(got, "every device") {
			t.Errorf("the page that signed out everywhere says %q", got)
		}
		there.Wait(t, `document.body.dataset.screen === "auth"`)

		// "Stay signed in" kept nothing that still works.
		there.Do(t, chromedp.Reload())
		there.Wait(t, `document.body.dataset.screen === "auth"`)
		there.Do(t, chromedp.Sleep(time.Second))
		if s := browsertest.MustEval[string](t, there, `document.body.dataset.screen`); s != "auth" {
			t.Errorf("after a reload the other browser shows %q", s)
		}
		signIn(t, e, here, alice.Name, alice.Password) // a new sign-in works
	})
}

// otherViewport is the viewport that is not v.
func otherViewport(v viewport) viewport {
	if v.name == viewports[0].name {
		return viewports[1]
	}
	return viewports[0]
}

// TestBrowserRequestsEveryTab: bob asks to see alice's presence while she
// has one tab open (desktop). A second tab of the same browser, opened
// afterwards (phone-sized), shows the request too, and so does the first
// after a reload: the gateway keeps it (GET /contact-requests), although
// the XMPP server told only the session open when it came. Alice accepts
// on the second tab: the request leaves both, and stays gone after a
// reload, while bob becomes her contact.
func TestBrowserRequestsEveryTab(t *testing.T) {
	t.Parallel()
	e := gatewayenv.Start(t, nil)
	b := browsertest.Launch(t)
	alice, bob := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	one := newPage(t, b, "alice-one")
	signInWith(t, e, one, alice.Name, alice.Password, true)
	tb := e.Login(t, bob.Name, bob.Password)
	needs(t, e, tb, "GET", rest+"/contact-requests")

	if r := e.Do(t, "POST", rest+"/roster", tb, "application/json", `{"jid":"`+alice.JID+`","subscriptionType":1}`); r.Status != 200 {
		t.Fatalf("bob asks: %d %s", r.Status, r.Body)
	}
	one.Wait(t, exists(requestButton("Accept", bob.JID)))

	two := tabAt(t, e, one, "alice-two", viewports[1])
	two.Wait(t, `document.body.dataset.screen === "app" && document.body.dataset.conn === "connected"`)
	two.Wait(t, exists(requestButton("Accept", bob.JID))+` && `+exists(requestButton("Decline", bob.JID)))
	two.Axe(t, "a contact request on the phone")

	one.Do(t, chromedp.Reload())
	one.Wait(t, `document.body.dataset.conn === "connected"`)
	one.Wait(t, exists(requestButton("Accept", bob.JID)))

	two.Do(t, chromedp.Click(chromedp.CSS(requestButton("Accept", bob.JID))))
	for _, p := range []*browsertest.Page{one, two} {
		p.Wait(t, `!`+exists(requestButton("Accept", bob.JID))+` && !document.querySelector("#requests li")`)
		p.Wait(t, exists(contactButton(bob.JID)))
	}
	one.Do(t, chromedp.Reload())
	one.Wait(t, `document.body.dataset.conn === "connected"`)
	one.Wait(t, exists(contactButton(bob.JID)))
	one.Do(t, chromedp.Sleep(time.Second)) // a request would be shown by now
	if browsertest.MustEval[bool](t, one, exists(requestButton("Accept", bob.JID))) {
		t.Error("the accepted request is offered again after a reload")
	}
	if r := e.Do(t, "GET", rest+"/contact-requests", e.Login(t, alice.Name, alice.Password), "", ""); r.Status != 200 || string(r.Body) != "[]\n" && string(r.Body) != "[]" {
		t.Errorf("alice's GET /contact-requests after accepting: %d %s, want []", r.Status, r.Body)
	}
}

// TestBrowserContactWaiting: alice adds bob, who has not answered: her
// conversation with him says she is waiting for him to accept (not
// "Offline", which nobody knows), and so does the page after a reload,
// from the roster's pending request; his contact button shows no presence
// dot. Once bob accepts, his presence is shown.
func TestBrowserContactWaiting(t *testing.T) {
	t.Parallel()
	e, _, p := signedInAlone(t, "alice-waiting")
	bob := ejabberdtest.NewUser(t)
	tb := e.Login(t, bob.Name, bob.Password)
	openChat(t, p, bob.Name)
	p.Wait(t, `!document.getElementById("contact-add").hidden`)
	clickAction(t, p, "contact-add")
	waiting := textOf("conv-presence") + `.startsWith("Waiting for ") && ` + textOf("conv-presence") + `.endsWith(" to accept")`
	p.WaitShowing(t, waiting, textOf("conv-presence"))
	p.Wait(t, exists(contactButton(bob.JID))+` && !`+exists(contactButton(bob.JID)+" .dot"))

	p.Do(t, chromedp.Reload())
	p.Wait(t, `document.body.dataset.conn === "connected"`)
	p.Do(t, chromedp.Click(chromedp.CSS(contactButton(bob.JID))))
	p.WaitShowing(t, waiting, textOf("conv-presence"))

	alice := browsertest.MustEval[string](t, p, `document.getElementById("menu-jid").textContent`)
	if r := e.Do(t, "POST", rest+"/roster", tb, "application/json", `{"jid":"`+alice+`","subscriptionType":3}`); r.Status != 200 {
		t.Fatalf("bob accepts: %d %s", r.Status, r.Body)
	}
	p.WaitShowing(t, textOf("conv-presence")+` === "Online"`, textOf("conv-presence"))
	p.Wait(t, exists(contactButton(bob.JID)+" .dot.online"))
}

// TestBrowserLastSeen: a contact who signs out is "Last seen just now" in
// the open chat's header, from the presence that says so; after a reload,
// which knows them only as offline, opening the chat asks the gateway
// (GET /presence/{jid}, lastSeen) and says the same. Signed in again,
// "Online".
func TestBrowserLastSeen(t *testing.T) {
	t.Parallel()
	e, au, p := signedInAlone(t, "alice-lastseen")
	bob := ejabberdtest.NewUser(t)
	tb := e.Login(t, bob.Name, bob.Password)
	openChat(t, p, bob.Name)
	p.Wait(t, `!document.getElementById("contact-add").hidden`)
	clickAction(t, p, "contact-add")
	alice := browsertest.MustEval[string](t, p, `document.getElementById("menu-jid").textContent`)
	// Bob accepts once the request has reached him (accepted before, it
	// is a subscription of his own that alice's request may cross).
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		r := e.Do(t, "GET", rest+"/contact-requests", tb, "", "")
		if r.Status == 200 && strings.Contains(string(r.Body), alice) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alice's request never reached bob: %d %s", r.Status, r.Body)
		}
	}
	if r := e.Do(t, "POST", rest+"/roster", tb, "application/json", `{"jid":"`+alice+`","subscriptionType":3}`); r.Status != 200 {
		t.Fatalf("bob accepts: %d %s", r.Status, r.Body)
	}
	p.WaitShowing(t, textOf("conv-presence")+` === "Online"`, textOf("conv-presence"))

	if r := e.Do(t, "POST", rest+"/logout", tb, "", ""); r.Status != 200 {
		t.Fatalf("bob signs out: %d %s", r.Status, r.Body)
	}
	lastSeen := `/^Last seen (just now|1 minute ago)$/.test(` + textOf("conv-presence") + `)`
	p.WaitShowing(t, lastSeen, textOf("conv-presence"))

	// The server counts whole seconds, and says 0 (no lastSeen) in the
	// second bob left: the reload comes once it says more.
	ta := e.Login(t, au.Name, au.Password)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		r := e.Do(t, "GET", rest+"/presence/"+bob.JID, ta, "", "")
		if r.Status == 200 && strings.Contains(string(r.Body), `"lastSeen"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no lastSeen for bob: %d %s", r.Status, r.Body)
		}
	}
	p.Do(t, chromedp.Reload())
	p.Wait(t, `document.body.dataset.conn === "connected"`)
	p.Do(t, chromedp.Click(chromedp.CSS(contactButton(bob.JID))))
	p.WaitShowing(t, lastSeen, textOf("conv-presence"))

	e.Login(t, bob.Name, bob.Password)
	p.WaitShowing(t, textOf("conv-presence")+` === "Online"`, textOf("conv-presence"))
}

// TestBrowserMute: the chat's Mute mutes bob on the gateway (GET
// /chat/muted lists him) and marks him muted in the list and the button
// (pressed, "Unmute"); another tab of alice's, signed in on another
// device, shows it from chatapi.muted; Settings lists it, and its Unmute
// there undoes it everywhere; muted again from another device (the API),
// after a reload it is still so (the gateway's list); the header's
// Unmute undoes it everywhere. At the phone's size only
// (make test's time), the harder one: the button is in the header's More
// menu (clickAction), and the list is hidden while a chat is open.
func TestBrowserMute(t *testing.T) {
	t.Parallel()
	onPhone(t, func(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
		alice, bob := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
		p, other := newPage(t, b, "alice-"+v.name), newPage(t, b, "alice-other-"+v.name)
		v.apply(t, p)
		signIn(t, e, p, alice.Name, alice.Password)
		signIn(t, e, other, alice.Name, alice.Password)
		openChat(t, p, bob.Name)
		openChat(t, other, bob.Name)
		mutedInList := `!!document.querySelector(` + js(`#chats button[data-conv="chat:`+bob.JID+`"] .muted`) + `)`
		pressed := `document.getElementById("conv-mute").getAttribute("aria-pressed") === "true" && document.getElementById("conv-mute").textContent === "Unmute"`

		// Mute asks for how long; Cancel (or Escape) leaves it unmuted.
		choices := `!document.getElementById("mute-choices").hidden`
		clickAction(t, p, "conv-mute")
		p.Wait(t, choices+` && document.activeElement.dataset.mute === "3600"`)
		p.Do(t, chromedp.Click(chromedp.ID("mute-cancel")))
		p.Wait(t, `!(`+choices+`) && document.getElementById("conv-mute").getAttribute("aria-pressed") === "false"`)

		// For an hour: the gateway keeps the end, the other tab learns it,
		// and the header says until when.
		clickAction(t, p, "conv-mute")
		p.Wait(t, choices)
		p.Do(t, chromedp.Click(`#mute-choices button[data-mute="3600"]`))
		p.Wait(t, pressed+` && `+mutedInList+` && !(`+choices+`) && document.getElementById("conv-mute").title.startsWith("Muted until ")`)
		other.Wait(t, pressed+` && `+mutedInList+` && document.getElementById("conv-mute").title.startsWith("Muted until ")`)
		tok := e.Login(t, alice.Name, alice.Password)
		var listed struct {
			Muted []struct {
				JID   string    `json:"jid"`
				Until time.Time `json:"until"`
			} `json:"muted"`
		}
		r := e.Do(t, "GET", rest+"/chat/muted", tok, "", "")
		if r.Status != 200 || json.Unmarshal(r.Body, &listed) != nil || len(listed.Muted) != 1 || listed.Muted[0].JID != bob.JID {
			t.Fatalf("GET /chat/muted: %d %s", r.Status, r.Body)
		}
		if d := time.Until(listed.Muted[0].Until); d < 55*time.Minute || d > 61*time.Minute {
			t.Errorf("muted for an hour ends in %v", d)
		}

		// Until unmuted: the end goes away.
		clickAction(t, p, "conv-mute")
		p.Wait(t, `document.getElementById("conv-mute").getAttribute("aria-pressed") === "false"`)
		clickAction(t, p, "conv-mute")
		p.Wait(t, choices)
		p.Do(t, chromedp.Click(`#mute-choices button[data-mute="0"]`))
		p.Wait(t, pressed+` && `+mutedInList+` && document.getElementById("conv-mute").title === "Muted until you unmute it"`)
		other.Wait(t, pressed+` && document.getElementById("conv-mute").title === "Muted until you unmute it"`)
		if r := e.Do(t, "GET", rest+"/chat/muted", tok, "", ""); r.Status != 200 || !strings.Contains(string(r.Body), `"jid":"`+bob.JID+`"`) || strings.Contains(string(r.Body), `"until"`) {
			t.Fatalf("GET /chat/muted: %d %s", r.Status, r.Body)
		}
		if title := browsertest.MustEval[string](t, p, `document.querySelector(`+js(`#chats button[data-conv="chat:`+bob.JID+`"]`)+`).title`); !strings.HasSuffix(title, ", muted") {
			t.Errorf("bob's list item is titled %q", title)
		}

		p.Do(t, chromedp.Reload())
		p.Wait(t, `document.body.dataset.conn === "connected" && `+mutedInList)

		// Settings lists it, by name and until when; its Unmute there
		// unmutes it everywhere, and muting it again from the header puts
		// it back in the list.
		openSettings(t, p)
		inSettings := `document.getElementById("muted-list").textContent.includes(` + js(bob.Name+" (until you unmute it)") + `)`
		p.Wait(t, inSettings)
		browsertest.MustEval[bool](t, p, `(document.querySelector(`+js(`#muted-list button[data-jid="`+bob.JID+`"]`)+`).click(), true)`)
		p.Wait(t, `document.getElementById("muted-list").textContent.includes("No conversation is muted.") && !`+mutedInList)
		other.Wait(t, `document.getElementById("conv-mute").textContent === "Mute" && !`+mutedInList)
		if r := e.Do(t, "PUT", rest+"/chat/muted/"+bob.Name, tok, "", ""); r.Status != 200 {
			t.Fatalf("mute bob again: %d %s", r.Status, r.Body)
		}
		p.Wait(t, inSettings)
		p.Do(t, chromedp.Click(chromedp.ID("settings-close")))

		// The reload may have brought the conversation back on screen (a
		// phone then hides the list): open it from the list either way.
		browsertest.MustEval[bool](t, p, `(document.querySelector(`+js(`#chats button[data-conv="chat:`+bob.JID+`"]`)+`).click(), true)`)
		p.Wait(t, pressed)
		clickAction(t, p, "conv-mute")
		p.Wait(t, `document.getElementById("conv-mute").getAttribute("aria-pressed") === "false" && !`+mutedInList)
		other.Wait(t, `document.getElementById("conv-mute").textContent === "Mute" && !`+mutedInList)
		if r := e.Do(t, "GET", rest+"/chat/muted", tok, "", ""); r.Status != 200 || strings.Contains(string(r.Body), bob.JID) {
			t.Errorf("GET /chat/muted after unmuting: %d %s", r.Status, r.Body)
		}
	})
}

// TestBrowserPins: Pin marks a conversation pinned; the gateway keeps the
// pins (a user property), so another device signed in later lists it
// first, above a conversation with a newer message; unpinned there, the
// first page follows at once (chatapi.properties). Mark as unread works
// the same way: a dot on every device until the conversation is opened;
// on a phone, marking goes back to the list.
func TestBrowserPins(t *testing.T) {
	t.Parallel()
	onViewports(t, func(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
		alice, bob, carol := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
		p := newPage(t, b, "alice-pins-"+v.name)
		v.apply(t, p)
		signIn(t, e, p, alice.Name, alice.Password)
		for _, u := range []ejabberdtest.User{bob, carol} { // carol's is the newer
			if r := e.Do(t, "POST", rest+"/chat/message/"+url.PathEscape(alice.Name), e.Login(t, u.Name, u.Password), "text/plain", "hello from "+u.Name); r.Status != http.StatusOK {
				t.Fatalf("%s writes: %d %s", u.Name, r.Status, r.Body)
			}
			p.Wait(t, `document.getElementById("chats").textContent.includes(`+js("hello from "+u.Name)+`)`)
		}
		first := func(jid string) string {
			return `(b => !!b && b.dataset.conv === ` + js("chat:"+jid) + `)(document.querySelector("#chats button[data-conv]"))`
		}
		pinnedMark := exists(convButton(bob.JID) + " .pinned")
		p.Wait(t, first(carol.JID)+` && !`+pinnedMark)

		clickConv(t, p, bob.JID)
		p.Wait(t, `document.getElementById("conv-title").textContent !== "No conversation" && !document.getElementById("conv-pin").hidden`)
		clickAction(t, p, "conv-pin")
		p.WaitShowing(t, first(bob.JID)+` && `+pinnedMark+` && document.getElementById("conv-pin").getAttribute("aria-pressed") === "true" && document.getElementById("conv-pin").textContent === "Unpin"`,
			`[...document.querySelectorAll("#chats button[data-conv]")].map(b => b.title)`)

		// Another device, signed in afterwards: the pin is there.
		other := newPage(t, b, "alice-pins-other-"+v.name)
		v.apply(t, other)
		signIn(t, e, other, alice.Name, alice.Password)
		other.WaitShowing(t, first(bob.JID)+` && `+pinnedMark, `[...document.querySelectorAll("#chats button[data-conv]")].map(b => b.title)`)
		clickConv(t, other, bob.JID)
		other.Wait(t, `document.getElementById("conv-pin").getAttribute("aria-pressed") === "true"`)
		clickAction(t, other, "conv-pin")
		other.Wait(t, `!`+pinnedMark+` && document.getElementById("conv-pin").textContent === "Pin"`)

		// The first page hears of it (chatapi.properties) and reads the
		// pins anew. (Bob stays first on both: opened there, his is the
		// newest activity.)
		p.Wait(t, `!`+pinnedMark+` && document.getElementById("conv-pin").getAttribute("aria-pressed") === "false"`)

		// Mark as unread (marks.js), on the other device: carol's
		// conversation, read, shows a dot on both and counts in the
		// title; opening it on the first page takes the mark away on both.
		marked := exists(convButton(carol.JID) + ` .unread.marked[aria-label="marked unread"]`)
		clickConv(t, other, carol.JID)
		other.Wait(t, `!document.getElementById("conv-mark").hidden`)
		clickAction(t, other, "conv-mark")
		other.Wait(t, marked+` && document.getElementById("conv-mark").hidden`)
		if v.name == "phone" { // the list, where the mark shows, is back
			other.Wait(t, `!document.body.classList.contains("in-conv")`)
		}
		p.WaitShowing(t, marked+` && document.title === "(1) sparkgate"`, `document.title`)
		clickConv(t, p, carol.JID)
		for _, page := range []*browsertest.Page{p, other} {
			page.Wait(t, `!`+marked+` && document.title === "sparkgate"`)
		}
	})
}
