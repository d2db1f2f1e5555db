package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/sparkgate/sparkgate/internal/browsertest"
)

// TestBrowserRefreshLostAnswer: access tokens live 6 s. The answer to the
// tab's first refresh is lost on the way back (the gateway spent the
// refresh token and answered; the browser sees a reset connection), as on
// a phone that drops its network mid-request. The tab still holds the
// spent refresh token and tries again: the gateway takes it for a retry
// and answers a new pair, so the person stays signed in and still receives
// (before the retry window, the retry revoked the family and the tab fell
// back to the sign-in page). The lost pair's refresh token, shown later,
// is reuse: the family is revoked and the tab signs out. One viewport: the
// journey has no layout of its own. Not parallel (see shortLived).
func TestBrowserRefreshLostAnswer(t *testing.T) {
	e, b, alice, bob := shortLived(t)
	p := newPage(t, b, "alice")
	p.AllowText("ERR_CONNECTION_RESET", "Failed to fetch", "status of 401")
	lost := dropFirstRefresh(t, p)

	signInWith(t, e, p, alice.Name, alice.Password, false)
	watchSignIn(t, p)
	first := browsertest.MustEval[string](t, p, kept("sessionStorage"))

	// The first refresh is answered and the answer dropped; the tab
	// retries (its timer, or its stream ended by the expiry) and keeps a
	// new refresh token.
	var lostToken string
	select {
	case lostToken = <-lost:
	case <-time.After(browsertest.DefaultTimeout):
		t.Fatal("the tab did not refresh")
	}
	p.WaitFor(t, kept("sessionStorage")+` !== `+js(first)+` && `+kept("sessionStorage")+` !== ""`, 3*life)
	if got := browsertest.MustEval[string](t, p, kept("sessionStorage")); got == lostToken {
		t.Fatal("the tab holds the lost answer's refresh token")
	}
	p.Wait(t, `document.body.dataset.screen === "app" && document.body.dataset.conn === "connected"`)

	// Past the first token's expiry the tab still receives.
	p.Do(t, chromedp.Sleep(life))
	sayTo(t, e, e.Login(t, bob.Name, bob.Password), alice.Name, "after the lost answer")
	p.Wait(t, `!!document.querySelector(`+js(convButton(bob.JID))+`)`)
	clickConv(t, p, bob.JID)
	waitShownOnce(t, p, "after the lost answer")
	if browsertest.MustEval[bool](t, p, `window.sawSignIn`) {
		t.Fatal("the tab showed the sign-in page after its refresh answer was lost")
	}

	// Someone else shows the lost pair's refresh token: reuse. The family
	// is revoked, and the tab, its stream ended, signs out.
	body, err := json.Marshal(map[string]string{"refreshToken": lostToken})
	if err != nil {
		t.Fatal(err)
	}
	if r := e.Do(t, "POST", rest+"/token/refresh", "", "application/json", string(body)); r.Status != http.StatusUnauthorized {
		t.Fatalf("the lost pair's refresh token: %d %s, want 401", r.Status, r.Body)
	}
	p.Wait(t, `document.body.dataset.screen === "auth"`)
}

// dropFirstRefresh makes the first answer to a refresh that p's page gets
// fail as a reset connection, after the gateway answered it, and sends
// that answer's refresh token on the channel it returns; later refreshes
// pass.
func dropFirstRefresh(t *testing.T, p *browsertest.Page) <-chan string {
	t.Helper()
	ctx, cancel := context.WithCancel(p.Ctx)
	paused := chromedp.Events(ctx, fetch.RequestPaused)
	pattern := []*fetch.RequestPattern{{URLPattern: "*/token/refresh", RequestStage: fetch.RequestStageResponse}}
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: pattern}); err != nil {
		cancel()
		t.Fatal(err)
	}
	lost := make(chan string, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		dropped := false
		for ev, err := range paused {
			if err != nil {
				return // the page or the test ended
			}
			if dropped || ev.ResponseStatusCode != http.StatusOK {
				if _, err := chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID}); err != nil && ctx.Err() == nil {
					t.Errorf("continue a refresh: %v", err)
				}
				continue
			}
			dropped = true
			res, err := chromedp.Call(ctx, fetch.GetResponseBody, fetch.GetResponseBodyParams{RequestID: ev.RequestID})
			var answer struct {
				RefreshToken string `json:"refreshToken"`
			}
			if err == nil {
				err = json.Unmarshal(res.Body, &answer)
			}
			if err != nil || answer.RefreshToken == "" {
				t.Errorf("the first refresh's answer: %v (%d bytes)", err, len(res.Body))
			}
			lost <- answer.RefreshToken
			if _, err := chromedp.Call(ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonConnectionReset}); err != nil {
				t.Errorf("drop the first refresh's answer: %v", err)
			}
		}
	})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return lost
}
