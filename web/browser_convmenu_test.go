package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/sparkgate/sparkgate/internal/browsertest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
)

// TestBrowserConvMenu: on a wide screen the open conversation's actions sit
// in its header and there is no "More"; on a phone the header keeps one row
// of controls: the actions are behind "More", a disclosure that opens on a
// click, closes on Escape (the focus back on "More"), on a click elsewhere
// and on an action, which then runs (the contact is added).
func TestBrowserConvMenu(t *testing.T) {
	t.Parallel()
	onViewports(t, func(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
		alice, bob := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
		p := newPage(t, b, "alice-"+v.name)
		v.apply(t, p)
		signIn(t, e, p, alice.Name, alice.Password)
		openChat(t, p, bob.Name)
		p.Wait(t, `!document.getElementById("contact-add").hidden`)
		shown := func(id string) string {
			return `getComputedStyle(document.getElementById("` + id + `")).display !== "none"`
		}
		if v.name == "desktop" {
			if browsertest.MustEval[bool](t, p, shown("conv-more")) {
				t.Error(`a wide screen shows "More"`)
			}
			if !browsertest.MustEval[bool](t, p, shown("contact-add")) {
				t.Error("a wide screen hides the actions")
			}
			return
		}
		if browsertest.MustEval[bool](t, p, shown("conv-actions")) {
			t.Error("the phone shows the actions in the header")
		}
		// One row: "More" sits beside the title, not under it.
		if !browsertest.MustEval[bool](t, p, `(t => Math.abs(t.top - document.getElementById("conv-more").getBoundingClientRect().top) < 24)(document.getElementById("conv-title").getBoundingClientRect())`) {
			t.Errorf(`"More" is not on the title's row: %s`, browsertest.MustEval[string](t, p, `[...document.querySelector(".conv-head").children].map(c => c.id + ":" + getComputedStyle(c).display + ":" + Math.round(c.getBoundingClientRect().top) + "/" + Math.round(c.getBoundingClientRect().left) + "/" + Math.round(c.getBoundingClientRect().width)).join(" ")`))
		}
		p.Do(t, chromedp.Click(chromedp.ID("conv-more")))
		p.Wait(t, shown("conv-actions")+` && document.getElementById("conv-more").getAttribute("aria-expanded") === "true"`)
		p.Axe(t, "the conversation's actions open on a phone")
		p.Do(t, chromedp.KeyEvent(kb.Escape))
		p.Wait(t, `!(`+shown("conv-actions")+`) && document.activeElement.id === "conv-more" && document.getElementById("conv-more").getAttribute("aria-expanded") === "false"`)

		p.Do(t, chromedp.Click(chromedp.ID("conv-more")))
		p.Wait(t, shown("conv-actions"))
		p.Do(t, chromedp.Click(chromedp.ID("messages")))
		p.Wait(t, `!(`+shown("conv-actions")+`)`)

		clickAction(t, p, "contact-add")
		p.Wait(t, `!(`+shown("conv-actions")+`) && document.getElementById("contact-add").hidden`)
	})
}
