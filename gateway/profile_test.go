package gateway_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// TestIntegrationContactProfile: a contact on a plain XMPP client
// publishes a nickname (XEP-0172) and avatar metadata (XEP-0084) to PEP;
// the server notifies the gateway's session because its capabilities ask
// for them (+notify), and the user's stream gets chatapi.nick and
// chatapi.avatar.
//
// KNOWN BROKEN (issue 19, open): with the subscription both ways, no PEP
// notification of b's reaches a's session at all (neither chatapi.pubsub
// nor the typed events), even after a's next presence; the caps the
// session announces (caps.go) are apparently not taken by ejabberd. The
// translation itself is unit-tested (TestTranslateModern). Remove the skip
// once that is found.
func TestIntegrationContactProfile(t *testing.T) {
	t.Skip("issue 19: PEP notifications do not reach the session yet; see the comment")
	e := newGateway(t, nil)
	srv := ejabberdtest.Shared(t)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta := e.Login(t, a.Name, a.Password)
	stream := e.OpenConnected(t, ta, "")
	bc, err := xmppconn.Dial(t.Context(), xmppconn.Config{Addr: srv.C2SAddr(), Domain: b.Domain, User: b.Name, Password: b.Password, TLS: xmppconn.TLSOff})
	if err != nil {
		t.Fatal(err)
	}
	defer bc.Close(t.Context())
	if err := bc.SendRaw(t.Context(), []byte(`<presence/>`)); err != nil {
		t.Fatal(err)
	}
	// a subscribes to b's presence and pre-approves b's subscription; b
	// approves and subscribes (both ways, as contacts are).
	item, _ := json.Marshal(map[string]any{"jid": b.JID, "nickname": "b", "subscriptionType": 3, "groups": []string{}})
	if r := e.Do(t, "POST", api+"/roster", ta, "application/json", string(item)); r.Status != 200 {
		t.Fatalf("add b: %d %s", r.Status, r.Body)
	}
	for {
		st, err := bc.Next(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if st.Name == "presence" && st.Type == "subscribe" {
			break
		}
	}
	for _, typ := range []string{"subscribed", "subscribe"} {
		if err := bc.SendRaw(t.Context(), []byte(`<presence type='`+typ+`' to='`+a.JID+`'/>`)); err != nil {
			t.Fatal(err)
		}
	}
	publish := func(node, item string) {
		t.Helper()
		payload := `<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='` + node + `'>` + item + `</publish></pubsub>`
		if _, err := bc.RawIQ(t.Context(), "set", "", []byte(payload)); err != nil {
			t.Fatalf("publish %s: %v", node, err)
		}
	}
	publish("http://jabber.org/protocol/nick", `<item id='current'><nick xmlns='http://jabber.org/protocol/nick'>Bobby</nick></item>`)
	publish("urn:xmpp:avatar:metadata", `<item id='0123abcd'><metadata xmlns='urn:xmpp:avatar:metadata'><info id='0123abcd' bytes='42' type='image/png' width='8' height='8'/></metadata></item>`)

	// Once the items exist, a's next presence makes the server send the
	// last item of each node a's capabilities ask for (XEP-0163 section 6.2).
	if r := e.Do(t, "POST", api+"/presence?show=chat", ta, "", ""); r.Status != 200 {
		t.Fatalf("presence: %d %s", r.Status, r.Body)
	}
	var gotNick, gotAvatar bool
	deadline := time.Now().Add(15 * time.Second)
	for !(gotNick && gotAvatar) && time.Now().Before(deadline) {
		ev := stream.Next(t, time.Until(deadline))
		switch ev.Name {
		case chatapi.EventNick:
			var n chatapi.Nick
			if err := json.Unmarshal([]byte(ev.Data), &n); err != nil {
				t.Fatal(err)
			}
			if n.JID == b.JID && n.Nick == "Bobby" {
				gotNick = true
			}
		case chatapi.EventAvatar:
			var av chatapi.Avatar
			if err := json.Unmarshal([]byte(ev.Data), &av); err != nil {
				t.Fatal(err)
			}
			if av == (chatapi.Avatar{JID: b.JID, ID: "0123abcd", Type: "image/png", Size: 42, Width: 8, Height: 8}) {
				gotAvatar = true
			} else if strings.HasPrefix(av.JID, b.JID) {
				t.Fatalf("avatar event %+v", av)
			}
		}
	}
	if !gotNick || !gotAvatar {
		t.Fatalf("nick event %v, avatar event %v; want both", gotNick, gotAvatar)
	}
}
