package gateway_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// TestIntegrationPushUnreadWithTabOpen: a tab left open no longer keeps
// every push from the phone. b has a tab open that shows nothing (it
// never marks a message read) and a phone subscribed. A burst of a's
// messages is one push, of the newest, UnreadAfter after the first; a
// message b reads in time (a displayed marker from any tab) is not
// pushed; in a room, a mention of b's nick left unread is pushed, a
// message that does not name b is not.
func TestIntegrationPushUnreadWithTabOpen(t *testing.T) {
	t.Parallel()
	const after = 2 * time.Second // room for a read at load before the check
	p := newPushGatewayWith(t, func(c *gateway.Config) { c.Push.UnreadAfter = after })
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tb := p.Login(t, a.Name, a.Password), p.Login(t, b.Name, b.Password)
	p.subscribe(t, tb, "phone")
	tab := p.OpenConnected(t, tb, "")
	say := func(to, body string) {
		t.Helper()
		if r := p.Do(t, "POST", api+to, ta, "text/plain", body); r.Status != 200 {
			t.Fatalf("send to %s: %d %s", to, r.Status, r.Body)
		}
	}
	// chatOnTab waits for a's message with body on b's tab.
	chatOnTab := func(body string) chatapi.Chat {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; {
			var c chatapi.Chat
			tab.NextNamed(t, chatapi.EventChat, time.Until(deadline), &c)
			if c.Body == body {
				return c
			}
		}
	}

	start := time.Now()
	say("/chat/message/"+b.Name, "are you there?")
	say("/chat/message/"+b.Name, "hello?")
	chatOnTab("hello?")
	_, n, data := p.next(t)
	if waited := time.Since(start); waited < after {
		t.Errorf("pushed %v after the first message, before %v", waited, after)
	}
	if n.Body != "hello?" || n.Subject != a.JID || data["type"] != "chat" {
		t.Fatalf("notification %+v %v, want the newest message of a", n, data)
	}
	p.svc.None(t, 2*after) // one push for the burst

	// Read in time on the tab: no push.
	say("/chat/message/"+b.Name, "read this one")
	c := chatOnTab("read this one")
	if r := p.Do(t, "POST", api+"/chat/displayed/"+a.Name+"?id="+c.ID, tb, "", ""); r.Status != 200 {
		t.Fatalf("displayed: %d %s", r.Status, r.Body)
	}
	p.svc.None(t, 2*after)

	// A room: a mention left unread is pushed, other talk is not.
	room := "later" + strings.ToLower(a.Name[1:9])
	for _, j := range []struct{ tok, nick string }{{ta, "ann"}, {tb, "ben"}} {
		if r := p.Do(t, "PUT", api+"/groupchat/room/"+room+"?nick="+j.nick, j.tok, "", ""); r.Status != 200 {
			t.Fatalf("join: %d %s", r.Status, r.Body)
		}
	}
	say("/groupchat/room/"+room, "lunch, anyone?")
	p.svc.None(t, 2*after)
	say("/groupchat/room/"+room, "ben, lunch?")
	_, n, data = p.next(t)
	if n.Body != "ben, lunch?" || n.Subject != "ann in "+room || data["type"] != "groupchat" {
		t.Fatalf("room notification %+v %v, want ann's mention of ben", n, data)
	}
}
