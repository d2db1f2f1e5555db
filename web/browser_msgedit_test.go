package web_test

import (
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/sparkgate/sparkgate/internal/browsertest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
)

// The journeys of issue 19's message changes: corrections, retractions,
// reactions and replies, shown in place live and after a reload.

// clickOn clicks the control action (data-action) of the message whose
// text is text, once it is there; emoji picks one of several.
func clickOn(t *testing.T, p *browsertest.Page, text, action, emoji string) {
	t.Helper()
	sel := `button[data-action="` + action + `"]`
	if emoji != "" {
		sel += `[data-emoji="` + emoji + `"]`
	}
	p.Wait(t, `(() => { const li = `+msgWith(text)+`; const b = li && li.querySelector(`+js(sel)+`);
		if (!b || b.disabled) return false; b.click(); return true; })()`)
}

// keyOf is a JavaScript expression: the data-key of the message whose text
// is text ("" when none).
func keyOf(text string) string {
	return `(((` + msgWith(text) + `) || {dataset: {}}).dataset.key || "")`
}

// chipOf is a JavaScript expression: the reaction chip emoji of the
// message whose text is text, as "<text> <title> <own>", or "".
func chipOf(text, emoji string) string {
	return `(() => { const li = ` + msgWith(text) + `; const c = li && [...li.querySelectorAll(".reactions .chip")].find(c => c.textContent.startsWith(` + js(emoji) + `));
		return c ? c.textContent + " " + c.title + " " + c.classList.contains("own") : ""; })()`
}

// editInPlace edits the message old on page p into text through Edit and
// Send, and checks that page q (the other person) shows it in place of
// old, marked edited, among n messages.
func editInPlace(t *testing.T, p, q *browsertest.Page, old, text string, n int) {
	t.Helper()
	key := browsertest.MustEval[string](t, q, keyOf(old))
	clickOn(t, p, old, "edit", "")
	p.Wait(t, `document.getElementById("composer-input").value === `+js(old)+` && !document.getElementById("compose-mode").hidden`)
	if got := browsertest.MustEval[string](t, p, `document.getElementById("compose-mode-text").textContent`); !strings.Contains(got, "Editing") {
		t.Errorf("the composer says %q while editing", got)
	}
	send(t, p, text)
	p.Wait(t, shown(text)+` === 1 && `+shown(old)+` === 0`)
	p.Wait(t, `document.getElementById("compose-mode").hidden`)
	q.Wait(t, shown(text)+` === 1 && `+shown(old)+` === 0`)
	if got := browsertest.MustEval[string](t, q, keyOf(text)); got != key {
		t.Errorf("the correction is message %q on the other page, the original was %q: not in place", got, key)
	}
	if !browsertest.MustEval[bool](t, q, `!!(`+msgWith(text)+`).querySelector(".edited")`) {
		t.Error("the other page shows no edited mark on the corrected message")
	}
	if got := browsertest.MustEval[int](t, q, `document.querySelectorAll("#messages .msg").length`); got != n {
		t.Errorf("the other page shows %d messages after the correction, want %d", got, n)
	}
}

// bodies is a JavaScript expression: the texts of the open conversation in order.
const bodies = `[...document.querySelectorAll("#messages .msg .body")].map(b => b.textContent)`

// TestBrowserMessageChanges: alice edits, deletes, reacts and replies; bob
// sees each live, in place and once; a correction bob makes through the
// REST API shows in place on alice's page; bob's reload (the tab's cache)
// and bob on another browser (the folded archive) show the same. At the
// phone's size (onPhone).
func TestBrowserMessageChanges(t *testing.T) {
	t.Parallel()
	onPhone(t, func(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
		alice, bob, pa, pb := twoAt(t, e, b, v)
		openChat(t, pa, bob.Name)
		send(t, pa, "first words")
		pb.Wait(t, `!!document.querySelector(`+js(convButton(alice.JID))+`)`)
		clickConv(t, pb, alice.JID)
		waitShownOnce(t, pb, "first words")
		send(t, pb, "bob says hi")
		waitShownOnce(t, pa, "bob says hi")

		// Edit: the composer holds the text, says so, and Send corrects it.
		pa.Wait(t, `!!(`+msgWith("first words")+`) && (`+msgWith("first words")+`).dataset.state !== "pending"`)
		editInPlace(t, pa, pb, "first words", "first words, corrected", 2)

		// Up-arrow in the empty composer edits the last own message;
		// Escape leaves it as it was.
		pa.Do(t, chromedp.Focus(chromedp.ID("composer-input")), chromedp.KeyEvent(kb.ArrowUp))
		pa.Wait(t, `document.getElementById("composer-input").value === "first words, corrected" && !document.getElementById("compose-mode").hidden`)
		pa.Axe(t, "editing a message")
		pa.Do(t, chromedp.KeyEvent(kb.Escape))
		pa.Wait(t, `document.getElementById("composer-input").value === "" && document.getElementById("compose-mode").hidden`)

		// Copy puts the text as written on the clipboard (the page's
		// clipboard is stood in for: a background page may not write the
		// real one) and says so.
		browsertest.MustEval[bool](t, pa, `(navigator.clipboard.writeText = async (text) => { window.copied = text; }, true)`)
		clickOn(t, pa, "bob says hi", "copy", "")
		pa.Wait(t, `window.copied === "bob says hi" && document.getElementById("msg-announce").textContent === "Copied."`)

		// React: the picker, then a chip on both pages; bob's click on the
		// chip adds his, a second click takes it away.
		clickOn(t, pa, "bob says hi", "pick", "")
		pa.Wait(t, `!!(`+msgWith("bob says hi")+`).querySelector(".picker")`)
		pa.Axe(t, "reaction picker")
		clickOn(t, pa, "bob says hi", "react", "👍")
		pa.Wait(t, chipOf("bob says hi", "👍")+`.startsWith("👍 1 you true")`)
		pa.Wait(t, `!(`+msgWith("bob says hi")+`).querySelector(".picker")`)
		name := strings.ToLower(alice.Name)
		pb.Wait(t, chipOf("bob says hi", "👍")+` === `+js("👍 1 "+name+" false"))
		clickOn(t, pb, "bob says hi", "react", "👍")
		pa.Wait(t, chipOf("bob says hi", "👍")+`.startsWith("👍 2")`)
		clickOn(t, pb, "bob says hi", "react", "👍")
		pa.Wait(t, chipOf("bob says hi", "👍")+`.startsWith("👍 1")`)
		pb.Wait(t, chipOf("bob says hi", "👍")+` === `+js("👍 1 "+name+" false"))

		// Reply: "Replying to …", then a quote on both pages; bob's click
		// on it goes to the message.
		clickOn(t, pa, "bob says hi", "reply", "")
		pa.Wait(t, `document.getElementById("compose-mode-text").textContent.includes("Replying to")`)
		send(t, pa, "a reply")
		pb.Wait(t, shown("a reply")+` === 1`)
		pb.Wait(t, `((`+msgWith("a reply")+`).querySelector(".quote") || {}).textContent.includes("bob says hi")`)
		clickOn(t, pb, "a reply", "quote", "")
		pb.Wait(t, `(`+msgWith("bob says hi")+`).classList.contains("flash")`)

		// Delete: asked first, then a tombstone in place on both pages.
		send(t, pa, "to delete")
		waitShownOnce(t, pb, "to delete")
		pa.Wait(t, `(`+msgWith("to delete")+`).dataset.state !== "pending"`)
		key := browsertest.MustEval[string](t, pb, keyOf("to delete"))
		clickOn(t, pa, "to delete", "delete", "")
		pa.Wait(t, `!!(`+msgWith("to delete")+`).querySelector('button[data-action="delete-yes"]')`)
		pa.Axe(t, "deleting a message")
		pa.Screenshot(t, filepath.Join(t.ArtifactDir(), "changes-"+v.name+".png"))
		clickOn(t, pa, "to delete", "delete-yes", "")
		pa.Wait(t, shown("to delete")+` === 0 && document.querySelectorAll("#messages .tombstone").length === 1`)
		pb.Wait(t, shown("to delete")+` === 0 && document.querySelectorAll("#messages .tombstone").length === 1`)
		if got := browsertest.MustEval[string](t, pb, `document.querySelector("#messages .tombstone").closest(".msg").dataset.key`); got != key {
			t.Errorf("the tombstone is message %q on bob's page, the deleted one was %q", got, key)
		}

		// Bob corrects through the REST API: in place on alice's page.
		tok := e.Login(t, bob.Name, bob.Password)
		r := e.Do(t, "POST", rest+"/chat/message/"+url.PathEscape(alice.Name), tok, "text/plain", "typo heer")
		if r.Status != http.StatusOK {
			t.Fatalf("send: %d %s", r.Status, r.Body)
		}
		var sent struct{ ID string }
		r.JSON(t, &sent)
		waitShownOnce(t, pa, "typo heer")
		if r := e.Do(t, "PUT", rest+"/chat/message/"+url.PathEscape(alice.Name)+"/"+url.PathEscape(sent.ID), tok, "text/plain", "typo here"); r.Status != http.StatusOK {
			t.Fatalf("correct: %d %s", r.Status, r.Body)
		}
		pa.Wait(t, shown("typo here")+` === 1 && `+shown("typo heer")+` === 0 && !!(`+msgWith("typo here")+`).querySelector(".edited")`)
		pa.Axe(t, "changed messages")
		pb.Axe(t, "changed messages")

		// Bob's reload and bob elsewhere show what bob saw live.
		same := func(p *browsertest.Page, what string) {
			t.Helper()
			p.Wait(t, `JSON.stringify(`+bodies+`) === `+js(`["first words, corrected","bob says hi","a reply","Message deleted","typo here"]`))
			p.Wait(t, chipOf("bob says hi", "👍")+` === `+js("👍 1 "+name+" false"))
			p.Wait(t, `((`+msgWith("a reply")+`).querySelector(".quote") || {}).textContent.includes("bob says hi")`)
			if n := browsertest.MustEval[int](t, p, `document.querySelectorAll("#messages .edited").length`); n != 2 {
				t.Errorf("%s: %d messages marked edited, want 2", what, n)
			}
			p.Axe(t, what)
		}
		pb.Do(t, chromedp.Reload())
		pb.Wait(t, `document.body.dataset.conn === "connected"`)
		if v.mobile {
			clickConv(t, pb, alice.JID)
		}
		same(pb, "bob's reload")
		other := newPage(t, b, "bob-elsewhere-"+v.name)
		v.apply(t, other)
		signIn(t, e, other, bob.Name, bob.Password)
		clickConv(t, other, alice.JID)
		same(other, "bob's archive")
	})
}

// TestBrowserRoomArchiveChanges: a correction and a retraction another
// occupant sends to a room from a plain client (a raw stanza) are shown
// in place by a device that opens the room's folded archive. At the phone's size only: the steps do not depend on the layout.
func TestBrowserRoomArchiveChanges(t *testing.T) {
	t.Parallel()
	onPhone(t, func(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
		alice, bob := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
		needs(t, e, e.Login(t, alice.Name, alice.Password), "GET", rest+"/groupchat/rooms")
		p := newPage(t, b, "alice-room-"+v.name)
		v.apply(t, p)
		signIn(t, e, p, alice.Name, alice.Password)
		tb := e.Login(t, bob.Name, bob.Password)
		room := "folded" + strings.ToLower(alice.Name)
		enterRoom(t, p, room)
		if r := e.Do(t, "PUT", rest+"/groupchat/room/"+room, tb, "", ""); r.Status != http.StatusOK {
			t.Fatalf("bob joins: %d %s", r.Status, r.Body)
		}
		roomJID := strings.TrimPrefix(browsertest.MustEval[string](t, p, `document.querySelector('#rooms button[data-conv^="room:`+room+`@"]').dataset.conv`), "room:")
		say := func(text string) string {
			t.Helper()
			r := e.Do(t, "POST", rest+"/groupchat/room/"+room, tb, "text/plain", text)
			if r.Status != http.StatusOK {
				t.Fatalf("bob says %q: %d %s", text, r.Status, r.Body)
			}
			var sent struct{ ID string }
			r.JSON(t, &sent)
			return sent.ID
		}
		typo, gone := say("room typo"), say("room mistake")
		say("room after")
		waitShownOnce(t, p, "room after")
		for _, stanza := range []string{
			`<message type="groupchat" to="` + roomJID + `"><body>room fixed</body><replace xmlns="urn:xmpp:message-correct:0" id="` + typo + `"/></message>`,
			`<message type="groupchat" to="` + roomJID + `"><body>retracted</body><retract xmlns="urn:xmpp:message-retract:1" id="` + gone + `"/><fallback xmlns="urn:xmpp:fallback:0" for="urn:xmpp:message-retract:1"/><store xmlns="urn:xmpp:hints"/></message>`,
		} {
			if r := e.Do(t, "POST", rest+"/xmpp", tb, "text/plain", stanza); r.Status != http.StatusOK {
				t.Fatalf("bob's stanza: %d %s", r.Status, r.Body)
			}
		}
		// Another device: the archive, folded.
		other := newPage(t, b, "alice-room-elsewhere-"+v.name)
		v.apply(t, other)
		signIn(t, e, other, alice.Name, alice.Password)
		clickNow(t, other, `#rooms button[data-conv="room:`+roomJID+`"]`)
		other.Wait(t, `JSON.stringify(`+bodies+`) === `+js(`["room fixed","Message deleted","room after"]`))
		if !browsertest.MustEval[bool](t, other, `!!(`+msgWith("room fixed")+`).querySelector(".edited")`) {
			t.Error("the corrected room message is not marked edited")
		}
		other.Axe(t, "room archive with changes")
		other.Screenshot(t, filepath.Join(t.ArtifactDir(), "room-archive-"+v.name+".png"))

		// Searching the messages finds the room's as they are now: the
		// correction's text, not the retracted one; a result opens the room
		// at its message.
		found := search(t, other, "room")
		if want := []string{"room after", "room fixed"}; !slices.Equal(found, want) {
			t.Errorf("searching \"room\" found %q, want %q", found, want)
		}
		if name := browsertest.MustEval[string](t, other, `document.querySelector("#search-results .found .name").textContent`); !strings.HasPrefix(name, room) {
			t.Errorf("a room's result is named %q, want the room %q first", name, room)
		}
		openFound(t, other, "room fixed")
	})
}
