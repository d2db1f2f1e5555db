package web_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sparkgate/sparkgate/internal/browsertest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
)

// TestBrowserRoomJoinRefused: alice's room asks for a password; bob tries
// to join it from his page without one. The page says so in words (no
// server text), and no room is left behind in his rooms or chats, nor
// after a reload (the failed join is not bookmarked). At both viewports.
func TestBrowserRoomJoinRefused(t *testing.T) {
	t.Parallel()
	onViewports(t, func(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
		alice, bob := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
		ta := e.Login(t, alice.Name, alice.Password)
		r := e.Do(t, "GET", rest+"/config/global", ta, "", "")
		var cfg struct {
			MUCService string `json:"mucService"`
		}
		if err := json.Unmarshal(r.Body, &cfg); r.Status != 200 || err != nil || cfg.MUCService == "" {
			t.Fatalf("no group chat service: %d %s", r.Status, r.Body)
		}
		room := "locked" + strings.ToLower(alice.Name)
		q := url.Values{"serviceName": {cfg.MUCService}, "nick": {"alice"}, "roomPassword": {"sesame"}}
		if r := e.Do(t, "PUT", rest+"/groupchat/room/"+room+"?"+q.Encode(), ta, "", ""); r.Status != 200 {
			t.Fatalf("alice creates the room: %d %s", r.Status, r.Body)
		}

		p := newPage(t, b, "bob-"+v.name)
		v.apply(t, p)
		p.AllowText("status of 401", "status of 403", "status of 409")
		signIn(t, e, p, bob.Name, bob.Password)
		p.Do(t,
			chromedp.SetValue(chromedp.ID("room-input"), room),
			chromedp.Click(chromedp.CSS("#room-form button[type=submit]")),
		)
		p.Wait(t, `document.getElementById("notice").textContent !== ""`)
		said := browsertest.MustEval[string](t, p, `document.getElementById("notice").textContent`)
		for _, raw := range []string{"not-authorized", "forbidden", "XMPP", "status"} {
			if strings.Contains(said, raw) {
				t.Errorf("the notice %q shows %q", said, raw)
			}
		}
		ghost := `!!document.querySelector('[data-conv^="room:` + room + `@"]')`
		stays(t, p, `!`+ghost, "a room whose join failed is listed")
		p.Do(t, chromedp.Reload())
		p.Wait(t, `document.body.dataset.conn === "connected"`)
		stays(t, p, `!`+ghost, "a room whose join failed is listed after a reload")
	})
}
