package web_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sparkgate/sparkgate/internal/browsertest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
)

// The message list's journeys (issue 25): each runs at a desktop size
// and at a phone size, with new people for each.

// viewport is a screen size the journeys run at.
type viewport struct {
	name   string
	w, h   int64
	mobile bool // a touch phone
}

var viewports = []viewport{
	{"desktop", 1280, 800, false},
	{"phone", 390, 844, true},
}

// apply sizes p's screen as v.
func (v viewport) apply(t *testing.T, p *browsertest.Page) {
	t.Helper()
	var opts []chromedp.EmulateViewportOption
	if v.mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	p.Do(t, chromedp.EmulateViewport(v.w, v.h, opts...))
}

// onViewports runs journey once per viewport, each with its own gateway
// user names but one gateway and browser.
func onViewports(t *testing.T, journey func(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport)) {
	e := gatewayenv.Start(t, nil)
	b := browsertest.Launch(t)
	for _, v := range viewports {
		t.Run(v.name, func(t *testing.T) { journey(t, e, b, v) })
	}
}

// onPhone runs journey at the phone's size only, for journeys whose
// steps do not depend on the layout: the phone's is the harder one
// (actions behind menus, one pane at a time), and make test has a time
// bound (15 minutes on two cores) that both sizes of every journey
// outgrew.
func onPhone(t *testing.T, journey func(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport)) {
	onViewport(t, viewports[len(viewports)-1], journey)
}

// onDesktop runs journey at the desktop's size only, for the same reason
// as onPhone: journeys whose steps do not depend on the layout, where the
// wide screen is the one that shows more at once (the lists beside the
// conversation). Between onPhone and onDesktop, each size keeps a share
// of the journeys that run at one size.
func onDesktop(t *testing.T, journey func(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport)) {
	onViewport(t, viewports[0], journey)
}

func onViewport(t *testing.T, v viewport, journey func(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport)) {
	e := gatewayenv.Start(t, nil)
	b := browsertest.Launch(t)
	t.Run(v.name, func(t *testing.T) { journey(t, e, b, v) })
}

// twoAt signs in two new people, alice and bob, on pages of size v.
func twoAt(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) (alice, bob ejabberdtest.User, pa, pb *browsertest.Page) {
	t.Helper()
	alice, bob = ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	pa, pb = newPage(t, b, "alice-"+v.name), newPage(t, b, "bob-"+v.name)
	v.apply(t, pa)
	v.apply(t, pb)
	signIn(t, e, pa, alice.Name, alice.Password)
	signIn(t, e, pb, bob.Name, bob.Password)
	return alice, bob, pa, pb
}

// msgWith is a JavaScript expression: the message element of the open
// conversation whose body is text, or null.
func msgWith(text string) string {
	return `[...document.querySelectorAll("#messages .msg")].find(li => li.querySelector(".body").textContent === ` + js(text) + `) || null`
}

// stateOf is a JavaScript expression: the send state shown on the message
// with body text ("" when none).
func stateOf(text string) string {
	return `(((` + msgWith(text) + `) || {dataset: {}}).dataset.state || "")`
}

// watchStates records on the page every state the message with body text
// shows, in order, in window.states[text].
func watchStates(t *testing.T, p *browsertest.Page) {
	t.Helper()
	browsertest.MustEval[bool](t, p, `(() => {
		window.states = {};
		const note = (li) => {
			const b = li.querySelector && li.querySelector(".body");
			if (!b || !li.dataset.state) return;
			const seen = window.states[b.textContent] || (window.states[b.textContent] = []);
			if (seen[seen.length - 1] !== li.dataset.state) seen.push(li.dataset.state);
		};
		new MutationObserver((records) => {
			for (const r of records) {
				if (r.type === "attributes") note(r.target);
				for (const n of r.addedNodes || []) if (n.classList && n.classList.contains("msg")) note(n);
			}
		}).observe(document.getElementById("messages"), {childList: true, subtree: true, attributes: true, attributeFilter: ["data-state"]});
		return true;
	})()`)
}

// TestBrowserMessageStates: a sent message shows pending, then sent,
// delivered (the peer's session answers the receipt) and read (the peer
// opens the conversation: a displayed marker), as an icon with words for
// screen readers, each change said once in the announcer and the list
// never a live region itself. A send that fails (the network is gone)
// leaves the message failed with Retry; Retry sends it once, and it is
// shown once on both sides. A message the server bounces (no such user)
// ends failed too.
func TestBrowserMessageStates(t *testing.T) {
	t.Parallel()
	onPhone(t, func(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
		alice, bob, pa, pb := twoAt(t, e, b, v)
		pa.AllowText("ERR_INTERNET_DISCONNECTED", "ERR_NETWORK_CHANGED", "Failed to fetch")

		if got := browsertest.MustEval[string](t, pa, `document.getElementById("messages").getAttribute("aria-live")`); got != "off" {
			t.Errorf("the message list is a live region (aria-live %q): it would be read again on changes", got)
		}
		openChat(t, pa, bob.Name)
		watchStates(t, pa)
		send(t, pa, "hello states")
		pa.Wait(t, stateOf("hello states")+` === "delivered"`)
		assertShownOnce(t, pa, "hello states")
		if got := browsertest.MustEval[string](t, pa, `(`+msgWith("hello states")+`).querySelector(".state").textContent`); !strings.Contains(got, "Delivered") || !strings.Contains(got, "✓✓") {
			all := browsertest.MustEval[[]string](t, pa, `[...document.querySelectorAll("#messages .msg")].map(li => li.dataset.key + " " + li.dataset.state + " " + li.textContent)`)
			t.Errorf("the delivered message shows %q, want the ticks and the word; the list: %q", got, all)
		}
		pa.Wait(t, `document.getElementById("msg-announce").textContent.includes("Delivered")`)

		// Bob sees it announced once (only the new message), opens the
		// conversation: alice's message is read.
		pb.Wait(t, `!!document.querySelector(`+js(convButton(alice.JID))+`)`)
		clickConv(t, pb, alice.JID)
		waitShownOnce(t, pb, "hello states")
		pa.Wait(t, stateOf("hello states")+` === "read"`)
		pa.Wait(t, `document.getElementById("msg-announce").textContent.includes("Read")`)
		sayTo(t, e, e.Login(t, bob.Name, bob.Password), alice.Name, "bob answers")
		pa.Wait(t, `document.getElementById("msg-announce").textContent.includes(`+js(strings.ToLower(bob.Name)+": bob answers")+`)`)
		// Sent may last less than a frame (the receipt comes at once), so it
		// may never be drawn; so may pending, when the send's answer comes
		// before the next animation frame (a make test under load saw
		// "sent delivered read"). Those drawn come in order, and delivered
		// and read always are.
		seen := strings.Join(browsertest.MustEval[[]string](t, pa, `window.states["hello states"]`), " ")
		switch seen {
		case "pending sent delivered read", "pending delivered read", "sent delivered read", "delivered read":
		default:
			t.Errorf("the message went through the states %s, want pending, sent, delivered, read", seen)
		}
		pa.Screenshot(t, filepath.Join(t.ArtifactDir(), "states-"+v.name+".png"))

		// No network: the message stays in the list, failed, with Retry;
		// the composer is free for the next one.
		setOffline(t, pa, true)
		send(t, pa, "sent while offline")
		pa.Wait(t, stateOf("sent while offline")+` === "failed"`)
		pa.Wait(t, `document.getElementById("msg-announce").textContent.includes("Not sent")`)
		retry := `(` + msgWith("sent while offline") + `).querySelector("button.retry")`
		if label := browsertest.MustEval[string](t, pa, retry+`.getAttribute("aria-label")`); !strings.Contains(label, "sent while offline") {
			t.Errorf("the Retry button is labelled %q", label)
		}
		pa.Screenshot(t, filepath.Join(t.ArtifactDir(), "failed-"+v.name+".png"))
		setOffline(t, pa, false)
		pa.Wait(t, `document.body.dataset.conn === "connected"`)
		// Two clicks in a row send it once.
		browsertest.MustEval[bool](t, pa, `(() => { const b = `+retry+`; b.click(); b.click(); return true; })()`)
		pa.Wait(t, stateOf("sent while offline")+` === "read" || `+stateOf("sent while offline")+` === "delivered"`)
		waitShownOnce(t, pb, "sent while offline")
		pa.Do(t, chromedp.Sleep(500*time.Millisecond)) // an echo or a second send would come by now
		assertShownOnce(t, pa, "sent while offline")
		assertShownOnce(t, pb, "sent while offline")
		if n := browsertest.MustEval[int](t, pa, `document.querySelectorAll("#messages button.retry").length`); n != 0 {
			t.Errorf("%d Retry buttons left after the retry", n)
		}

		// A bounce (no such user) marks the message failed.
		if v.mobile {
			pa.Do(t, chromedp.Click(chromedp.ID("conv-back")))
		}
		openChat(t, pa, "nosuch"+strings.ToLower(alice.Name))
		send(t, pa, "to nobody")
		pa.Wait(t, stateOf("to nobody")+` === "failed"`)
	})
}

// TestBrowserNewMessagesPill: scrolled up in a long conversation, new
// messages leave the list where it is and a pill says how many are new;
// clicking it goes to the newest and it goes away. At the end of the list,
// a new message keeps the list at its end with no pill.
func TestBrowserNewMessagesPill(t *testing.T) {
	t.Parallel()
	onViewports(t, func(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
		alice, bob := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
		p := newPage(t, b, "alice-"+v.name)
		v.apply(t, p)
		signIn(t, e, p, alice.Name, alice.Password)
		tok := e.Login(t, bob.Name, bob.Password)
		for i := 1; i <= 40; i++ {
			sayTo(t, e, tok, alice.Name, fmt.Sprintf("line %02d of a long talk", i))
		}
		p.Wait(t, `!!document.querySelector(`+js(convButton(bob.JID))+`)`)
		clickConv(t, p, bob.JID)
		waitShownOnce(t, p, "line 40 of a long talk")
		const atEnd = `(l => l.scrollHeight - l.scrollTop - l.clientHeight < 40)(document.getElementById("messages"))`
		const pill = `document.getElementById("jump-latest")`
		p.Wait(t, atEnd+` && `+pill+`.hidden`)

		// Scrolled up (not to the top, which asks for older pages): the
		// jump control shows.
		top := browsertest.MustEval[int](t, p, `(l => (l.scrollTop = Math.round(l.scrollHeight / 3), l.dispatchEvent(new Event("scroll")), l.scrollTop))(document.getElementById("messages"))`)
		p.Wait(t, `!`+pill+`.hidden && `+pill+`.textContent.startsWith("Jump to latest")`)
		sayTo(t, e, tok, alice.Name, "new one")
		sayTo(t, e, tok, alice.Name, "new two")
		waitShownOnce(t, p, "new two")
		p.Wait(t, pill+`.textContent.startsWith("2 new messages")`)
		if now := browsertest.MustEval[int](t, p, `document.getElementById("messages").scrollTop`); now < top-2 || now > top+2 {
			t.Errorf("the list moved from %d to %d when new messages came", top, now)
		}
		if got := browsertest.MustEval[string](t, p, `document.getElementById("msg-announce").textContent`); !strings.Contains(got, "new two") || strings.Contains(got, "line 40") {
			t.Errorf("announced %q, want the new messages only", got)
		}
		p.Screenshot(t, filepath.Join(t.ArtifactDir(), "pill-"+v.name+".png"))
		p.Do(t, chromedp.Click(chromedp.ID("jump-latest")))
		p.Wait(t, atEnd+` && `+pill+`.hidden`)

		// At the end, a new message keeps the list there, with no pill.
		sayTo(t, e, tok, alice.Name, "new three")
		waitShownOnce(t, p, "new three")
		p.Wait(t, atEnd)
		if !browsertest.MustEval[bool](t, p, pill+`.hidden`) {
			t.Error("the pill shows while the list is at its end")
		}
	})
}

// writePNG writes a small PNG image to a new file named name.
func writePNG(t *testing.T, name string) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for x := range 40 {
		for y := range 30 {
			img.Set(x, y, color.RGBA{R: uint8(x * 6), G: 90, B: uint8(y * 8), A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBrowserFiles: an image sent through the upload service (as a file,
// XEP-0066, which bob's archive keeps) is shown inline on both sides (loaded from the upload origin, which the page's
// policy allows as an image source), lazily, with a text alternative and
// a link that opens it; another file is a card with its name and a
// download link; a link to a page stays a link.
func TestBrowserFiles(t *testing.T) {
	t.Parallel()
	onViewports(t, func(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
		alice, bob := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
		tok := e.Login(t, alice.Name, alice.Password)
		if r := e.Do(t, "GET", rest+"/upload/probe.txt/1", tok, "", ""); r.Status != http.StatusOK {
			t.Fatalf("no upload slot: %d %s", r.Status, r.Body)
		}
		pa, pb := newPage(t, b, "alice-"+v.name), newPage(t, b, "bob-"+v.name)
		v.apply(t, pa)
		v.apply(t, pb)
		signIn(t, e, pa, alice.Name, alice.Password)
		signIn(t, e, pb, bob.Name, bob.Password)
		openChat(t, pa, bob.Name)

		// ejabberd 23.01's upload listener sometimes fails a GET of a file
		// another GET is reading ("Failed to read …: not_owner" in its log),
		// cutting the answer short: the browser says
		// ERR_CONTENT_LENGTH_MISMATCH. Seen once in a make test at load 16;
		// the image still has to show, which is checked below.
		for _, p := range []*browsertest.Page{pa, pb} {
			p.Allow(func(m chromedp.ConsoleMessage) bool {
				return strings.Contains(m.URL, "/upload/") && strings.Contains(m.Text, "ERR_CONTENT_LENGTH_MISMATCH")
			})
		}
		pa.Do(t, chromedp.SetUploadFiles(chromedp.ID("file-input"), []string{writePNG(t, "sunset.png")}))
		const img = `document.querySelector("#messages .file-image img")`
		loaded := `(` + img + ` || {}).complete && ` + img + `.naturalWidth === 40`
		pa.Wait(t, loaded)
		clickConv(t, pb, alice.JID)
		pb.Wait(t, loaded)
		for _, p := range []*browsertest.Page{pa, pb} {
			got := browsertest.MustEval[[]string](t, p, `[`+img+`.alt, `+img+`.loading, `+img+`.closest("a").target, String(`+img+`.closest("a").href === `+img+`.src)]`)
			if got[0] != "Image: sunset.png" || got[1] != "lazy" || got[2] != "_blank" || got[3] != "true" {
				t.Errorf("page %s: the image shows as alt %q, loading %q, link target %q, link to itself %s", p.Name, got[0], got[1], got[2], got[3])
			}
		}
		pb.Screenshot(t, filepath.Join(t.ArtifactDir(), "image-"+v.name+".png"))
		// Sent as a file (XEP-0066 out-of-band data), not as a bare link:
		// any other client of bob's sees an attachment.
		tb := e.Login(t, bob.Name, bob.Password)
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			r := e.Do(t, "GET", rest+"/chat/messages?before=&to="+alice.JID, tb, "", "")
			if r.Status == http.StatusOK && strings.Contains(string(r.Body), "jabber:x:oob") && strings.Contains(string(r.Body), "sunset.png") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("bob's archive holds no out-of-band file: %d %.600s", r.Status, r.Body)
			}
		}

		notes := filepath.Join(t.TempDir(), "meeting-notes.txt")
		if err := os.WriteFile(notes, []byte("notes\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		pa.Do(t, chromedp.SetUploadFiles(chromedp.ID("file-input"), []string{notes}))
		const card = `document.querySelector("#messages .file-card a")`
		pb.Wait(t, `!!`+card)
		if got := browsertest.MustEval[[]string](t, pb, `[`+card+`.textContent, `+card+`.getAttribute("download"), `+card+`.getAttribute("aria-label"), new URL(`+card+`.href).protocol]`); got[0] != "meeting-notes.txt" || got[1] != "meeting-notes.txt" || got[2] != "Download meeting-notes.txt" || got[3] != "http:" {
			t.Errorf("the file card shows %q", got)
		}

		// A link to a page is a link, with no card or image. (Its preview
		// is refused: a loopback address.)
		for _, p := range []*browsertest.Page{pa, pb} {
			p.Allow(func(m chromedp.ConsoleMessage) bool { return strings.Contains(m.URL, "/preview/") })
		}
		sayTo(t, e, tok, bob.Name, "http://127.0.0.1:9/about.html")
		waitShownOnce(t, pb, "http://127.0.0.1:9/about.html")
		if n := browsertest.MustEval[int](t, pb, `document.querySelectorAll("#messages .file-card").length + document.querySelectorAll("#messages .file-image").length`); n != 2 {
			t.Errorf("%d files shown, want the image and the card only", n)
		}

		// Styled text (XEP-0393) is drawn as elements, its markup as text.
		sayTo(t, e, tok, bob.Name, "*bold* _soft_ `code` <b>not html</b>\n> quoted")
		pb.Wait(t, `!!document.querySelector("#messages .msg strong")`)
		if got := browsertest.MustEval[[]string](t, pb, `(b => [b.querySelector("strong").textContent, b.querySelector("em").textContent,
			b.querySelector("code").textContent, b.querySelector("blockquote").textContent, String(!!b.querySelector("b"))])(document.querySelector("#messages .msg:last-child .body"))`); strings.Join(got, "|") != "*bold*|_soft_|`code`|> quoted|false" {
			t.Errorf("the styled message shows %q", got)
		}
		pb.Screenshot(t, filepath.Join(t.ArtifactDir(), "files-"+v.name+".png"))
	})
}

// divider is a JavaScript expression: the texts of the elements around
// the "New messages" divider, and how many dividers there are, as
// "before|after|count".
const divider = `(() => {
	const d = document.querySelectorAll("#messages .new-divider");
	if (d.length !== 1) return "||" + d.length;
	const text = (el) => el ? el.textContent : "";
	return text(d[0].previousElementSibling) + "|" + text(d[0].nextElementSibling) + "|1";
})()`

// dividerWhy is a JavaScript expression for a failed wait on the
// divider: the divider's expression, the list's elements in order, and
// what the model holds of the open conversation (its unread count and
// readMark, state.js, and each message's key, time and ids).
const dividerWhy = `(async () => {
	const s = await import("./state.js");
	const c = s.activeConv();
	return {
		divider: ` + divider + `,
		list: [...document.querySelectorAll("#messages > li")].map(li => li.className.split(" ")[0] + ":" + (li.querySelector(".body") || li).textContent),
		conv: c && {id: c.id, unread: c.unread, lastRead: c.lastRead, readMark: c.readMark,
			messages: c.messages.map(m => [m.key, m.body, m.ts, m.stamp || "", m.id || "", m.stanzaId || ""])},
		reads: [...s.model.reads],
	};
})()`

// TestBrowserNewMessagesDivider: bob opens his chat with alice, which has
// two unread messages: a "New messages" divider stands above the first.
// He reads them, goes to another chat, and alice writes three more: the
// chat list counts 3, and opening the chat shows one divider between what
// he read (the gateway's read position) and the first new message,
// announced once for screen readers ("3 new messages since you last
// read"); a message arriving while it is open is not announced as such
// again and moves no divider. Opened again with nothing unread, the chat
// has no divider.
func TestBrowserNewMessagesDivider(t *testing.T) {
	t.Parallel()
	onDesktop(t, func(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
		alice, bob, carol := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
		ta, tb := e.Login(t, alice.Name, alice.Password), e.Login(t, bob.Name, bob.Password)
		needs(t, e, tb, "GET", rest+"/chat/unread")
		p := newPage(t, b, "bob-"+v.name)
		v.apply(t, p)
		signIn(t, e, p, bob.Name, bob.Password)
		id := "chat:" + alice.JID
		const announced = `document.getElementById("msg-announce").textContent`

		sayTo(t, e, ta, bob.Name, "first unread")
		sayTo(t, e, ta, bob.Name, "second unread")
		p.Wait(t, unreadOf(id)+` === "2"`)
		clickConv(t, p, alice.JID)
		waitShownOnce(t, p, "second unread")
		p.WaitShowing(t, divider+`.endsWith("|1") && `+divider+`.split("|")[1].includes("first unread")`, dividerWhy)
		p.Wait(t, announced+`.includes("2 new messages since you last read.")`)
		p.Wait(t, unreadOf(id)+` === ""`)
		waitReadAtGateway(t, e, tb, alice.JID, "after bob opened the chat")

		leaveConversation(t, p, v, carol.Name)
		for _, text := range []string{"new one", "new two", "new three"} {
			sayTo(t, e, ta, bob.Name, text)
		}
		p.Wait(t, unreadOf(id)+` === "3"`)
		clickConv(t, p, alice.JID)
		waitShownOnce(t, p, "new three")
		p.WaitShowing(t, divider+`.endsWith("|1")`, dividerWhy)
		got := browsertest.MustEval[string](t, p, divider)
		if parts := strings.Split(got, "|"); !strings.Contains(parts[0], "second unread") || !strings.Contains(parts[1], "new one") {
			why, _ := browsertest.Eval[any](t, p, dividerWhy)
			t.Errorf("the divider stands between %q and %q, want after \"second unread\" and before \"new one\"; the page: %v", parts[0], parts[1], why)
		}
		p.Wait(t, announced+`.includes("3 new messages since you last read.")`)
		p.Axe(t, "conversation with new messages")
		p.Screenshot(t, filepath.Join(t.ArtifactDir(), "divider-"+v.name+".png"))

		// Once: a message while the chat is open is said as itself.
		sayTo(t, e, ta, bob.Name, "while open")
		waitShownOnce(t, p, "while open")
		p.Wait(t, announced+`.includes("while open")`)
		if a := browsertest.MustEval[string](t, p, announced); strings.Contains(a, "since you last read") {
			t.Errorf("announced again: %q", a)
		}
		if now := browsertest.MustEval[string](t, p, divider); now != got {
			t.Errorf("the divider moved: %q, was %q", now, got)
		}

		// Nothing unread: no divider. Left at once (the page marks what
		// it shows a moment after it changed, or as it is left: on a
		// loaded machine this test once left before that moment, and
		// the message stayed unread).
		leaveConversation(t, p, v, carol.Name)
		waitReadAtGateway(t, e, tb, alice.JID, "after bob left the chat that showed the message")
		p.Wait(t, unreadOf(id)+` === ""`)
		clickConv(t, p, alice.JID)
		waitShownOnce(t, p, "while open")
		stays(t, p, `!document.querySelector("#messages .new-divider")`, "a divider with nothing unread")
	})
}

// holdEvents makes p's event stream (GET /sparkweb/api/sse, read with
// fetch) hold back, from its next document on, each event whose text
// holds one of the strings until the page calls releaseEvents(string),
// and every event after it with it (the stream stays in order): a live
// copy of a message made slower than the archive's answers, as load
// makes it.
func holdEvents(t *testing.T, p *browsertest.Page, texts ...string) {
	t.Helper()
	quoted := make([]string, len(texts))
	for i, s := range texts {
		quoted[i] = js(s)
	}
	src := `(() => {
		const gates = new Map();
		for (const text of [` + strings.Join(quoted, ", ") + `]) {
			let open;
			gates.set(text, {held: new Promise((r) => { open = r; }), open});
		}
		window.releaseEvents = (text) => gates.get(text).open();
		const realFetch = globalThis.fetch;
		globalThis.fetch = async function (input, init) {
			const res = await realFetch.call(this, input, init);
			const url = typeof input === "string" ? input : input.url;
			if (!url.includes("/sparkweb/api/sse") || !res.body) return res;
			const dec = new TextDecoder(), enc = new TextEncoder();
			let buf = "";
			const body = res.body.pipeThrough(new TransformStream({
				async transform(chunk, out) {
					buf += dec.decode(chunk, {stream: true});
					let end;
					while ((end = buf.indexOf("\n\n")) >= 0) {
						const event = buf.slice(0, end + 2);
						buf = buf.slice(end + 2);
						for (const [text, g] of gates) if (event.includes(text)) await g.held;
						out.enqueue(enc.encode(event));
					}
				},
			}));
			return new Response(body, {status: res.status, statusText: res.statusText, headers: res.headers});
		};
	})()`
	onNewDocument(t, p, src)
}

// TestBrowserLiveAfterArchive: the live copy of a message can come later
// than the archive's answer holding the next one (the event stream is
// slower than a request under load). Alice writes two messages to bob;
// bob's stream holds them back until both are archived, then lets the
// first through: bob opens the chat, whose newest archive page brings the
// second, stamped before bob's tab saw the first. The two are shown in
// the order alice wrote them, each once, also when the second's live
// copy comes.
func TestBrowserLiveAfterArchive(t *testing.T) {
	t.Parallel()
	onViewports(t, func(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
		alice, bob := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
		ta, tb := e.Login(t, alice.Name, alice.Password), e.Login(t, bob.Name, bob.Password)
		p := newPage(t, b, "bob-"+v.name)
		holdEvents(t, p, "written first", "written second")
		v.apply(t, p)
		signIn(t, e, p, bob.Name, bob.Password)

		sayTo(t, e, ta, bob.Name, "written first")
		sayTo(t, e, ta, bob.Name, "written second")
		archivedAt(t, e, tb, alice.JID, "written second")
		browsertest.MustEval[bool](t, p, `(releaseEvents("written first"), true)`)
		p.Wait(t, `!!document.querySelector(`+js(convButton(alice.JID))+`)`)
		clickConv(t, p, alice.JID)
		// "written second" may be shown before the archive's page is in:
		// the sign-in's list of recent chats (restore.js) brings it, and
		// the live "written first" then stands after it, in arrival order,
		// until the page gives it its place.
		p.WaitShowing(t, bodies+`.join("|") === "written first|written second"`, bodies)
		browsertest.MustEval[bool](t, p, `(releaseEvents("written second"), true)`)
		sayTo(t, e, ta, bob.Name, "written third")
		waitShownOnce(t, p, "written third")
		if got := browsertest.MustEval[[]string](t, p, bodies); strings.Join(got, "|") != "written first|written second|written third" {
			t.Errorf("with the live copies in, the chat shows %q", got)
		}
	})
}

// waitReadAtGateway waits until the gateway counts nothing unread from
// peer for the user of tok, for at most 10 s.
func waitReadAtGateway(t *testing.T, e *gatewayenv.Env, tok, peer, when string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); unreadCounts(t, e, tok)[peer] != 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the gateway still counts unread messages %s", when)
		}
	}
}
