package web_test

import (
	"encoding/json"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/internal/browsertest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
)

// Rooms that last (issue 20), the web client's part: the subject, the
// member list with roles and moderation, the owner's settings and the
// room directory's occupant counts.

// threeSignedIn makes alice, bob and carol, each signed in on a page of
// one browser (sized as v, when given); it fails when the gateway has no
// rooms.
func threeSignedIn(t *testing.T, e *gatewayenv.Env, v *viewport) (alice, bob, carol user) {
	t.Helper()
	alice = user{ejabberdtest.NewUser(t), nil}
	bob = user{ejabberdtest.NewUser(t), nil}
	carol = user{ejabberdtest.NewUser(t), nil}
	needs(t, e, e.Login(t, alice.Name, alice.Password), "GET", rest+"/groupchat/rooms")
	b := browsertest.Launch(t)
	suffix := ""
	if v != nil {
		suffix = "-" + v.name
	}
	alice.p, bob.p, carol.p = newPage(t, b, "alice"+suffix), newPage(t, b, "bob"+suffix), newPage(t, b, "carol"+suffix)
	for _, u := range []user{alice, bob, carol} {
		if v != nil {
			v.apply(t, u.p)
		}
		signIn(t, e, u.p, u.Name, u.Password)
	}
	return alice, bob, carol
}

// occupantLi is a JavaScript expression: the occupant list's item of nick,
// or null.
func occupantLi(nick string) string {
	return `document.querySelector("#occupants li[data-nick=" + CSS.escape(` + js(nick) + `) + "]")`
}

// occupantButton selects the moderation button action of nick.
func occupantButton(nick, action string) string {
	return `#occupants li[data-nick="` + nick + `"] button[data-action="` + action + `"]`
}

// textOf is a JavaScript expression: the text of the element with id.
func textOf(id string) string {
	return `document.getElementById(` + js(id) + `).textContent`
}

// visible is a JavaScript expression: whether the element with id is shown.
// A conversation action behind a phone's closed "More" menu counts as
// visible: it is one tap away (convmenu.js).
func visible(id string) string {
	return `(el => !!el && !el.hidden && (el.getClientRects().length > 0 || (!!el.closest(".conv-actions") && getComputedStyle(document.getElementById("conv-more")).display !== "none")))(document.getElementById(` + js(id) + `))`
}

// roomListed is a JavaScript expression: whether the Rooms list shows room.
func roomListed(room string) string {
	return `!!document.querySelector(` + js(`#rooms button[data-conv^="room:`+room+`@"]`) + `)`
}

// openOccupants opens the occupant panel unless it is open.
func openOccupants(t *testing.T, p *browsertest.Page) {
	t.Helper()
	if browsertest.MustEval[bool](t, p, `document.getElementById("occupants-panel").hidden`) {
		clickAction(t, p, "occupants-toggle")
	}
	p.Wait(t, `!document.getElementById("occupants-panel").hidden`)
}

// setSubject changes the open room's subject from the header.
func setSubject(t *testing.T, p *browsertest.Page, text string) {
	t.Helper()
	clickAction(t, p, "subject-edit")
	p.Wait(t, visible("subject-form"))
	p.Do(t,
		chromedp.SetValue(chromedp.ID("subject-input"), text),
		chromedp.Click(chromedp.ID("subject-save")),
	)
	p.Wait(t, textOf("conv-subject")+` === `+js(text))
}

// moderate clicks nick's button action (kick or ban) and confirms with
// the reason.
func moderate(t *testing.T, p *browsertest.Page, nick, action, reason string) {
	t.Helper()
	p.Do(t, chromedp.Click(chromedp.CSS(occupantButton(nick, action))))
	p.Wait(t, `document.getElementById("moderate").open`)
	p.Do(t,
		chromedp.SetValue(chromedp.ID("moderate-reason"), reason),
		chromedp.Click(chromedp.ID("moderate-confirm")),
	)
	p.Wait(t, `!document.getElementById("moderate").open`)
}

// TestBrowserRoomModeration: alice creates a room with
// options from the join form and reads them back in its settings; she
// sets the subject, which bob and carol see on joining and live when it
// changes or is cleared; she makes bob an admin and an owner and revokes
// both from the member list; the member list shows roles; bob, no owner, is told in plain
// words that he may not read the settings; alice takes and gives bob's
// voice, kicks carol and bans bob, each with a reason they read; the
// directory counts the people in the room; alice destroys it with a
// reason and an alternative room, which carol (back in the room) is told
// of and can follow. At both viewports (on a phone the room's actions are
// behind "More", and the lists behind Back).
func TestBrowserRoomModeration(t *testing.T) {
	t.Parallel()
	onViewports(t, roomModerationJourney)
}

// toLists shows the conversation lists again where a phone shows the
// open conversation in their place.
func toLists(t *testing.T, p *browsertest.Page, v viewport) {
	t.Helper()
	if v.mobile && browsertest.MustEval[bool](t, p, `document.body.classList.contains("in-conv")`) {
		p.Do(t, chromedp.Click(chromedp.ID("conv-back")))
	}
}

// roomModerationJourney is TestBrowserRoomModeration at the viewport v,
// with people of its own.
func roomModerationJourney(t *testing.T, e *gatewayenv.Env, _ *browsertest.Browser, v viewport) {
	alice, bob, carol := threeSignedIn(t, e, &v)
	bob.p.AllowText("status of 403") // his refused look at the settings
	room := "mod" + strings.ToLower(alice.Name)
	aliceNick, bobNick, carolNick := strings.ToLower(alice.Name), strings.ToLower(bob.Name), strings.ToLower(carol.Name)

	// Creation options from the join form.
	alice.p.Do(t, chromedp.Click(chromedp.CSS("#room-create summary")))
	alice.p.Do(t,
		chromedp.SetValue(chromedp.ID("create-name"), "Tea room"),
		chromedp.SetValue(chromedp.ID("create-desc"), "Where the kettle is"),
	)
	enterRoom(t, alice.p, room)
	alice.p.Wait(t, visible("room-settings-open"))
	clickAction(t, alice.p, "room-settings-open")
	alice.p.Wait(t, `document.getElementById("cfg-name").value === "Tea room"`)
	if got := browsertest.MustEval[string](t, alice.p, `document.getElementById("cfg-desc").value`); got != "Where the kettle is" {
		t.Errorf("room settings show the description %q", got)
	}
	if !browsertest.MustEval[bool](t, alice.p, `document.getElementById("cfg-public").checked`) {
		t.Error("the new room is not public, though the join form asked for it")
	}
	alice.p.Do(t, chromedp.Click(chromedp.ID("room-settings-close")))

	// The subject: set by the owner, seen on joining, changed live.
	setSubject(t, alice.p, "Plans for Friday")
	enterRoom(t, bob.p, room)
	bob.p.Wait(t, textOf("conv-subject")+` === "Plans for Friday"`)
	if browsertest.MustEval[bool](t, bob.p, visible("room-settings-open")) {
		t.Error("bob, no owner, is offered the room settings")
	}
	enterRoom(t, carol.p, room)
	setSubject(t, alice.p, "Moved to Saturday")
	for _, u := range []user{bob, carol} {
		u.p.Wait(t, textOf("conv-subject")+` === "Moved to Saturday"`)
	}
	// A participant is not offered the subject (the room does not say
	// occupants may change it); made a moderator, carol is, and what she
	// sets reaches the owner live.
	if browsertest.MustEval[bool](t, bob.p, visible("subject-edit")) {
		t.Error("bob, a participant, is offered the subject")
	}
	tokAlice := e.Login(t, alice.Name, alice.Password)
	if r := e.Do(t, "PUT", rest+"/groupchat/room/"+room+"/roles/"+carolNick+"?role=moderator", tokAlice, "", ""); r.Status != 200 {
		t.Fatalf("carol made a moderator: %d %s", r.Status, r.Body)
	}
	carol.p.Wait(t, visible("subject-edit"))
	setSubject(t, carol.p, "Carol's agenda")
	alice.p.Wait(t, textOf("conv-subject")+` === "Carol's agenda"`)
	bob.p.Wait(t, textOf("conv-subject")+` === "Carol's agenda"`)
	if r := e.Do(t, "PUT", rest+"/groupchat/room/"+room+"/roles/"+carolNick+"?role=participant", tokAlice, "", ""); r.Status != 200 {
		t.Fatalf("carol a participant again: %d %s", r.Status, r.Body)
	}
	carol.p.Wait(t, `!`+visible("subject-edit"))
	// Cleared (an empty subject), it goes from every page live.
	if r := e.Do(t, "PUT", rest+"/groupchat/room/"+room+"/subject", tokAlice, "text/plain", ""); r.Status != 200 {
		t.Fatalf("subject cleared: %d %s", r.Status, r.Body)
	}
	for _, u := range []user{alice, bob, carol} {
		u.p.Wait(t, textOf("conv-subject")+` === "" && !`+visible("conv-subject"))
	}

	// The member list, with what each person is there.
	openOccupants(t, alice.p)
	alice.p.Wait(t, `document.querySelectorAll("#occupants li").length === 3`)
	if got := browsertest.MustEval[string](t, alice.p, occupantLi(aliceNick)+`.textContent`); !strings.Contains(got, "owner") || !strings.Contains(got, "moderator") {
		t.Errorf("alice's own item reads %q, want owner and moderator", got)
	}
	openOccupants(t, bob.p)
	bob.p.Wait(t, `document.querySelectorAll("#occupants li").length === 3`)
	if n := browsertest.MustEval[int](t, bob.p, `document.querySelectorAll("#occupants button[data-action]:not([data-action=private])").length`); n != 0 {
		t.Errorf("bob, no moderator, sees %d moderation buttons", n)
	}

	// A non-owner's 403 says plainly that he may not.
	said := browsertest.MustEval[string](t, bob.p, `(async () => {
		const [a, s, x] = await Promise.all([import("./roomadmin.js"), import("./state.js"), import("./errors.js")]);
		try { await a.readConfig(s.activeConv()); return "allowed"; } catch (e) { return x.explain(e, "room-admin"); }
	})()`)
	if !strings.Contains(said, "not allowed") {
		t.Errorf("bob reading the settings is told %q, want that he is not allowed", said)
	}

	// The directory counts the people in the room.
	toLists(t, carol.p, v)
	carol.p.Do(t, chromedp.Click(chromedp.CSS("#directory summary")))
	listed := `#room-directory button[aria-label="Join Tea room"]`
	carol.p.Wait(t, `(b => !!b && b.textContent.includes("3 people"))(document.querySelector(`+js(listed)+`))`)

	// Voice taken and given back.
	alice.p.Do(t, chromedp.Click(chromedp.CSS(occupantButton(bobNick, "unvoice"))))
	alice.p.Wait(t, `!!document.querySelector(`+js(occupantButton(bobNick, "voice"))+`)`)
	alice.p.Wait(t, occupantLi(bobNick)+`.textContent.includes("no voice")`)
	bob.p.Wait(t, occupantLi(bobNick)+`.textContent.includes("no voice")`)
	alice.p.Do(t, chromedp.Click(chromedp.CSS(occupantButton(bobNick, "voice"))))
	alice.p.Wait(t, `!!document.querySelector(`+js(occupantButton(bobNick, "unvoice"))+`)`)

	// Bob made an admin, then an owner, from the member list: each page
	// shows it, and as an owner he is offered the settings; revoked, he is
	// a member again.
	grant := func(text, word string) {
		t.Helper()
		sel := `#occupants li[data-nick="` + bobNick + `"] button[aria-label="` + text + `: ` + bobNick + `"]`
		alice.p.Wait(t, `!!document.querySelector(`+js(sel)+`)`)
		alice.p.Do(t, chromedp.Click(chromedp.CSS(sel)))
		for _, u := range []user{alice, bob} {
			u.p.Wait(t, occupantLi(bobNick)+`?.querySelector(".tags")?.textContent.startsWith(" — `+word+`") === true`)
		}
	}
	grant("Make admin", "admin")
	grant("Make owner", "owner")
	bob.p.Wait(t, visible("room-settings-open"))
	grant("Revoke owner", "member")
	bob.p.Wait(t, `!`+visible("room-settings-open"))
	grant("Make admin", "admin")
	grant("Revoke admin", "member")
	if n := browsertest.MustEval[int](t, bob.p, `document.querySelectorAll("#occupants button[data-action=affiliation]").length`); n != 0 {
		t.Errorf("bob, no owner, is offered %d affiliation changes", n)
	}

	// Carol is kicked: she reads why, and the room leaves her list.
	moderate(t, alice.p, carolNick, "kick", "too loud")
	carol.p.Wait(t, textOf("notice")+`.includes("removed from the room") && `+textOf("notice")+`.includes("too loud")`)
	carol.p.Wait(t, `!`+roomListed(room))
	alice.p.Wait(t, `!`+occupantLi(carolNick))

	// Bob is banned: the same, and he cannot come back.
	moderate(t, alice.p, bobNick, "ban", "rude words")
	bob.p.Wait(t, textOf("notice")+`.includes("banned") && `+textOf("notice")+`.includes("rude words")`)
	bob.p.Wait(t, `!`+roomListed(room))
	alice.p.Wait(t, `!`+occupantLi(bobNick))
	bob.p.AllowText("status of 403")
	toLists(t, bob.p, v)
	bob.p.Do(t,
		chromedp.SetValue(chromedp.ID("room-input"), room),
		chromedp.Click(chromedp.CSS("#room-form button[type=submit]")),
	)
	bob.p.Wait(t, textOf("notice")+` === "You may not enter this room."`)

	// The owner's settings list the ban with its reason; unbanned, bob
	// comes back. Carol is made a member there.
	clickAction(t, alice.p, "room-settings-open")
	unban := `#cfg-outcast-list button[aria-label^="Unban ` + bobNick + `@"]`
	alice.p.Wait(t, `!!document.querySelector(`+js(unban)+`) && document.getElementById("cfg-outcast-list").textContent.includes("rude words")`)
	alice.p.Do(t, chromedp.Click(chromedp.CSS(unban)))
	alice.p.Wait(t, `!document.querySelector(`+js(unban)+`)`)
	alice.p.Do(t,
		chromedp.SetValue(chromedp.ID("member-add-input"), carol.Name),
		chromedp.Click(chromedp.ID("member-add-submit")),
	)
	alice.p.Wait(t, `!!document.querySelector(`+js(`#cfg-member-list button[aria-label^="Remove the membership of `+carolNick+`@"]`)+`)`)
	alice.p.Do(t, chromedp.Click(chromedp.ID("room-settings-close")))
	toLists(t, bob.p, v)
	enterRoom(t, bob.p, room)
	alice.p.Wait(t, `!!`+occupantLi(bobNick))

	// Destroyed with a reason and an alternative: carol, back in the room,
	// reads both and follows the link.
	toLists(t, carol.p, v)
	enterRoom(t, carol.p, room)
	alice.p.Wait(t, `!!`+occupantLi(carolNick))
	other := "after" + strings.ToLower(alice.Name)
	clickAction(t, alice.p, "room-settings-open")
	// Read before it goes: the dialog's members and bans of a destroyed
	// room would answer 404.
	alice.p.Wait(t, `document.getElementById("room-settings").open && `+textOf("room-config-state")+` === ""`)
	alice.p.Do(t,
		chromedp.SetValue(chromedp.ID("destroy-reason"), "party is over"),
		chromedp.SetValue(chromedp.ID("destroy-alternate"), other),
		chromedp.Click(chromedp.ID("destroy-submit")),
	)
	alice.p.Wait(t, `!`+roomListed(room))
	carol.p.Wait(t, textOf("notice")+`.includes("closed by its owner") && `+textOf("notice")+`.includes("party is over")`)
	carol.p.Wait(t, `!`+roomListed(room))
	bob.p.Wait(t, textOf("notice")+`.includes("closed by its owner")`)
	carol.p.Screenshot(t, filepath.Join(t.ArtifactDir(), "room-destroyed-"+v.name+".png"))
	carol.p.Do(t, chromedp.Click(chromedp.ID("alternate-room")))
	carol.p.Wait(t, textOf("conv-title")+` === `+js(other))
}

// twoForRooms starts a gateway and a browser for two new people; it
// fails when the gateway has no rooms.
func twoForRooms(t *testing.T) (*gatewayenv.Env, *browsertest.Browser, ejabberdtest.User, ejabberdtest.User) {
	t.Helper()
	e := gatewayenv.Start(t, nil)
	alice, bob := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	needs(t, e, e.Login(t, alice.Name, alice.Password), "GET", rest+"/groupchat/rooms")
	return e, browsertest.Launch(t), alice, bob
}

// pageOn opens a page of b sized as v and signs u in on it.
func pageOn(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport, name string, u ejabberdtest.User) *browsertest.Page {
	t.Helper()
	p := newPage(t, b, name)
	v.apply(t, p)
	signIn(t, e, p, u.Name, u.Password)
	return p
}

// joinsOf is a JavaScript expression: how many joins of room (PUT with a
// nick) the page has sent.
func joinsOf(room string) string {
	return `performance.getEntriesByType("resource").filter(r => r.name.includes("/groupchat/room/" + ` + js(room) + ` + "?") && r.name.includes("nick=")).length`
}

// TestBrowserRoomRejoined: the gateway keeps the rooms a person joined
// and enters them again when their session opens. Alice joins a room,
// signs out, and signs in on another device: the room is in her list
// without the page joining it a second time, its earlier message is shown
// once and as hers, she has her owner's controls, and a message written
// meanwhile arrives once. At the desktop's size only (both devices): the steps do not depend on the layout.
func TestBrowserRoomRejoined(t *testing.T) {
	t.Parallel()
	onDesktop(t, func(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
		alice, bob := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
		needs(t, e, e.Login(t, alice.Name, alice.Password), "GET", rest+"/groupchat/rooms")
		first := pageOn(t, e, b, v, "alice-first-"+v.name, alice)
		room := "back" + strings.ToLower(alice.Name)
		enterRoom(t, first, room)
		send(t, first, "before signing out")
		if n := browsertest.MustEval[int](t, first, joinsOf(room)); n != 1 {
			t.Fatalf("the first device joined the room %d times, want once", n)
		}
		signOut(t, first)
		first.Wait(t, `document.body.dataset.screen === "auth"`)

		// Bob writes while alice is away.
		tokBob := e.Login(t, bob.Name, bob.Password)
		if r := e.Do(t, "PUT", rest+"/groupchat/room/"+room, tokBob, "", ""); r.Status != 200 {
			t.Fatalf("bob joins: %d %s", r.Status, r.Body)
		}
		if r := e.Do(t, "POST", rest+"/groupchat/room/"+room, tokBob, "text/plain", "while you were away"); r.Status != 200 {
			t.Fatalf("bob writes: %d %s", r.Status, r.Body)
		}

		second := pageOn(t, e, b, v, "alice-second-"+v.name, alice)
		second.Wait(t, roomListed(room))
		clickNow(t, second, `#rooms button[data-conv^="room:`+room+`@"]`)
		second.Wait(t, textOf("conv-title")+` === `+js(room))
		waitShownOnce(t, second, "while you were away")
		waitShownOnce(t, second, "before signing out")
		// Hers on this device too, and she is the room's owner here.
		second.Wait(t, `(`+msgWith("before signing out")+`).classList.contains("mine")`)
		second.Wait(t, visible("room-settings-open"))
		if n := browsertest.MustEval[int](t, second, joinsOf(room)); n != 0 {
			t.Errorf("the second device joined the room %d times; the gateway had entered it already", n)
		}
		if r := e.Do(t, "POST", rest+"/groupchat/room/"+room, tokBob, "text/plain", "welcome back"); r.Status != 200 {
			t.Fatalf("bob writes: %d %s", r.Status, r.Body)
		}
		waitShownOnce(t, second, "welcome back")
		assertShownOnce(t, second, "while you were away")
		second.Screenshot(t, filepath.Join(t.ArtifactDir(), "rejoined-"+v.name+".png"))
	})
}

// TestBrowserRoomPhone: at 390×844 on a touch phone, the owner's room
// header shows the subject and her buttons, the member list's moderation
// buttons are on screen and nothing scrolls sideways, and the settings
// dialog fits the screen and saves; the member list shows her roles and
// she kicks bob from it; after a reload her buttons come back, and the
// room directory counts who is left.
func TestBrowserRoomPhone(t *testing.T) {
	t.Parallel()
	e, b, alice, bob := twoForRooms(t)
	p := pageOn(t, e, b, viewports[1], "alice-phone", alice)
	room := "phone" + strings.ToLower(alice.Name)
	enterRoom(t, p, room)
	tokBob := e.Login(t, bob.Name, bob.Password)
	if r := e.Do(t, "PUT", rest+"/groupchat/room/"+room, tokBob, "", ""); r.Status != 200 {
		t.Fatalf("bob joins: %d %s", r.Status, r.Body)
	}
	setSubject(t, p, "A rather long subject that has to wrap on a small phone screen without scrolling sideways")
	openOccupants(t, p)
	bobNick := strings.ToLower(bob.Name)
	p.Wait(t, `!!document.querySelector(`+js(occupantButton(bobNick, "kick"))+`)`)
	onScreen := func(sel string) string {
		return `(r => r.left >= 0 && r.right <= innerWidth && r.width > 0)(document.querySelector(` + js(sel) + `).getBoundingClientRect())`
	}
	for _, sel := range []string{occupantButton(bobNick, "kick"), occupantButton(bobNick, "ban"), "#conv-subject", "#conv-more"} {
		if !browsertest.MustEval[bool](t, p, onScreen(sel)) {
			t.Errorf("%s is not within the phone's width", sel)
		}
	}
	// The member list on the phone: roles shown, and a kick done from it
	// through the moderation dialog, which fits the screen.
	aliceLi := occupantLi(strings.ToLower(alice.Name))
	p.Wait(t, `(li => !!li && li.textContent.includes("owner") && li.textContent.includes("moderator"))(`+aliceLi+`)`)
	p.Wait(t, `!!document.querySelector(`+js(occupantButton(bobNick, "kick"))+`)`)
	p.Do(t, chromedp.Click(chromedp.CSS(occupantButton(bobNick, "kick"))))
	p.Wait(t, `document.getElementById("moderate").open`)
	if !browsertest.MustEval[bool](t, p, onScreen("#moderate")) {
		t.Error("the moderation dialog is wider than the phone")
	}
	p.Do(t,
		chromedp.SetValue(chromedp.ID("moderate-reason"), "kicked from a phone"),
		chromedp.Click(chromedp.ID("moderate-confirm")),
	)
	p.Wait(t, `!document.getElementById("moderate").open && !`+occupantLi(bobNick))

	// The room's actions are behind "More" on a phone, each on screen once open.
	p.Do(t, chromedp.Click(chromedp.ID("conv-more")))
	for _, sel := range []string{"#subject-edit", "#room-settings-open", "#room-leave"} {
		p.Wait(t, onScreen(sel))
	}
	if !browsertest.MustEval[bool](t, p, `document.documentElement.scrollWidth <= innerWidth`) {
		t.Error("the room page scrolls sideways on the phone")
	}
	p.Screenshot(t, filepath.Join(t.ArtifactDir(), "room-phone.png"))
	clickAction(t, p, "room-settings-open")
	p.Wait(t, `document.getElementById("room-settings").open && document.getElementById("room-config-state").textContent === ""`)
	if !browsertest.MustEval[bool](t, p, onScreen("#room-settings")) {
		t.Error("the room settings dialog is wider than the phone")
	}
	p.Screenshot(t, filepath.Join(t.ArtifactDir(), "room-settings-phone.png"))

	// Saved settings are the room's: the owner's form read back.
	p.Do(t,
		chromedp.SetValue(chromedp.ID("cfg-desc"), "Phone room"),
		chromedp.Click(chromedp.ID("cfg-members")),
		chromedp.SetValue(chromedp.ID("cfg-password"), "s3cret-word"),
		chromedp.Click(chromedp.ID("cfg-save")),
	)
	p.Wait(t, textOf("room-config-state")+` === "The room settings are saved."`)
	r := e.Do(t, "GET", rest+"/groupchat/room/"+room+"/config", e.Login(t, alice.Name, alice.Password), "", "")
	var cfg struct {
		Options struct {
			Description       string
			MembersOnly       bool
			PasswordProtected bool
		}
	}
	if err := json.Unmarshal([]byte(r.Body), &cfg); err != nil || r.Status != 200 {
		t.Fatalf("GET config: %d %s %v", r.Status, r.Body, err)
	}
	if o := cfg.Options; o.Description != "Phone room" || !o.MembersOnly || !o.PasswordProtected {
		t.Errorf("the room's configuration after saving: %+v", o)
	}
	p.Do(t, chromedp.Click(chromedp.ID("room-settings-close")))

	// A reload keeps what she is there: the owner's buttons come back.
	p.Do(t, chromedp.Reload())
	p.Wait(t, `document.body.dataset.conn === "connected"`)
	p.Wait(t, visible("room-settings-open")+` && `+textOf("conv-subject")+`.startsWith("A rather long subject")`)

	// The room directory on the phone, counting who is left.
	p.Do(t, chromedp.Click(chromedp.ID("conv-back")))
	p.Do(t, chromedp.Click(chromedp.CSS("#directory summary")))
	listed := `#room-directory button[data-room^="` + room + `"]`
	p.Wait(t, `(b => !!b && b.textContent.includes("1 person"))(document.querySelector(`+js(listed)+`))`)
	if !browsertest.MustEval[bool](t, p, onScreen(listed)) {
		t.Error("the directory's room is not within the phone's width")
	}
	p.Screenshot(t, filepath.Join(t.ArtifactDir(), "room-directory-phone.png"))
}

// TestBrowserRoomTyping: in a room, who is typing is shown in the header
// and gone with their message; typing in the room's message box tells the
// other occupants (bob's stream gets alice's composing from the room).
func TestBrowserRoomTyping(t *testing.T) {
	t.Parallel()
	e, p, room, roomJID, tokBob := aliceWithBenInRoom(t, "typing")
	bobStream := e.OpenConnected(t, tokBob, "")
	if r := e.Do(t, "POST", rest+"/chat/chatstate/composing/"+url.PathEscape(roomJID), tokBob, "", ""); r.Status != 200 {
		t.Fatalf("bob types: %d %s", r.Status, r.Body)
	}
	p.WaitShowing(t, textOf("typing")+` === "ben is typing…"`, textOf("typing"))
	if r := e.Do(t, "POST", rest+"/groupchat/room/"+room, tokBob, "text/plain", "done typing"); r.Status != 200 {
		t.Fatalf("bob writes: %d %s", r.Status, r.Body)
	}
	p.WaitShowing(t, textOf("typing")+` === ""`, textOf("typing"))

	p.Do(t, chromedp.SendKeys(chromedp.ID("composer-input"), "hel"))
	deadline := time.Now().Add(10 * time.Second)
	for {
		var cs chatapi.ChatState
		bobStream.NextNamed(t, chatapi.EventChat, time.Until(deadline), &cs)
		if cs.Type == chatapi.TypeChatState && strings.HasPrefix(cs.From, roomJID+"/") && cs.State == chatapi.StateComposing {
			break
		}
	}
}

// aliceWithBenInRoom signs alice in on a desktop page, where she enters
// a new room named prefix+…; bob joins it through the API as ben. It
// answers the environment, her page, the room's name and JID and bob's
// token.
func aliceWithBenInRoom(t *testing.T, prefix string) (e *gatewayenv.Env, p *browsertest.Page, room, roomJID, tokBob string) {
	t.Helper()
	e, b, alice, bob := twoForRooms(t)
	p = pageOn(t, e, b, viewports[0], "alice-"+prefix, alice)
	room = prefix + strings.ToLower(alice.Name)
	enterRoom(t, p, room)
	tokBob = e.Login(t, bob.Name, bob.Password)
	if r := e.Do(t, "PUT", rest+"/groupchat/room/"+room+"?nick=ben", tokBob, "", ""); r.Status != 200 {
		t.Fatalf("bob joins: %d %s", r.Status, r.Body)
	}
	roomJID = browsertest.MustEval[string](t, p, `document.querySelector("#rooms button[data-conv^='room:`+room+`@']").dataset.conv.slice(5)`)
	return e, p, room, roomJID, tokBob
}
