package xmppconn

import "testing"

// TestTranslateMucSubIgnored: a room message that reaches the user as a
// MucSub event (while away, or flushed from offline storage at login)
// gives the tabs nothing: the room's history and archive give it when the
// session joins, and twice would be once too many.
func TestTranslateMucSubIgnored(t *testing.T) {
	for _, raw := range []string{
		`<message from='r@conference.localhost' to='a@localhost'><event xmlns='http://jabber.org/protocol/pubsub#event'>` +
			`<items node='urn:xmpp:mucsub:nodes:messages'><item id='1'><message xmlns='jabber:client' from='r@conference.localhost/bob' type='groupchat' id='m1'>` +
			`<body>hello alice</body></message></item></items></event></message>`,
		`<message from='r@conference.localhost' to='a@localhost'><event xmlns='http://jabber.org/protocol/pubsub#event'>` +
			`<items node='urn:xmpp:mucsub:nodes:presence'><item id='2'><presence xmlns='jabber:client' from='r@conference.localhost/bob'/></item></items></event></message>`,
	} {
		st, err := decodeStanza([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		if got := Translate(&st, "a@localhost", []string{"conference.localhost"}); len(got) != 0 {
			t.Errorf("Translate(%s) = %+v, want nothing", raw, got)
		}
	}
	// Other pubsub events still arrive.
	st, err := decodeStanza([]byte(`<message from='pubsub.localhost' to='a@localhost'><event xmlns='http://jabber.org/protocol/pubsub#event'><items node='news'><item id='1'><entry/></item></items></event></message>`))
	if err != nil {
		t.Fatal(err)
	}
	if got := Translate(&st, "a@localhost", nil); len(got) != 1 {
		t.Errorf("a pubsub item gave %+v, want one event", got)
	}
}
