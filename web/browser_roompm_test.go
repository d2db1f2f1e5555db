package web_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/internal/browsertest"
)

// TestBrowserRoomPrivate: a room's occupants write to each other
// privately. alice presses Message on ben in the room's member list: a
// conversation with ben in that room opens (no Add contact, Block or
// Meeting: the room hides his account) and her message reaches him from
// room/her-nick. His answer to that address lands in the same
// conversation, counted unread while she is in the room, where before the
// client dropped every chat from a room's address (and the gateway still
// pushed it to her phone). After a reload the conversation comes back from
// the archive with both messages.
func TestBrowserRoomPrivate(t *testing.T) {
	t.Parallel()
	e, p, room, roomJID, tokBob := aliceWithBenInRoom(t, "private")
	ben := roomJID + "/ben"
	bobStream := e.OpenConnected(t, tokBob, "")

	clickAction(t, p, "occupants-toggle")
	clickNow(t, p, `#occupants li[data-nick="ben"] button[data-action="private"]`)
	p.WaitShowing(t, textOf("conv-title")+` === "ben (in `+room+`)" && `+textOf("conv-presence")+`.startsWith("Private, in `+room+`")`,
		`[`+textOf("conv-title")+`, `+textOf("conv-presence")+`]`)
	for _, id := range []string{"contact-add", "contact-block", "meeting"} {
		if browsertest.MustEval[bool](t, p, visible(id)) {
			t.Errorf("#%s is offered in a private conversation with a room's occupant", id)
		}
	}
	send(t, p, "hello ben")
	deadline := time.Now().Add(10 * time.Second)
	var got chatapi.Chat
	for got.Body != "hello ben" {
		bobStream.NextNamed(t, chatapi.EventChat, time.Until(deadline), &got)
	}
	if !strings.HasPrefix(got.From, roomJID+"/") || got.Type != chatapi.TypeChat {
		t.Fatalf("ben got %+v, want a private chat from the room's occupant", got)
	}

	// ben answers while alice reads the room.
	clickNow(t, p, `#rooms button[data-conv="room:`+roomJID+`"]`)
	p.Wait(t, textOf("conv-title")+` === `+js(room))
	if r := e.Do(t, "POST", rest+"/chat/message/"+url.PathEscape(got.From), tokBob, "text/plain", "psst, alice"); r.Status != 200 {
		t.Fatalf("ben answers: %d %s", r.Status, r.Body)
	}
	listed := convButton(ben)
	p.WaitShowing(t, `(b => !!b && b.textContent.includes("psst, alice") && /\b1\b/.test(b.querySelector(".unread")?.textContent || ""))(document.querySelector(`+js(listed)+`))`,
		`document.querySelector(`+js(listed)+`)?.textContent`)
	clickConv(t, p, ben)
	both := textOf("messages") + `.includes("hello ben") && ` + textOf("messages") + `.includes("psst, alice")`
	p.WaitShowing(t, both, textOf("messages"))

	p.Do(t, chromedp.Reload())
	p.Wait(t, `document.body.dataset.conn === "connected"`)
	clickConv(t, p, ben)
	p.WaitShowing(t, both, textOf("messages"))
}
