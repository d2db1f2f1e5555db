package gateway_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/unread"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// TestIntegrationUnread: the gateway keeps a's unread count per
// conversation, the same on two tabs: messages from b count; a read on
// one tab (POST /chat/displayed) clears it on both, and so does a
// displayed marker a sends from a second, plain XMPP client (it comes
// back through carbons). A room counts the others' messages, not a's.
func TestIntegrationUnread(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	srv := ejabberdtest.Shared(t)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tb := e.Login(t, a.Name, a.Password), e.Login(t, b.Name, b.Password)
	tab1, tab2 := e.OpenConnected(t, ta, ""), e.OpenConnected(t, ta, "")
	e.OpenConnected(t, tb, "")

	// both waits until each tab is told jid's state is count, lastRead.
	both := func(jid string, count int, lastRead string) {
		t.Helper()
		for _, s := range []*gatewaytest.Stream{tab1, tab2} {
			for {
				var u chatapi.Unread
				s.NextNamed(t, chatapi.EventUnread, 10*time.Second, &u)
				if u.JID == jid && u.Count == count && u.LastRead == lastRead {
					break
				}
			}
		}
	}
	send := func(tok, to, body string) string {
		t.Helper()
		r := e.Do(t, "POST", api+"/chat/message/"+to, tok, "text/plain", body)
		if r.Status != 200 {
			t.Fatalf("send: %d %s", r.Status, r.Body)
		}
		var sent struct {
			ID string `json:"id"`
		}
		r.JSON(t, &sent)
		return sent.ID
	}
	list := func() []gatewaytestUnread {
		t.Helper()
		r := e.Do(t, "GET", api+"/chat/unread", ta, "", "")
		if r.Status != 200 {
			t.Fatalf("GET unread: %d %s", r.Status, r.Body)
		}
		var out []gatewaytestUnread
		r.JSON(t, &out)
		return out
	}

	send(tb, a.Name, "one")
	both(b.JID, 1, "")
	second := send(tb, a.Name, "two")
	both(b.JID, 2, "")
	send(ta, b.Name, "a's own message does not count")
	if got := list(); len(got) != 1 || got[0].JID != b.JID || got[0].Count != 2 || got[0].Room {
		t.Fatalf("GET unread = %+v; want b with 2", got)
	}

	// Read on tab 1: both tabs are told, and the list agrees.
	if r := e.Do(t, "POST", api+"/chat/displayed/"+b.Name+"?id="+url.QueryEscape(second), ta, "", ""); r.Status != 200 {
		t.Fatalf("displayed: %d %s", r.Status, r.Body)
	}
	both(b.JID, 0, second)
	if got := list(); len(got) != 1 || got[0].Count != 0 || got[0].LastRead != second {
		t.Fatalf("GET unread after the read = %+v", got)
	}

	// Read on another XMPP client of a's account.
	third := send(tb, a.Name, "three")
	both(b.JID, 1, second) // the last read id stays until the next read
	other, err := xmppconn.Dial(t.Context(), xmppconn.Config{Addr: srv.C2SAddr(), Domain: a.Domain, User: a.Name, Password: a.Password, TLS: xmppconn.TLSOff})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(t.Context())
	marker := `<message type='chat' to='` + b.JID + `' id='mk1'><displayed xmlns='urn:xmpp:chat-markers:0' id='` + third + `'/></message>`
	if err := other.SendRaw(t.Context(), []byte(marker)); err != nil {
		t.Fatal(err)
	}
	both(b.JID, 0, third)

	// A room: b's message counts, a's own does not; a read clears it
	// without a marker to the room.
	room := "u" + strings.ToLower(a.Name[1:9])
	roomJID := room + "@" + srv.MUCService()
	rp := api + "/groupchat/room/" + room
	for _, j := range []struct{ tok, nick string }{{ta, "alice"}, {tb, "bob"}} {
		if r := e.Do(t, "PUT", rp+"?nick="+j.nick, j.tok, "", ""); r.Status != 200 {
			t.Fatalf("join: %d %s", r.Status, r.Body)
		}
	}
	for _, p := range []struct{ tok, body string }{{ta, "mine"}, {tb, "theirs"}} {
		if r := e.Do(t, "POST", rp, p.tok, "text/plain", p.body); r.Status != 200 {
			t.Fatalf("post: %d %s", r.Status, r.Body)
		}
	}
	both(roomJID, 1, "")
	if r := e.Do(t, "POST", api+"/chat/displayed/"+url.PathEscape(roomJID)+"?id=r1", ta, "", ""); r.Status != 200 {
		t.Fatalf("displayed in the room: %d %s", r.Status, r.Body)
	}
	both(roomJID, 0, "r1")
	got := list()
	if len(got) != 2 {
		t.Fatalf("GET unread = %+v; want b and the room", got)
	}
	for _, u := range got {
		if u.Count != 0 || u.Room != (u.JID == roomJID) {
			t.Errorf("GET unread: %+v", u)
		}
	}

	// An invitation to the room reaches c as an invitation and as a chat
	// from the room (ejabberd's mediated invitation has a body); neither
	// counts: c has no conversation with the room's address to read.
	c := ejabberdtest.NewUser(t)
	tc := e.Login(t, c.Name, c.Password)
	sc := e.OpenConnected(t, tc, "")
	if r := e.Do(t, "POST", rp+"/"+c.Name, ta, "text/plain", "come in"); r.Status != 200 {
		t.Fatalf("invite: %d %s", r.Status, r.Body)
	}
	var inv chatapi.Invitation
	for inv.Type != chatapi.TypeInvitationReceived {
		sc.NextNamed(t, chatapi.EventMUC, 10*time.Second, &inv)
	}
	// b's message comes after the invitation; its count is told once the
	// tracker has taken everything before it.
	send(tb, c.Name, "after the invitation")
	for {
		var u chatapi.Unread
		sc.NextNamed(t, chatapi.EventUnread, 10*time.Second, &u)
		if u.JID == roomJID {
			t.Fatalf("the invitation was counted: %+v", u)
		}
		if u.JID == b.JID && u.Count == 1 {
			break
		}
	}
	// A count kept before the gateway left the room service out is not
	// listed either (the user could never read it).
	if _, err := e.Store.AddUnreads(t.Context(), []unread.Arrival{{User: c.JID, Peer: roomJID, N: 1}}); err != nil {
		t.Fatal(err)
	}
	r := e.Do(t, "GET", api+"/chat/unread", tc, "", "")
	var cs []gatewaytestUnread
	r.JSON(t, &cs)
	if r.Status != 200 || len(cs) != 1 || cs[0].JID != b.JID || cs[0].Count != 1 {
		t.Errorf("c's GET unread after an invitation = %d %+v; want b with 1", r.Status, cs)
	}

	if r := e.Do(t, "GET", api+"/chat/unread", "", "", ""); r.Status != 401 {
		t.Errorf("GET unread without a token: %d", r.Status)
	}
}

// gatewaytestUnread is an UnreadCount as a client decodes it.
type gatewaytestUnread struct {
	JID      string `json:"jid"`
	Room     bool   `json:"room"`
	Count    int    `json:"count"`
	LastRead string `json:"lastRead"`
}
