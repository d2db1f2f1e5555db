package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// roomPositionSettle is longer than the gateway's coalescing of read
// positions (about one write a second, gateway/roompositions.go): after
// it, the position of a message delivered before it is in the store.
const roomPositionSettle = 3 * time.Second

// TestIntegrationFaultGatewayProcessKilledRoom: a room joined on a gateway
// process that then dies by SIGKILL (no session ended, no position
// written on the way down, its XMPP connection dropped without a closing
// </stream>) is entered again by the new process on the same data
// directory when the user comes back: what a plain XMPP client said in
// the room while no gateway was up arrives once, from the room's archive,
// nothing read before the kill comes again, and live messages follow.
// (The read positions are written about once a second: a kill within a
// second of a message sends that message again, which the test keeps
// clear of by waiting roomPositionSettle before the kill.)
func TestIntegrationFaultGatewayProcessKilledRoom(t *testing.T) {
	srv := ejabberdtest.Shared(t)
	data := t.TempDir()
	first := startGatewayProcess(t, data, "127.0.0.1:0")
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	c1 := first.client()
	ta := c1.Login(t, a.Name, a.Password)
	s1 := c1.OpenConnected(t, ta, "")
	room := "kill" + strings.ToLower(a.Name[1:9])
	roomJID := room + "@" + srv.MUCService()
	if r := c1.Do(t, "PUT", "/sparkweb/api/rest/groupchat/room/"+room+"?nick=alice", ta, "", ""); r.Status != 200 {
		t.Fatalf("join: %d %s", r.Status, r.Body)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	plain, err := xmppconn.Dial(ctx, xmppconn.Config{Addr: srv.C2SAddr(), Domain: srv.Domain(), User: b.Name, Password: b.Password, TLS: xmppconn.TLSOff})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close(context.Background())
	until := func(parts ...string) {
		t.Helper()
		for {
			st, err := plain.Next(ctx)
			if err != nil {
				t.Fatalf("plain client: nothing with %q: %v", parts, err)
			}
			ok := true
			for _, p := range parts {
				ok = ok && strings.Contains(string(st.Raw), p)
			}
			if ok {
				return
			}
		}
	}
	sendRaw := func(raw string) {
		t.Helper()
		if err := plain.SendRaw(ctx, []byte(raw)); err != nil {
			t.Fatal(err)
		}
	}
	say := func(body string) {
		t.Helper()
		sendRaw(fmt.Sprintf(`<message to='%s' type='groupchat' id='%s'><body>%s</body></message>`, roomJID, body, body))
		until("<body>" + body + "</body>") // the room's echo: archived
	}
	sendRaw(fmt.Sprintf(`<presence to='%s/bob'><x xmlns='http://jabber.org/protocol/muc'/></presence>`, roomJID))
	until("from='"+roomJID+"/bob'", "110")

	say("read1")
	say("read2")
	for m := (chatapi.GroupChat{}); m.Body != "read2"; {
		s1.NextNamed(t, chatapi.EventMUC, 10*time.Second, &m)
	}
	time.Sleep(roomPositionSettle)

	first.kill()
	until("from='"+roomJID+"/alice'", "type='unavailable'") // the room saw the connection drop
	say("away1")
	say("away2")

	second := startGatewayProcess(t, data, first.addr)
	s2 := second.client().OpenConnected(t, ta, "")
	until("from='" + roomJID + "/alice'") // entered again by the new process
	say("after")
	got := s2.RoomBodiesUntil(t, "after", 20*time.Second)
	if strings.Join(got, ",") != "away1,away2,after" {
		t.Fatalf("room messages after the SIGKILL %v, want away1,away2,after (once each, nothing read before)", got)
	}
}
