package gateway_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// noChatFrom fails the test when st delivers a chat message from the bare
// JID from within d.
func noChatFrom(t *testing.T, st *gatewaytest.Stream, from string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for left := d; left > 0; left = time.Until(deadline) {
		ev, err := st.TryNext(left)
		if err != nil {
			return // nothing more within d
		}
		if ev.Name == chatapi.EventChat && strings.Contains(ev.Data, `"from":"`+from) && strings.Contains(ev.Data, `"body"`) {
			t.Fatalf("a blocked sender's message arrived: %s", ev.Data)
		}
	}
}

// TestIntegrationBlocklist: a blocks b (a plain XMPP client) through the
// API: both of a's tabs hear of it, the blocklist names b, and b's
// message never reaches a's stream; unblocked, b's next message does. A
// block made by another client of a's account reaches the tabs too.
func TestIntegrationBlocklist(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	srv := ejabberdtest.Shared(t)
	a, b, c := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta := e.Login(t, a.Name, a.Password)
	tab1 := e.OpenConnected(t, ta, "")
	tab2 := e.OpenConnected(t, ta, "")
	bc := availableClient(t, srv, b)

	list := func(t *testing.T) []string {
		t.Helper()
		r := e.Do(t, "GET", api+"/blocklist", ta, "", "")
		if r.Status != 200 {
			t.Fatalf("blocklist: %d %s", r.Status, r.Body)
		}
		var out struct {
			JIDs []string `json:"jids"`
		}
		r.JSON(t, &out)
		if out.JIDs == nil {
			t.Fatalf("blocklist %s: jids is null", r.Body)
		}
		slices.Sort(out.JIDs)
		return out.JIDs
	}
	call := func(t *testing.T, method, jid string, want int) {
		t.Helper()
		if r := e.Do(t, method, api+"/blocklist/"+jid, ta, "", ""); r.Status != want {
			t.Fatalf("%s /blocklist/%s = %d %s, want %d", method, jid, r.Status, r.Body, want)
		}
	}
	// pushed waits on every tab for the chatapi.blocklist event want
	// (skipping others: ejabberd pushes an unblock of an address that was
	// not blocked, too).
	pushed := func(t *testing.T, want chatapi.Blocklist) {
		t.Helper()
		for _, tab := range []*gatewaytest.Stream{tab1, tab2} {
			deadline := time.Now().Add(10 * time.Second)
			for {
				var got chatapi.Blocklist
				tab.NextNamed(t, chatapi.EventBlocklist, time.Until(deadline), &got)
				if got.Action == want.Action && slices.Equal(got.JIDs, want.JIDs) {
					break
				}
			}
		}
	}
	say := func(t *testing.T, text string) {
		t.Helper()
		if err := bc.SendRaw(t.Context(), []byte(`<message type='chat' to='`+a.JID+`'><body>`+text+`</body></message>`)); err != nil {
			t.Fatal(err)
		}
	}

	if got := list(t); len(got) != 0 {
		t.Fatalf("a new user's blocklist: %v", got)
	}
	call(t, "PUT", a.JID, 400)    // oneself
	call(t, "PUT", "a@b@c", 400)  // not a JID
	call(t, "DELETE", b.JID, 200) // not blocked: no error

	call(t, "PUT", b.Name, 200) // a username means the local account
	pushed(t, chatapi.Blocklist{Action: chatapi.BlocklistBlock, JIDs: []string{b.JID}})
	if got := list(t); !slices.Equal(got, []string{b.JID}) {
		t.Fatalf("blocklist after blocking b: %v", got)
	}
	say(t, "while blocked")
	noChatFrom(t, tab1, b.JID, 3*time.Second)

	call(t, "DELETE", b.JID, 200)
	pushed(t, chatapi.Blocklist{Action: chatapi.BlocklistUnblock, JIDs: []string{b.JID}})
	if got := list(t); len(got) != 0 {
		t.Fatalf("blocklist after unblocking b: %v", got)
	}
	say(t, "after unblock")
	deadline := time.Now().Add(10 * time.Second)
	for {
		var m chatapi.Chat
		tab1.NextNamed(t, chatapi.EventChat, time.Until(deadline), &m)
		if m.Body == "while blocked" {
			t.Fatal("the message sent while blocked arrived after all")
		}
		if m.Body == "after unblock" {
			break
		}
	}

	// Another client of a's account blocks c: the server's push reaches
	// the gateway's session and so every tab.
	other := availableClient(t, srv, a)
	rawIQ(t, other, "set", "", `<block xmlns='urn:xmpp:blocking'><item jid='`+c.JID+`'/></block>`)
	pushed(t, chatapi.Blocklist{Action: chatapi.BlocklistBlock, JIDs: []string{c.JID}})
	if got := list(t); !slices.Equal(got, []string{c.JID}) {
		t.Fatalf("blocklist after another client blocked c: %v", got)
	}
}
