package web_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/sparkgate/sparkgate/internal/browsertest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
)

// The message list's day separators (issue 25) with real messages. The
// archive's time stamps are ejabberd's, so a message written in a test is
// always today's; the page's clock is moved on instead, days after the
// messages, and the same archive shows them under "Yesterday", a weekday
// and a date.

// shiftClock makes p's clock, from its next document on, read noon of the
// day days after at (in the browser's time zone), running on from there.
// Only Date moves (a script that runs before the page's own, through the
// DevTools protocol, which the page's script policy does not cover):
// timers and performance.now keep the real time, so the client's timers
// work as ever.
func shiftClock(t *testing.T, p *browsertest.Page, at time.Time, days int) {
	t.Helper()
	src := fmt.Sprintf(`(() => {
		const Real = Date;
		const noon = new Real(%d);
		noon.setDate(noon.getDate() + %d);
		noon.setHours(12, 0, 0, 0);
		const shift = noon.getTime() - Real.now();
		function Shifted(...args) {
			if (!new.target) return new Real(Real.now() + shift).toString();
			return Reflect.construct(Real, args.length ? args : [Real.now() + shift], new.target);
		}
		Shifted.prototype = Real.prototype;
		Object.setPrototypeOf(Shifted, Real);
		Shifted.now = () => Real.now() + shift;
		globalThis.Date = Shifted;
	})()`, at.UnixMilli(), days)
	onNewDocument(t, p, src)
}

// onNewDocument makes p run the script src in each of its next documents
// before the page's own scripts.
func onNewDocument(t *testing.T, p *browsertest.Page, src string) {
	t.Helper()
	p.Do(t, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: src})
		return err
	}))
}

// archivedAt is the time the archive of the user with tok gives the
// message text it holds in the conversation with peer.
func archivedAt(t *testing.T, e *gatewayenv.Env, tok, peer, text string) time.Time {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		r := e.Do(t, "GET", rest+"/chat/messages?before=&to="+peer, tok, "", "")
		if r.Status != http.StatusOK {
			t.Fatalf("GET /chat/messages: %d %s", r.Status, r.Body)
		}
		var page struct {
			Conversations []struct {
				Messages []struct {
					Body     string    `json:"body"`
					SentDate time.Time `json:"sentDate"`
				} `json:"messages"`
			} `json:"conversations"`
		}
		r.JSON(t, &page)
		for _, c := range page.Conversations {
			for _, m := range c.Messages {
				if m.Body == text {
					return m.SentDate
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the archive holds no %q: %.600s", text, r.Body)
		}
	}
}

// historyLoaded waits until the open conversation's archive page is in
// (state.js: its history asked for, complete, none loading).
func historyLoaded(t *testing.T, p *browsertest.Page) {
	t.Helper()
	const loaded = `(async () => {
		const c = (await import("./state.js")).activeConv();
		return !!c && !!c.history && !!c.complete && !c.loading;
	})()`
	for deadline := time.Now().Add(browsertest.DefaultTimeout); !browsertest.MustEval[bool](t, p, loaded); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("page %s: the open conversation's archive page did not come", p.Name)
		}
	}
}

// underDays is a JavaScript expression: each message of the open
// conversation as "day label|body", in the list's order.
const underDays = `(() => {
	let day = "";
	const out = [];
	for (const li of document.querySelectorAll("#messages > li")) {
		if (li.classList.contains("day")) day = li.textContent;
		else if (li.classList.contains("msg")) out.push(day + "|" + li.querySelector(".body").textContent);
	}
	return out;
})()`

// TestBrowserDaySeparators: bob opens, on a new device each time, a chat
// whose messages alice wrote days before by the page's clock: one day
// (Yesterday), three days (the weekday's name) and ten days (the date).
// The Chats list gives the same day for the last message, the day's
// separator stands above the archived messages, and a message alice
// writes while the chat is open comes under a separator of its own,
// Today. At the phone's size only: the steps do not depend on the layout.
func TestBrowserDaySeparators(t *testing.T) {
	t.Parallel()
	onPhone(t, func(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
		alice, bob := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
		ta := e.Login(t, alice.Name, alice.Password)
		archived := []string{"written on the first day", "and a moment later"}
		for _, text := range archived {
			sayTo(t, e, ta, bob.Name, text)
		}
		at := archivedAt(t, e, ta, bob.JID, archived[len(archived)-1])
		// What the client should name the day and the list's time, as
		// JavaScript expressions formatting the archived time as the
		// page's locale and time zone do.
		when := fmt.Sprintf("new Date(%d)", at.UnixMilli())
		sameYear := at.Local().Year() == at.Local().AddDate(0, 0, 10).Year()
		dateOpts := `{weekday: "short", day: "numeric", month: "short"}`
		if !sameYear {
			dateOpts = `{day: "numeric", month: "short", year: "numeric"}`
		}
		for _, d := range []struct {
			days        int
			label, list string // JavaScript expressions
		}{
			{1, `"Yesterday"`, `"Yesterday"`},
			{3, when + `.toLocaleDateString([], {weekday: "long"})`, when + `.toLocaleDateString([], {weekday: "short"})`},
			{10, when + `.toLocaleDateString([], ` + dateOpts + `)`, when + `.toLocaleDateString([], {day: "numeric", month: "short"})`},
		} {
			p := newPage(t, b, fmt.Sprintf("bob-%s-%dd", v.name, d.days))
			shiftClock(t, p, at, d.days)
			v.apply(t, p)
			signIn(t, e, p, bob.Name, bob.Password)
			label := browsertest.MustEval[string](t, p, d.label)
			if d.days > 1 && (label == "Today" || label == "Yesterday") {
				t.Fatalf("%d days on, the label to expect is %q", d.days, label)
			}

			// The Chats list, restored from the archive on this new device.
			whenShown := `((document.querySelector(` + js(convButton(alice.JID)+" .when") + `) || {}).textContent || "")`
			p.WaitShowing(t, whenShown+` === `+d.list, whenShown)

			clickConv(t, p, alice.JID)
			p.Wait(t, `document.querySelectorAll("#messages .msg").length === `+fmt.Sprint(len(archived)))
			// The messages can be in from the sign-in's recent chats
			// before the conversation's own archive page is: answered
			// after the live message below is archived, that page gave
			// it the server's time stamp (state.js retime), a day before
			// this page's shifted clock, and it stood under Yesterday.
			historyLoaded(t, p)
			var want []string
			for _, text := range archived {
				want = append(want, label+"|"+text)
			}
			live := fmt.Sprintf("written on day %d", d.days)
			sayTo(t, e, ta, bob.Name, live)
			waitShownOnce(t, p, live)
			want = append(want, "Today|"+live)
			got := browsertest.MustEval[[]string](t, p, underDays)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("%d days on, the messages under their days:\n%s\nwant\n%s", d.days, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if n := browsertest.MustEval[int](t, p, `document.querySelectorAll("#messages > li.day").length`); n != 2 {
				t.Errorf("%d days on, %d day separators, want 2", d.days, n)
			}
			p.Screenshot(t, filepath.Join(t.ArtifactDir(), fmt.Sprintf("days-%d-%s.png", d.days, v.name)))
			// This page's live message is archived: the next device shows
			// it among the earlier ones.
			archived = append(archived, live)
		}
	})
}
