package xmppconn

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"gosrc.io/xmpp/stanza"

	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

func TestParseDiscoInfo(t *testing.T) {
	raw := []byte(`<iq type="result" id="1" from="r@conference.localhost"><query xmlns="http://jabber.org/protocol/disco#info">` +
		`<identity category="conference" type="text" name="Lobby"/><feature var="muc_public"/><feature var="muc_open"/>` +
		`<x xmlns="jabber:x:data" type="result"><field var="FORM_TYPE" type="hidden"><value>http://jabber.org/protocol/muc#roominfo</value></field>` +
		`<field var="muc#roominfo_description"><value>chat here</value></field><field var="muc#roominfo_occupants"><value>2</value></field></x>` +
		`</query></iq>`)
	d, err := parseDiscoInfo(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Identities) != 1 || d.Identities[0] != (Identity{Category: "conference", Type: "text", Name: "Lobby"}) {
		t.Fatalf("identities %+v", d.Identities)
	}
	if !d.Has("muc_public") || d.Has("muc_hidden") {
		t.Fatalf("features %v", d.Features)
	}
	f := d.Form("http://jabber.org/protocol/muc#roominfo")
	if f.Value("muc#roominfo_description") != "chat here" || f.Value("muc#roominfo_occupants") != "2" || f.Value("nothing") != "" {
		t.Fatalf("form %+v", f)
	}
	if _, err := parseDiscoInfo([]byte(`<iq type="result"/>`)); !errors.Is(err, ErrProtocol) {
		t.Fatalf("reply without a query: %v", err)
	}
	items, err := parseDiscoItems([]byte(`<iq type="result"><query xmlns="http://jabber.org/protocol/disco#items"><item jid="a@c" name="A"/><item jid="b@c"/></query></iq>`))
	if err != nil || len(items) != 2 || items[0] != (DiscoItem{JID: "a@c", Name: "A"}) {
		t.Fatalf("items %+v, %v", items, err)
	}
}

// TestIntegrationMessagingXMPP exercises the archive, disco, room and
// roster methods against ejabberd.
func TestIntegrationMessagingXMPP(t *testing.T) {
	srv := ejabberdtest.Shared(t)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	m := newTestManager(t, newEvents(), nil)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	ss := openSessions(ctx, t, m, a, b)
	sa, sb := ss[0], ss[1]

	t.Run("own archive paged", func(t *testing.T) {
		for i := range 5 {
			if err := sa.send(ctx, chatTo(b.JID, fmt.Sprint("m", i))); err != nil {
				t.Fatal(err)
			}
		}
		var ids []string
		deadline := time.Now().Add(10 * time.Second)
		for len(ids) < 5 && time.Now().Before(deadline) {
			ids = ids[:0]
			page := Page{Max: 2}
			for range 10 {
				res, fin, err := sb.QueryArchive(ctx, "", ArchiveFilter{With: a.JID}, page)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range res {
					ids = append(ids, r.ID)
				}
				if fin.Complete || fin.Last == "" {
					break
				}
				page.After = fin.Last
			}
		}
		if len(ids) != 5 || len(slices.Compact(slices.Clone(ids))) != 5 {
			t.Fatalf("archive ids %v, want 5 distinct", ids)
		}
		res, fin, err := sb.QueryArchive(ctx, "", ArchiveFilter{With: a.JID}, Page{Max: 1, Last: true})
		if err != nil || len(res) != 1 || res[0].ID != ids[4] || fin.First != ids[4] {
			t.Fatalf("last page %v %+v %v", res, fin, err)
		}
	})

	room := "x" + a.Name[1:9] + "@" + srv.MUCService()
	t.Run("room", func(t *testing.T) {
		created, err := sa.EnterRoom(ctx, room, "alice", "", nil)
		if err != nil || !created {
			t.Fatalf("EnterRoom = %v, %v; want created", created, err)
		}
		if created, err := sb.EnterRoom(ctx, room, "bob", "", nil); err != nil || created {
			t.Fatalf("second EnterRoom = %v, %v", created, err)
		}
		msg := stanza.Message{Attrs: stanza.Attrs{To: room, Type: stanza.MessageTypeGroupchat}, Body: "to the room"}
		if err := sa.send(ctx, msg); err != nil {
			t.Fatal(err)
		}
		var res []*MAMResult
		deadline := time.Now().Add(10 * time.Second)
		for len(res) == 0 && time.Now().Before(deadline) {
			if res, _, err = sb.QueryArchive(ctx, room, ArchiveFilter{}, Page{}); err != nil {
				t.Fatal(err)
			}
		}
		if len(res) != 1 || res[0].Forwarded.Message == nil || res[0].Forwarded.Message.Message.Body != "to the room" {
			t.Fatalf("room archive %+v", res)
		}
		info, err := sb.DiscoInfo(ctx, room, "")
		if err != nil || !info.Has("muc_public") {
			t.Fatalf("DiscoInfo %+v %v", info, err)
		}
		items, err := sb.DiscoItems(ctx, srv.MUCService(), "")
		if err != nil || !slices.ContainsFunc(items, func(it DiscoItem) bool { return it.JID == room }) {
			t.Fatalf("DiscoItems %+v %v", items, err)
		}
		if _, err := sb.RoomConfig(ctx, room); !errors.Is(err, ErrForbidden) {
			t.Fatalf("RoomConfig by a non-owner: %v, want forbidden", err)
		}
		cfg, err := sa.RoomConfig(ctx, room)
		if err != nil || cfg.FormType != "http://jabber.org/protocol/muc#roomconfig" {
			t.Fatalf("RoomConfig %+v %v", cfg, err)
		}
		if _, err := sb.DiscoInfo(ctx, "nosuchroom"+a.Name+"@"+srv.MUCService(), ""); !errors.Is(err, ErrItemNotFound) {
			t.Fatalf("DiscoInfo of a missing room: %v", err)
		}
	})

	t.Run("roster", func(t *testing.T) {
		if err := sa.SetRosterItem(ctx, RosterItem{JID: b.JID, Name: "Bee", Groups: []string{"g1"}}); err != nil {
			t.Fatal(err)
		}
		items, err := sa.Roster(ctx)
		if err != nil || len(items) != 1 || items[0].JID != b.JID || items[0].Name != "Bee" || items[0].Subscription != "none" || !slices.Equal(items[0].Groups, []string{"g1"}) {
			t.Fatalf("roster %+v %v", items, err)
		}
		if err := sa.RemoveRosterItem(ctx, b.JID); err != nil {
			t.Fatal(err)
		}
		if items, err := sa.Roster(ctx); err != nil || len(items) != 0 {
			t.Fatalf("roster after remove %+v %v", items, err)
		}
	})
}
