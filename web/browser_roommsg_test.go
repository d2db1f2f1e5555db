package web_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sparkgate/sparkgate/internal/browsertest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
)

// TestBrowserRoomMessageChanges: two people in a room, each on their own
// page. Alice edits and deletes her messages and reacts to bob's, bob
// reacts to and answers hers; the other page shows each live, in place
// and once; bob's reload (the tab's cache, then the room's folded archive)
// and bob on another device (the folded archive alone) show the same. At
// the phone's size (onPhone).
func TestBrowserRoomMessageChanges(t *testing.T) {
	t.Parallel()
	onPhone(t, func(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
		alice, bob, pa, pb := twoAt(t, e, b, v)
		room := "edits" + v.name + strings.ToLower(alice.Name)
		enterRoom(t, pa, room)
		enterRoom(t, pb, room)
		roomJID := strings.TrimPrefix(browsertest.MustEval[string](t, pb, `document.querySelector('#rooms button[data-conv^="room:`+room+`@"]').dataset.conv`), "room:")
		send(t, pa, "room first words")
		waitShownOnce(t, pb, "room first words")
		send(t, pb, "bob in the room")
		waitShownOnce(t, pa, "bob in the room")
		pa.Wait(t, stateOf("room first words")+` === "sent"`)

		// Edit: in place on bob's page, marked edited, no second message.
		editInPlace(t, pa, pb, "room first words", "room words, corrected", 2)
		// Bob may not edit or delete alice's message; he may react and reply.
		if got := browsertest.MustEval[string](t, pb, `[...(`+msgWith("room words, corrected")+`).querySelectorAll(".msg-tools button")].map(b => b.dataset.action).join(",")`); got != "reply,copy,pick" {
			t.Errorf("bob's actions on alice's room message: %q, want reply,copy,pick", got)
		}

		// React: alice's 👍 on bob's message, bob's own next to it.
		clickOn(t, pa, "bob in the room", "pick", "")
		pa.Wait(t, `!!(`+msgWith("bob in the room")+`).querySelector(".picker")`)
		pa.Axe(t, "room reaction picker")
		clickOn(t, pa, "bob in the room", "react", "👍")
		pa.Wait(t, chipOf("bob in the room", "👍")+`.startsWith("👍 1 you true")`)
		pb.Wait(t, chipOf("bob in the room", "👍")+`.startsWith("👍 1 ") && `+chipOf("bob in the room", "👍")+`.endsWith(" false")`)
		clickOn(t, pb, "bob in the room", "react", "👍")
		pa.Wait(t, chipOf("bob in the room", "👍")+`.startsWith("👍 2")`)
		clickOn(t, pb, "bob in the room", "react", "👍")
		pa.Wait(t, chipOf("bob in the room", "👍")+`.startsWith("👍 1 you true")`)

		// Reply: bob answers alice's message; both pages quote it.
		clickOn(t, pb, "room words, corrected", "reply", "")
		pb.Wait(t, `document.getElementById("compose-mode-text").textContent.includes("Replying to")`)
		send(t, pb, "a room reply")
		for _, p := range []*browsertest.Page{pa, pb} {
			p.Wait(t, shown("a room reply")+` === 1`)
			p.Wait(t, `((`+msgWith("a room reply")+`).querySelector(".quote") || {}).textContent.includes("room words, corrected")`)
		}
		clickOn(t, pa, "a room reply", "quote", "")
		pa.Wait(t, `(`+msgWith("room words, corrected")+`).classList.contains("flash")`)

		// Delete: asked first, then a tombstone in place on both pages.
		send(t, pa, "room oops")
		waitShownOnce(t, pb, "room oops")
		pa.Wait(t, stateOf("room oops")+` === "sent"`)
		key := browsertest.MustEval[string](t, pb, keyOf("room oops"))
		clickOn(t, pa, "room oops", "delete", "")
		pa.Wait(t, `!!(`+msgWith("room oops")+`).querySelector('button[data-action="delete-yes"]')`)
		pa.Axe(t, "deleting a room message")
		pa.Screenshot(t, filepath.Join(t.ArtifactDir(), "room-changes-"+v.name+".png"))
		clickOn(t, pa, "room oops", "delete-yes", "")
		for _, p := range []*browsertest.Page{pa, pb} {
			p.Wait(t, shown("room oops")+` === 0 && document.querySelectorAll("#messages .tombstone").length === 1`)
		}
		if got := browsertest.MustEval[string](t, pb, `document.querySelector("#messages .tombstone").closest(".msg").dataset.key`); got != key {
			t.Errorf("the tombstone is message %q on bob's page, the deleted one was %q", got, key)
		}
		pb.Axe(t, "changed room messages")

		// Bob's reload and bob elsewhere show what bob saw live.
		same := func(p *browsertest.Page, what string) {
			t.Helper()
			p.Wait(t, `JSON.stringify(`+bodies+`) === `+js(`["room words, corrected","bob in the room","a room reply","Message deleted"]`))
			p.Wait(t, chipOf("bob in the room", "👍")+`.startsWith("👍 1 ") && `+chipOf("bob in the room", "👍")+`.endsWith(" false")`)
			p.Wait(t, `((`+msgWith("a room reply")+`).querySelector(".quote") || {}).textContent.includes("room words, corrected")`)
			p.Wait(t, `document.querySelectorAll("#messages .edited").length === 1`)
			// Still in the room: its messages can be answered again.
			p.Wait(t, `!!(`+msgWith("room words, corrected")+`).querySelector('button[data-action="reply"]')`)
			p.Axe(t, what)
		}
		pb.Do(t, chromedp.Reload())
		pb.Wait(t, `document.body.dataset.conn === "connected"`)
		if v.mobile {
			clickNow(t, pb, `#rooms button[data-conv="room:`+roomJID+`"]`)
		}
		same(pb, "bob's reload in the room")
		other := newPage(t, b, "bob-room-elsewhere-"+v.name)
		v.apply(t, other)
		signIn(t, e, other, bob.Name, bob.Password)
		clickNow(t, other, `#rooms button[data-conv="room:`+roomJID+`"]`)
		same(other, "bob's room archive")
	})
}
