package gateway_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// TestIntegrationCorrectRetractReact: a message answered, corrected,
// reacted to and retracted through the API reaches the receiver's stream as
// typed events naming the message (XEP-0461, XEP-0308, XEP-0444,
// XEP-0424), and the sender's
// other tab the same, marked sent; never as a second message or a
// fallback text.
func TestIntegrationCorrectRetractReact(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tb := e.Login(t, a.Name, a.Password), e.Login(t, b.Name, b.Password)
	otherTab := e.OpenConnected(t, ta, "")
	streamB := e.OpenConnected(t, tb, "")
	idOf := func(method, path, ct, body string) string {
		t.Helper()
		r := e.Do(t, method, api+path, ta, ct, body)
		if r.Status != 200 {
			t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Body)
		}
		var sent struct {
			ID string `json:"id"`
		}
		r.JSON(t, &sent)
		return sent.ID
	}
	first := idOf("POST", "/chat/message/"+b.Name, "text/plain", "helo")
	chatOn := func(name string, want func(chatapi.Chat) bool) chatapi.Chat {
		t.Helper()
		s := streamB
		if name == "tab" {
			s = otherTab
		}
		for {
			var c chatapi.Chat
			s.NextNamed(t, chatapi.EventChat, 10*time.Second, &c)
			if c.Type == chatapi.TypeChat && want(c) {
				return c
			}
		}
	}
	chatOn("b", func(c chatapi.Chat) bool { return c.ID == first })

	answer := idOf("POST", "/chat/message/"+b.Name+"?replyTo="+first, "text/plain", "an answer")
	if c := chatOn("b", func(c chatapi.Chat) bool { return c.ID == answer }); c.ReplyTo != first || c.Body != "an answer" {
		t.Fatalf("reply arrived as %+v", c)
	}
	fix := idOf("PUT", "/chat/message/"+b.Name+"/"+first, "text/plain", "hello")
	if c := chatOn("b", func(c chatapi.Chat) bool { return c.ID == fix }); c.Replace != first || c.Body != "hello" {
		t.Fatalf("correction arrived as %+v", c)
	}
	if c := chatOn("tab", func(c chatapi.Chat) bool { return c.ID == fix }); !c.Sent || c.Replace != first {
		t.Fatalf("the other tab got %+v", c)
	}

	idOf("PUT", "/chat/reactions/"+b.Name+"/"+first, "application/json", `["👍","🎉"]`)
	var r chatapi.Reactions
	streamB.NextNamed(t, chatapi.EventReaction, 10*time.Second, &r)
	if r.ID != first || strings.Join(r.Reactions, "") != "👍🎉" || !strings.HasPrefix(r.From, a.JID) {
		t.Fatalf("reactions arrived as %+v", r)
	}

	gone := idOf("DELETE", "/chat/message/"+b.Name+"/"+first, "", "")
	if c := chatOn("b", func(c chatapi.Chat) bool { return c.ID == gone }); c.Retract != first || c.Body != "" {
		t.Fatalf("retraction arrived as %+v", c)
	}

	for _, bad := range []struct{ method, path, ct, body string }{
		{"PUT", "/chat/reactions/" + b.Name + "/" + first, "application/json", `"👍"`},
		{"PUT", "/chat/reactions/" + b.Name + "/" + first, "application/json", `["` + strings.Repeat("x", 65) + `"]`},
		{"PUT", "/chat/message/" + b.Name + "/" + first, "text/plain", ""},
	} {
		if r := e.Do(t, bad.method, api+bad.path, ta, bad.ct, bad.body); r.Status != 400 {
			t.Errorf("%s %s %q: %d %s, want 400", bad.method, bad.path, bad.body, r.Status, r.Body)
		}
	}
}
