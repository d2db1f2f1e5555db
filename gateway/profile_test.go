package gateway_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberd"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// TestIntegrationContactProfile: a contact on a plain XMPP client
// publishes a nickname (XEP-0172) and avatar metadata (XEP-0084) to PEP;
// the server notifies the gateway's session because its capabilities ask
// for them (+notify), and the user's stream gets chatapi.nick and
// chatapi.avatar.
func TestIntegrationContactProfile(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	srv := ejabberdtest.Shared(t)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta := e.Login(t, a.Name, a.Password)
	stream := e.OpenConnected(t, ta, "")
	bc := availableClient(t, srv, b)
	befriend(t, e, ta, stream, a, b, bc)
	publish := func(node, item string) {
		t.Helper()
		payload := `<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='` + node + `'>` + item + `</publish></pubsub>`
		if _, err := bc.RawIQ(t.Context(), "set", "", []byte(payload)); err != nil {
			t.Fatalf("publish %s: %v", node, err)
		}
	}
	publish("http://jabber.org/protocol/nick", `<item id='current'><nick xmlns='http://jabber.org/protocol/nick'>Bobby</nick></item>`)
	publish("urn:xmpp:avatar:metadata", `<item id='0123abcd'><metadata xmlns='urn:xmpp:avatar:metadata'><info id='0123abcd' bytes='42' type='image/png' width='8' height='8'/></metadata></item>`)

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

// befriend makes the gateway user a (token ta, event stream stream) and
// the plain client b (bc, available) contacts both ways, as two people do:
// a adds b (a request to b), b approves and asks back, and a approves b's
// request explicitly through the API (ejabberd ignores an unrequested
// "subscribed", so a's pre-approval in subscriptionType 3 is not enough).
// It returns when b has a's presence: b's server notifies only resources
// of a whose presence b has had (ignore_pep_from_offline).
func befriend(t *testing.T, e *env, ta string, stream *gatewaytest.Stream, a, b ejabberdtest.User, bc *xmppconn.Conn) {
	t.Helper()
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
	// a sees b's request and approves it, as a person does in the client.
	waitRequest := time.Now().Add(15 * time.Second)
	var seen []string // the events' names and times, for a failure's message
	for {
		ev, err := stream.TryNext(time.Until(waitRequest))
		if err != nil || time.Now().After(waitRequest) {
			// Seen once, under a very loaded make test: no event at all
			// for 15 s. Say what a's stream and a's roster held then.
			r := e.Do(t, "GET", api+"/roster", ta, "", "")
			t.Fatalf("a never saw b's subscription request (%v); a's stream had %q since b answered; a's roster now: %d %s",
				err, seen, r.Status, r.Body)
		}
		seen = append(seen, time.Now().Format("15:04:05.000")+" "+ev.Name)
		var p struct {
			From         string `json:"from"`
			PresenceType string `json:"presenceType"`
		}
		if ev.Name == "chatapi.presence" && json.Unmarshal([]byte(ev.Data), &p) == nil &&
			p.PresenceType == "subscribe" && strings.HasPrefix(p.From, b.JID) {
			break
		}
	}
	approve, _ := json.Marshal(map[string]any{"jid": b.JID, "subscriptionType": 3})
	if r := e.Do(t, "PUT", api+"/roster/"+b.JID, ta, "application/json", string(approve)); r.Status != 200 {
		t.Fatalf("approve b: %d %s", r.Status, r.Body)
	}
	waitCtx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	for {
		st, err := bc.Next(waitCtx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Name == "presence" && st.Type == "" && strings.HasPrefix(st.From, a.JID+"/") {
			break
		}
	}
}

// availableClient is u's plain XMPP client (no gateway), connected and
// available; it is closed when the test ends.
func availableClient(t *testing.T, srv *ejabberd.Server, u ejabberdtest.User) *xmppconn.Conn {
	t.Helper()
	c, err := xmppconn.Dial(t.Context(), xmppconn.Config{Addr: srv.C2SAddr(), Domain: u.Domain, User: u.Name, Password: u.Password, TLS: xmppconn.TLSOff})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	if err := c.SendRaw(t.Context(), []byte(`<presence/>`)); err != nil {
		t.Fatal(err)
	}
	return c
}
