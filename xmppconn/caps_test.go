package xmppconn

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// TestDiscoInfoReply: the client answers disco#info for itself and for
// its caps node, with the identity and features its caps hash, and refuses
// any other node; the hash recomputed from the answer is the one every
// presence announces (XEP-0115 section 5).
func TestDiscoInfoReply(t *testing.T) {
	query := func(node string) xml.StartElement {
		q := xml.StartElement{Name: xml.Name{Space: nsDiscoInfo, Local: "query"}}
		if node != "" {
			q.Attr = []xml.Attr{{Name: xml.Name{Local: "node"}, Value: node}}
		}
		return q
	}
	st := &Stanza{ID: "d1'", From: "localhost"}
	for _, node := range []string{"", capsNode + "#" + capsVer} {
		raw := discoInfoReply(st, query(node))
		var r struct {
			Type  string `xml:"type,attr"`
			ID    string `xml:"id,attr"`
			Query struct {
				Node     string `xml:"node,attr"`
				Identity []struct {
					Category string `xml:"category,attr"`
					Type     string `xml:"type,attr"`
					Name     string `xml:"name,attr"`
				} `xml:"identity"`
				Features []struct {
					Var string `xml:"var,attr"`
				} `xml:"feature"`
			} `xml:"http://jabber.org/protocol/disco#info query"`
		}
		if err := xml.Unmarshal(raw, &r); err != nil {
			t.Fatalf("reply %s: %v", raw, err)
		}
		if r.Type != "result" || r.ID != "d1'" || r.Query.Node != node || len(r.Query.Identity) != 1 {
			t.Fatalf("reply %s", raw)
		}
		id := r.Query.Identity[0]
		var feats []string
		for _, f := range r.Query.Features {
			feats = append(feats, f.Var)
		}
		sort.Strings(feats)
		s := id.Category + "/" + id.Type + "//" + id.Name + "<" + strings.Join(feats, "<") + "<"
		sum := sha1.Sum([]byte(s))
		if got := base64.StdEncoding.EncodeToString(sum[:]); got != capsVer {
			t.Errorf("the answer hashes to %s, presence announces %s", got, capsVer)
		}
		for _, want := range []string{"urn:xmpp:avatar:metadata+notify", "http://jabber.org/protocol/nick+notify"} {
			if !strings.Contains(s, want+"<") {
				t.Errorf("features lack %s", want)
			}
		}
	}
	if raw := discoInfoReply(st, query("http://other#x")); raw != nil {
		t.Errorf("another node answered %s", raw)
	}
}

// TestIntegrationContactNickArrives: with capabilities in its presence,
// the session gets its contacts' PEP updates (here a nickname, XEP-0172),
// which the server sends only to clients that ask with +notify.
func TestIntegrationContactNickArrives(t *testing.T) {
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	adm := ejabberdtest.Admin(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	group := "caps" + a.Name[1:9]
	if err := adm.CreateGroup(ctx, group, group, "", nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { adm.DeleteGroup(context.Background(), group) })
	for _, u := range []ejabberdtest.User{a, b} {
		if err := adm.AddGroupMember(ctx, group, u.Name); err != nil {
			t.Fatal(err)
		}
	}
	ev := newEvents()
	m := newTestManager(t, ev, nil)
	if _, err := m.Open(ctx, a.Name, Credentials{Password: a.Password}); err != nil {
		t.Fatal(err)
	}
	bc := dialUser(t, ejabberdtest.Shared(t), b, nil)
	online(t, bc)
	time.Sleep(500 * time.Millisecond) // the server learns a's features from its caps
	nick := "Bobby " + b.Name[1:5]
	publish := fmt.Sprintf(`<iq type='set' id='n1'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='http://jabber.org/protocol/nick'><item><nick xmlns='http://jabber.org/protocol/nick'>%s</nick></item></publish></pubsub></iq>`, nick)
	if err := bc.SendRaw(ctx, []byte(publish)); err != nil {
		t.Fatal(err)
	}
	ev.waitFor(t, 10*time.Second, "b's nickname", func() bool {
		ev.mu.Lock()
		defer ev.mu.Unlock()
		for _, p := range ev.byUser[a.JID] {
			if ps, ok := p.(chatapi.PubSub); ok && ps.Node == "http://jabber.org/protocol/nick" &&
				strings.HasPrefix(ps.From, b.JID) && strings.Contains(ps.Payload, nick) {
				return true
			}
		}
		return false
	})
}
