package web_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sparkgate/sparkgate/internal/browsertest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
)

// delayAnswers makes the page answer other tabs' questions for its tokens
// ms late, as a busy machine or a throttled background tab would (the
// answer is the hand-off of api.js's askOpenTabs).
func delayAnswers(t *testing.T, p *browsertest.Page, ms int) {
	t.Helper()
	browsertest.MustEval[bool](t, p, `(() => {
		const post = BroadcastChannel.prototype.postMessage;
		BroadcastChannel.prototype.postMessage = function (m) {
			if (m && m.answer) setTimeout(() => post.call(this, m), `+fmt.Sprint(ms)+`);
			else post.call(this, m);
		};
		return true;
	})()`)
}

// tabAt opens the client in a new tab of p's browser (its storage shared)
// at the viewport v, the console texts allow expected in it, and waits
// for nothing.
func tabAt(t *testing.T, e *gatewayenv.Env, p *browsertest.Page, name string, v viewport, allow ...string) *browsertest.Page {
	t.Helper()
	tab := p.NewTab(t, name)
	allowUnimplemented(tab)
	tab.AllowText(allow...)
	v.apply(t, tab)
	tab.Do(t, chromedp.Navigate(e.URL+"/"))
	return tab
}

// TestBrowserLateHandOff: a new tab of a browser signed in without "stay
// signed in" is signed in by the open tab, even when that tab answers
// after the new one has shown the sign-in form (TestBrowserChat's second
// tab met this on a loaded machine: it stayed at the form). The late
// answer does not take over a form someone has begun to fill in. At the desktop's size only: the steps do not depend on the layout.
func TestBrowserLateHandOff(t *testing.T) {
	t.Parallel()
	onDesktop(t, func(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
		alice := ejabberdtest.NewUser(t)
		one := newPage(t, b, "alice-one-"+v.name)
		v.apply(t, one)
		signInWith(t, e, one, alice.Name, alice.Password, false)
		delayAnswers(t, one, 1500)

		two := tabAt(t, e, one, "alice-two-"+v.name, v)
		// The answer comes 1.25 s after the tab gave up waiting and showed
		// the form.
		two.Wait(t, `document.body.dataset.screen === "app" && document.body.dataset.conn === "connected"`)
		if got := browsertest.MustEval[string](t, two, `document.getElementById("me-name").textContent`); !strings.Contains(strings.ToLower(got), strings.ToLower(alice.Name)) {
			t.Errorf("the second tab is signed in as %q", got)
		}

		// Someone begins to sign in by hand before the answer comes: the
		// form stays theirs.
		delayAnswers(t, one, 3000) // on top of the 1.5 s: 4.5 s late
		delayAnswers(t, two, 4500) // the second tab answers too now
		three := tabAt(t, e, one, "alice-three-"+v.name, v)
		three.Wait(t, `document.body.dataset.screen === "auth"`)
		three.Do(t, chromedp.SetValue(chromedp.ID("login-user"), "someone"))
		three.Do(t, chromedp.Sleep(6*time.Second)) // the answer has come by now
		if s := browsertest.MustEval[string](t, three, `document.body.dataset.screen + " " + document.getElementById("login-user").value`); s != "auth someone" {
			t.Errorf("a late answer took over a form being filled in: %q", s)
		}
	})
}
