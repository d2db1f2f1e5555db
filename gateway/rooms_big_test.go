package gateway_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// TestIntegrationRoomsBigJoin: entering a room of 60 plain members puts a
// handful of events in the joiner's stream, whatever the room's size: one
// occupants snapshot listing everyone, the user's own presence, the room's
// presence and subject, and their raw stanzas; no presence per occupant
// and no chatapi.reset. (make bench's bigroom scenario does the same with
// 1,000 members and times it.)
func TestIntegrationRoomsBigJoin(t *testing.T) {
	t.Parallel()
	const members = 60
	e := newGateway(t, func(c *gateway.Config) { c.Sessions.RawEvents = true })
	srv := ejabberdtest.Shared(t)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tb := e.Login(t, a.Name, a.Password), e.Login(t, b.Name, b.Password)
	room := "big" + strings.ToLower(a.Name[1:9])
	roomJID := room + "@" + srv.MUCService()
	rp := api + "/groupchat/room/" + room
	if r := e.Do(t, "PUT", rp+"?nick=owner", ta, "", ""); r.Status != 200 {
		t.Fatalf("owner joins: %d %s", r.Status, r.Body)
	}
	for i := range members {
		c := dialAs(t, ejabberdtest.NewUser(t))
		plainJoin(t, c, roomJID, fmt.Sprintf("m%02d", i))
		go func() { // later joins' presences; ends when the test closes c
			for range c.In() {
			}
		}()
	}

	sb, _ := e.Open(t, tb, "")
	for { // the stream's opening events (onConnect, the user's own presence)
		if _, err := sb.TryNext(time.Second); err != nil {
			break
		}
	}
	if r := e.Do(t, "PUT", rp+"?nick=bob", tb, "", ""); r.Status != 200 {
		t.Fatalf("bob joins: %d %s", r.Status, r.Body)
	}
	counts := map[string]int{}
	var snaps []chatapi.Occupants
	own := false
	for {
		wait := 15 * time.Second
		if own {
			wait = 2 * time.Second // what else the join brings
		}
		ev, err := sb.TryNext(wait)
		if err != nil {
			if own {
				break
			}
			t.Fatalf("no own presence in the room (events so far %v): %v", counts, err)
		}
		counts[ev.Name]++
		switch ev.Name {
		case chatapi.EventReset, chatapi.EventClose:
			t.Fatalf("the join ended the stream: %s %s", ev.Name, ev.Data)
		case chatapi.EventMUC:
			var o chatapi.Occupants
			if err := json.Unmarshal([]byte(ev.Data), &o); err != nil {
				t.Fatal(err)
			}
			if o.Type == chatapi.TypeOccupants {
				snaps = append(snaps, o)
			}
		case chatapi.EventPresence:
			var p chatapi.Presence
			if err := json.Unmarshal([]byte(ev.Data), &p); err != nil {
				t.Fatal(err)
			}
			switch {
			case p.From == roomJID+"/bob":
				own = true
			case strings.HasPrefix(p.From, roomJID+"/"):
				t.Fatalf("a presence per occupant: %+v", p)
			}
		}
	}
	if len(snaps) != 1 || len(snaps[0].Occupants) != members+2 {
		t.Fatalf("want one snapshot of %d occupants, got %d snapshots: %+v", members+2, len(snaps), snaps)
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	if total > 8 {
		t.Fatalf("the join brought %d events into the stream, want a handful: %v", total, counts)
	}
}
