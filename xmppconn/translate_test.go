package xmppconn

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sparkgate/sparkgate/chatapi"
)

const self = "alice@example.org"

// testMUCServices is the group chat service of the tests' stanzas.
var testMUCServices = []string{"conference.example.org"}

func TestTranslate(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want []chatapi.Payload
	}{
		{
			name: "chat",
			raw: `<message xmlns='jabber:client' from='bob@example.org/phone' to='alice@example.org/web' type='chat' id='m1'>` +
				`<body>hi "there"
line two ✓</body><thread>t1</thread>` +
				`<stanza-id xmlns='urn:xmpp:sid:0' by='alice@example.org' id='A1'/>` +
				`<stanza-id xmlns='urn:xmpp:sid:0' by='evil@example.org' id='FORGED'/></message>`,
			want: []chatapi.Payload{chatapi.Chat{Type: "chat", From: "bob@example.org/phone", To: "alice@example.org/web",
				Body: "hi \"there\"\nline two ✓", ID: "m1", StanzaID: "A1", Thread: "t1"}},
		},
		{
			name: "bounced-with-body",
			raw: `<message xmlns='jabber:client' from='nobody@example.org' to='alice@example.org/web' type='error' id='m9'>` +
				`<body>are you there?</body><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>` +
				`<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>User session not found</text></error></message>`,
			want: []chatapi.Payload{
				chatapi.Error{Type: "error", From: "nobody@example.org", To: "alice@example.org/web", ID: "m9", Condition: "service-unavailable", Text: "User session not found"},
				chatapi.Chat{Type: "error", From: "nobody@example.org", To: "alice@example.org/web", Body: "are you there?", ID: "m9"},
			},
		},
		{
			name: "bounced-without-body-or-condition",
			raw:  `<message xmlns='jabber:client' from='nobody@example.org' to='alice@example.org/web' type='error' id='s1'><error type='cancel'/></message>`,
			want: []chatapi.Payload{
				chatapi.Error{Type: "error", From: "nobody@example.org", To: "alice@example.org/web", ID: "s1", Condition: "undefined-condition"},
			},
		},
		{
			name: "chat-with-state-and-delay",
			raw: `<message xmlns='jabber:client' from='bob@example.org/phone' to='alice@example.org' type='chat'>` +
				`<body>late</body><active xmlns='http://jabber.org/protocol/chatstates'/>` +
				`<delay xmlns='urn:xmpp:delay' stamp='2026-11-24T01:02:03Z'/></message>`,
			want: []chatapi.Payload{
				chatapi.Chat{Type: "chat", From: "bob@example.org/phone", To: "alice@example.org", Body: "late", Stamp: "2026-11-24T01:02:03Z"},
			},
		},
		{
			name: "room-kick",
			raw: `<presence xmlns='jabber:client' from='r@conference.example.org/bob' to='bob@example.org/web' type='unavailable'>` +
				`<x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='none'><reason>too loud</reason></item>` +
				`<status code='307'/><status code='110'/></x></presence>`,
			want: []chatapi.Payload{chatapi.Presence{Type: "presence", From: "r@conference.example.org/bob", To: "bob@example.org/web",
				Show: "available", PresenceType: "unavailable", Nick: "bob", Role: "none", Affiliation: "none",
				Codes: []string{"307", "110"}, Reason: "too loud"}},
		},
		{
			name: "room-destroyed",
			raw: `<presence xmlns='jabber:client' from='r@conference.example.org/bob' to='bob@example.org/web' type='unavailable'>` +
				`<x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='none'/>` +
				`<destroy jid='s@conference.example.org'><reason>moved</reason></destroy></x></presence>`,
			want: []chatapi.Payload{chatapi.Presence{Type: "presence", From: "r@conference.example.org/bob", To: "bob@example.org/web",
				Show: "available", PresenceType: "unavailable", Nick: "bob", Role: "none", Affiliation: "none",
				Destroyed: true, Alternate: "s@conference.example.org", Reason: "moved"}},
		},
		{
			name: "active-only",
			raw:  `<message xmlns='jabber:client' from='bob@example.org/phone' to='alice@example.org' type='chat'><active xmlns='http://jabber.org/protocol/chatstates'/></message>`,
			want: []chatapi.Payload{chatapi.ChatState{Type: "chatstate", From: "bob@example.org/phone", To: "alice@example.org", State: "active"}},
		},
		{
			name: "composing-only",
			raw:  `<message xmlns='jabber:client' from='bob@example.org/phone' to='alice@example.org' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`,
			want: []chatapi.Payload{chatapi.ChatState{Type: "chatstate", From: "bob@example.org/phone", To: "alice@example.org", State: "composing"}},
		},
		{
			name: "room-composing",
			raw:  `<message xmlns='jabber:client' from='room@conference.example.org/bob' to='alice@example.org/web' type='groupchat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`,
			want: []chatapi.Payload{chatapi.ChatState{Type: "chatstate", From: "room@conference.example.org/bob", To: "alice@example.org/web", State: "composing", Room: true}},
		},
		{
			name: "private-composing",
			raw:  `<message xmlns='jabber:client' from='room@conference.example.org/bob' to='alice@example.org/web' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/><x xmlns='http://jabber.org/protocol/muc#user'/></message>`,
			want: []chatapi.Payload{chatapi.ChatState{Type: "chatstate", From: "room@conference.example.org/bob", To: "alice@example.org/web", State: "composing"}},
		},
		{
			name: "groupchat",
			raw: `<message xmlns='jabber:client' from='room@conference.example.org/bob' to='alice@example.org/web' type='groupchat' id='g1'>` +
				`<body>hello room</body><stanza-id xmlns='urn:xmpp:sid:0' by='room@conference.example.org' id='R1'/></message>`,
			want: []chatapi.Payload{chatapi.GroupChat{Type: "groupchat", From: "room@conference.example.org/bob", To: "alice@example.org/web",
				Body: "hello room", ID: "g1", StanzaID: "R1"}},
		},
		{
			name: "groupchat-subject",
			raw:  `<message xmlns='jabber:client' from='room@conference.example.org/bob' to='alice@example.org/web' type='groupchat' id='s1'><subject>plans</subject></message>`,
			want: []chatapi.Payload{chatapi.GroupChat{Type: "groupchat", From: "room@conference.example.org/bob", To: "alice@example.org/web",
				ID: "s1", Subject: ptrTo("plans")}},
		},
		{
			name: "groupchat-subject-cleared",
			raw:  `<message xmlns='jabber:client' from='room@conference.example.org/bob' to='alice@example.org/web' type='groupchat' id='s2'><subject/></message>`,
			want: []chatapi.Payload{chatapi.GroupChat{Type: "groupchat", From: "room@conference.example.org/bob", To: "alice@example.org/web",
				ID: "s2", Subject: ptrTo("")}},
		},
		{
			name: "groupchat-correction",
			raw: `<message xmlns='jabber:client' from='room@conference.example.org/bob' to='alice@example.org/web' type='groupchat' id='g2'>` +
				`<body>hello, room</body><replace xmlns='urn:xmpp:message-correct:0' id='g1'/><stanza-id xmlns='urn:xmpp:sid:0' by='room@conference.example.org' id='R2'/></message>`,
			want: []chatapi.Payload{chatapi.GroupChat{Type: "groupchat", From: "room@conference.example.org/bob", To: "alice@example.org/web",
				Body: "hello, room", ID: "g2", StanzaID: "R2", Replace: "g1"}},
		},
		{
			name: "groupchat-retraction",
			raw: `<message xmlns='jabber:client' from='room@conference.example.org/bob' to='alice@example.org/web' type='groupchat' id='g3'>` +
				`<body>bob retracted a message</body><retract xmlns='urn:xmpp:message-retract:1' id='g1'/><stanza-id xmlns='urn:xmpp:sid:0' by='room@conference.example.org' id='R3'/></message>`,
			want: []chatapi.Payload{chatapi.GroupChat{Type: "groupchat", From: "room@conference.example.org/bob", To: "alice@example.org/web",
				ID: "g3", StanzaID: "R3", Retract: "g1"}},
		},
		{
			name: "groupchat-reaction",
			raw: `<message xmlns='jabber:client' from='room@conference.example.org/bob' to='alice@example.org/web' type='groupchat' id='g4'>` +
				`<reactions xmlns='urn:xmpp:reactions:0' id='R1'><reaction>👍</reaction></reactions><body>👍</body></message>`,
			want: []chatapi.Payload{chatapi.Reactions{Type: "reactions", From: "room@conference.example.org/bob", To: "alice@example.org/web",
				ID: "R1", Reactions: []string{"👍"}}},
		},
		{
			name: "groupchat-reply",
			raw: `<message xmlns='jabber:client' from='room@conference.example.org/bob' to='alice@example.org/web' type='groupchat' id='g5'>` +
				`<body>yes</body><reply xmlns='urn:xmpp:reply:0' to='room@conference.example.org/carol' id='R1'/></message>`,
			want: []chatapi.Payload{chatapi.GroupChat{Type: "groupchat", From: "room@conference.example.org/bob", To: "alice@example.org/web",
				Body: "yes", ID: "g5", ReplyTo: "R1"}},
		},
		{
			name: "direct-invitation",
			raw: `<message xmlns='jabber:client' from='bob@example.org/phone' to='alice@example.org'>` +
				`<x xmlns='jabber:x:conference' jid='room@conference.example.org' reason='join us' password='pw'/></message>`,
			want: []chatapi.Payload{chatapi.Invitation{Type: "invitationReceived", Room: "room@conference.example.org", Inviter: "bob@example.org/phone",
				From: "bob@example.org/phone", To: "alice@example.org", Password: "pw", Reason: "join us", Direct: true}},
		},
		{
			name: "mediated-invitation",
			raw: `<message xmlns='jabber:client' from='room@conference.example.org' to='alice@example.org'>` +
				`<x xmlns='http://jabber.org/protocol/muc#user'><invite from='bob@example.org/phone'><reason>come</reason></invite><password>pw</password></x></message>`,
			want: []chatapi.Payload{chatapi.Invitation{Type: "invitationReceived", Room: "room@conference.example.org", Inviter: "bob@example.org/phone",
				From: "room@conference.example.org", To: "alice@example.org", Password: "pw", Reason: "come"}},
		},
		{
			name: "mediated-invitation-from-offline-storage",
			raw: `<message xmlns='jabber:client' from='room@conference.example.org' to='alice@example.org'>` +
				`<x xmlns='http://jabber.org/protocol/muc#user'><invite from='bob@example.org/phone'/></x>` +
				`<delay xmlns='urn:xmpp:delay' from='example.org' stamp='2026-11-24T01:02:03Z'>Offline Storage</delay></message>`,
			want: []chatapi.Payload{chatapi.Invitation{Type: "invitationReceived", Room: "room@conference.example.org", Inviter: "bob@example.org/phone",
				From: "room@conference.example.org", To: "alice@example.org", Stamp: "2026-11-24T01:02:03Z"}},
		},
		{
			name: "mediated-invitation-service-case",
			raw: `<message xmlns='jabber:client' from='room@Conference.Example.org' to='alice@example.org'>` +
				`<x xmlns='http://jabber.org/protocol/muc#user'><invite from='bob@example.org/phone'/></x></message>`,
			want: []chatapi.Payload{chatapi.Invitation{Type: "invitationReceived", Room: "room@Conference.Example.org", Inviter: "bob@example.org/phone",
				From: "room@Conference.Example.org", To: "alice@example.org"}},
		},
		{
			name: "presence-unavailable",
			raw:  `<presence xmlns='jabber:client' from='bob@example.org/phone' to='alice@example.org' type='unavailable'/>`,
			want: []chatapi.Payload{chatapi.Presence{Type: "presence", From: "bob@example.org/phone", To: "alice@example.org", Show: "available", PresenceType: "unavailable"}},
		},
		{
			name: "presence-away",
			raw:  `<presence xmlns='jabber:client' from='bob@example.org/phone' to='alice@example.org'><show>away</show><status>lunch</status><priority>5</priority></presence>`,
			want: []chatapi.Payload{chatapi.Presence{Type: "presence", From: "bob@example.org/phone", To: "alice@example.org", Show: "away", Status: "lunch", Priority: 5, PresenceType: "available"}},
		},
		{
			name: "room-presence",
			raw: `<presence xmlns='jabber:client' from='room@conference.example.org/bob' to='alice@example.org/web'>` +
				`<x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' role='participant' jid='bob@example.org/phone'/></x></presence>`,
			want: []chatapi.Payload{chatapi.Presence{Type: "presence", From: "room@conference.example.org/bob", To: "alice@example.org/web", Show: "available",
				PresenceType: "available", Nick: "bob", Role: "participant", Affiliation: "member", JID: "bob@example.org/phone"}},
		},
		{
			name: "receipt",
			raw:  `<message xmlns='jabber:client' from='bob@example.org/phone' to='alice@example.org'><received xmlns='urn:xmpp:receipts' id='m1'/></message>`,
			want: []chatapi.Payload{chatapi.Receipt{Type: "received", From: "bob@example.org/phone", To: "alice@example.org", ID: "m1"}},
		},
		{
			name: "carbon-sent",
			raw: `<message xmlns='jabber:client' from='alice@example.org' to='alice@example.org/web' type='chat'>` +
				`<sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>` +
				`<message xmlns='jabber:client' from='alice@example.org/phone' to='bob@example.org' type='chat' id='c1'><body>from my phone</body></message>` +
				`</forwarded></sent></message>`,
			want: []chatapi.Payload{chatapi.Chat{Type: "chat", From: "alice@example.org/phone", To: "bob@example.org", Body: "from my phone", ID: "c1", Sent: true}},
		},
		{
			name: "carbon-forged",
			raw: `<message xmlns='jabber:client' from='mallory@example.org' to='alice@example.org/web' type='chat'>` +
				`<received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>` +
				`<message xmlns='jabber:client' from='bob@example.org/phone' to='alice@example.org' type='chat'><body>fake</body></message>` +
				`</forwarded></received></message>`,
			want: nil,
		},
		{
			name: "mam-result-is-not-live",
			raw: `<message xmlns='jabber:client' from='alice@example.org' to='alice@example.org/web'>` +
				`<result xmlns='urn:xmpp:mam:2' queryid='q' id='A9'><forwarded xmlns='urn:xmpp:forward:0'>` +
				`<message xmlns='jabber:client' from='bob@example.org/phone' to='alice@example.org' type='chat'><body>old</body></message>` +
				`</forwarded></result></message>`,
			want: nil,
		},
		{
			name: "pubsub-json-item",
			raw: `<message xmlns='jabber:client' from='pubsub.example.org' to='alice@example.org'>` +
				`<event xmlns='http://jabber.org/protocol/pubsub#event'><items node='news'>` +
				`<item id='i1'><json xmlns='urn:xmpp:json:0'>{"a":1}</json></item></items></event></message>`,
			want: []chatapi.Payload{chatapi.PubSub{Type: "item", From: "pubsub.example.org", To: "alice@example.org", Node: "news", ItemID: "i1",
				Payload: `<json xmlns='urn:xmpp:json:0'>{"a":1}</json>`, Data: json.RawMessage(`{"a":1}`)}},
		},
		{
			name: "notify-data-without-body",
			raw:  `<message xmlns='jabber:client' from='bob@example.org/phone' to='alice@example.org'><json xmlns='urn:xmpp:json:0'>[1,2]</json></message>`,
			want: []chatapi.Payload{chatapi.Notify{Type: "notify", From: "bob@example.org/phone", To: "alice@example.org", Data: json.RawMessage(`[1,2]`)}},
		},
		{
			name: "unknown-payload-and-nested-message",
			raw: `<message xmlns='jabber:client' from='bob@example.org/phone' to='alice@example.org' type='chat'><body>still here</body>` +
				`<x xmlns='urn:example:evil'><message xmlns='jabber:client'/></x></message>`,
			want: []chatapi.Payload{chatapi.Chat{Type: "chat", From: "bob@example.org/phone", To: "alice@example.org", Body: "still here"}},
		},
		{
			name: "roster-push",
			raw: `<iq xmlns='jabber:client' from='alice@example.org' to='alice@example.org/web' type='set' id='p1'>` +
				`<query xmlns='jabber:iq:roster' ver='v2'><item jid='bob@example.org' name='Bob' subscription='none' ask='subscribe'>` +
				`<group>Friends</group><group>Work</group></item></query></iq>`,
			want: []chatapi.Payload{chatapi.Roster{JID: "bob@example.org", Name: "Bob", Subscription: "none", Ask: "subscribe",
				Groups: []string{"Friends", "Work"}}},
		},
		{
			name: "roster-push-without-from",
			raw:  `<iq xmlns='jabber:client' type='set' id='p2'><query xmlns='jabber:iq:roster'><item jid='bob@example.org' subscription='both'/></query></iq>`,
			want: []chatapi.Payload{chatapi.Roster{JID: "bob@example.org", Subscription: "both", Groups: []string{}}},
		},
		{
			name: "roster-push-remove",
			raw: `<iq xmlns='jabber:client' from='alice@example.org' type='set' id='p3'>` +
				`<query xmlns='jabber:iq:roster'><item jid='bob@example.org' subscription='remove'/></query></iq>`,
			want: []chatapi.Payload{chatapi.Roster{JID: "bob@example.org", Subscription: "remove", Groups: []string{}, Removed: true}},
		},
		{
			name: "roster-push-forged",
			raw: `<iq xmlns='jabber:client' from='mallory@example.org' type='set' id='p4'>` +
				`<query xmlns='jabber:iq:roster'><item jid='bob@example.org' subscription='both'/></query></iq>`,
			want: nil,
		},
		{
			name: "roster-push-two-items",
			raw: `<iq xmlns='jabber:client' type='set' id='p5'><query xmlns='jabber:iq:roster'>` +
				`<item jid='bob@example.org'/><item jid='carol@example.org'/></query></iq>`,
			want: nil,
		},
		{
			name: "block-push",
			raw: `<iq xmlns='jabber:client' from='alice@example.org' to='alice@example.org/web' type='set' id='b1'>` +
				`<block xmlns='urn:xmpp:blocking'><item jid='spam@example.org'/><item jid='ads.example.net'/></block></iq>`,
			want: []chatapi.Payload{chatapi.Blocklist{Action: "block", JIDs: []string{"spam@example.org", "ads.example.net"}}},
		},
		{
			name: "unblock-push",
			raw:  `<iq xmlns='jabber:client' type='set' id='b2'><unblock xmlns='urn:xmpp:blocking'><item jid='spam@example.org'/></unblock></iq>`,
			want: []chatapi.Payload{chatapi.Blocklist{Action: "unblock", JIDs: []string{"spam@example.org"}}},
		},
		{
			name: "unblock-all-push",
			raw:  `<iq xmlns='jabber:client' type='set' id='b3'><unblock xmlns='urn:xmpp:blocking'/></iq>`,
			want: []chatapi.Payload{chatapi.Blocklist{Action: "unblock", JIDs: []string{}}},
		},
		{
			name: "block-push-forged",
			raw: `<iq xmlns='jabber:client' from='mallory@example.org' type='set' id='b4'>` +
				`<block xmlns='urn:xmpp:blocking'><item jid='bob@example.org'/></block></iq>`,
			want: nil,
		},
		{
			name: "block-of-nothing",
			raw:  `<iq xmlns='jabber:client' type='set' id='b5'><block xmlns='urn:xmpp:blocking'/></iq>`,
			want: nil,
		},
		{
			name: "blocklist-get-is-no-push",
			raw:  `<iq xmlns='jabber:client' type='get' id='b6'><blocklist xmlns='urn:xmpp:blocking'/></iq>`,
			want: nil,
		},
		{
			name: "roster-get-is-no-push",
			raw:  `<iq xmlns='jabber:client' type='get' id='p6'><query xmlns='jabber:iq:roster'/></iq>`,
			want: nil,
		},
		{
			name: "other-iq-set",
			raw:  `<iq xmlns='jabber:client' type='set' id='p7'><query xmlns='jabber:iq:private'><item jid='bob@example.org'/></query></iq>`,
			want: nil,
		},
	}
	// A mediated invitation names its inviter only when a room of a known
	// group chat service sends it; from anyone else the inviter shown is
	// the sender.
	for name, from := range map[string]string{
		"from-user":           "mallory@example.org/x",
		"from-users-bare-jid": "mallory@example.org",
		"from-occupant":       "room@conference.example.org/mallory",
		"from-other-service":  "room@conference.evil.example",
		"from-service":        "conference.example.org",
	} {
		tests = append(tests, struct {
			name string
			raw  string
			want []chatapi.Payload
		}{
			name: "forged-mediated-invitation-" + name,
			raw: `<message xmlns='jabber:client' from='` + from + `' to='alice@example.org'>` +
				`<x xmlns='http://jabber.org/protocol/muc#user'><invite from='admin@example.org'><reason>urgent</reason></invite></x></message>`,
			want: []chatapi.Payload{chatapi.Invitation{Type: "invitationReceived", Room: bareJID(from), Inviter: from,
				From: from, To: "alice@example.org", Reason: "urgent"}},
		})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := decodeStanza([]byte(tt.raw))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			got := Translate(&st, self, testMUCServices)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Translate (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTranslateArchived: an archived message is its chat or groupchat
// event with the archive id and the result's stamp; a room's invitation
// found in the archive (one sent while the session was starting) is also
// its invitation event, first, with the stamp (so it shows, and pushes
// nothing: it may have been told before); one the user sent is not.
func TestTranslateArchived(t *testing.T) {
	result := func(inner string) string {
		return `<message xmlns='jabber:client' from='alice@example.org' to='alice@example.org/web'>` +
			`<result xmlns='urn:xmpp:mam:2' queryid='q' id='A9'><forwarded xmlns='urn:xmpp:forward:0'>` +
			`<delay xmlns='urn:xmpp:delay' stamp='2026-11-24T01:02:03Z'/>` + inner + `</forwarded></result></message>`
	}
	const stamp = "2026-11-24T01:02:03Z"
	invite := `<x xmlns='http://jabber.org/protocol/muc#user'><invite from='bob@example.org/phone'><reason>come</reason></invite></x>`
	tests := []struct {
		name, inner string
		want        []chatapi.Payload
	}{
		{"own chat", `<message xmlns='jabber:client' from='alice@example.org/phone' to='bob@example.org' type='chat' id='x'><body>mine</body></message>`,
			[]chatapi.Payload{chatapi.Chat{Type: "chat", From: "alice@example.org/phone", To: "bob@example.org", Body: "mine", ID: "x",
				StanzaID: "A9", Stamp: stamp, Sent: true}}},
		{"room message", `<message xmlns='jabber:client' from='room@conference.example.org/bob' to='alice@example.org' type='groupchat' id='g'><body>hi all</body></message>`,
			[]chatapi.Payload{chatapi.GroupChat{Type: "groupchat", From: "room@conference.example.org/bob", To: "alice@example.org", Body: "hi all", ID: "g",
				StanzaID: "A9", Stamp: stamp}}},
		{"mediated invitation", `<message xmlns='jabber:client' from='room@conference.example.org' to='alice@example.org'><body>bob invites you</body>` + invite + `</message>`,
			[]chatapi.Payload{
				chatapi.Invitation{Type: "invitationReceived", Room: "room@conference.example.org", Inviter: "bob@example.org/phone",
					From: "room@conference.example.org", To: "alice@example.org", Reason: "come", Stamp: stamp},
				chatapi.Chat{Type: "normal", From: "room@conference.example.org", To: "alice@example.org", Body: "bob invites you", StanzaID: "A9", Stamp: stamp},
			}},
		{"direct invitation sent by the user", `<message xmlns='jabber:client' from='alice@example.org/web' to='bob@example.org'><body>join</body>` +
			`<x xmlns='jabber:x:conference' jid='room@conference.example.org'/></message>`,
			[]chatapi.Payload{chatapi.Chat{Type: "normal", From: "alice@example.org/web", To: "bob@example.org", Body: "join", StanzaID: "A9", Stamp: stamp, Sent: true}}},
		{"no body", `<message xmlns='jabber:client' from='bob@example.org/phone' to='alice@example.org' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := decodeStanza([]byte(result(tt.inner)))
			if err != nil || st.MAM == nil {
				t.Fatalf("decode: %v, MAM %v", err, st.MAM)
			}
			got := TranslateArchived(st.MAM, self, testMUCServices)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("TranslateArchived (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzTranslate: whatever the server sends, translation never panics and
// every event it yields encodes to valid JSON.
func FuzzTranslate(f *testing.F) {
	f.Add(`<message xmlns='jabber:client' from='b@x/r' type='chat'><body>hi</body></message>`)
	f.Add(`<message xmlns='jabber:client' from='alice@example.org'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client'><body>b</body></message></forwarded></sent></message>`)
	f.Add(`<message xmlns='jabber:client'><event xmlns='http://jabber.org/protocol/pubsub#event'><items node='n'><item id='1'><json xmlns='urn:xmpp:json:0'>{</json></item></items></event></message>`)
	f.Add(`<presence xmlns='jabber:client' from='r@c/n'><x xmlns='http://jabber.org/protocol/muc#user'><item role='moderator'/><status code='110'/></x></presence>`)
	f.Add(`<message xmlns='jabber:client'><x xmlns='jabber:x:conference' jid='r@c'/><json xmlns='urn:xmpp:json:0'>null</json></message>`)
	f.Add(`<iq xmlns='jabber:client' type='set' id='p'><query xmlns='jabber:iq:roster'><item jid='b@x' subscription='remove'><group/></item></query></iq>`)
	f.Add(`<iq xmlns='jabber:client' type='set' id='b'><block xmlns='urn:xmpp:blocking'><item jid='b@x'/><item/></block></iq>`)
	f.Add(`<iq xmlns='jabber:client' type='set' id='u'><unblock xmlns='urn:xmpp:blocking'/><block xmlns='urn:xmpp:blocking'/></iq>`)
	f.Fuzz(func(t *testing.T, raw string) {
		st, err := decodeStanza([]byte(raw))
		if err != nil {
			return
		}
		for _, p := range Translate(&st, self, testMUCServices) {
			b, err := json.Marshal(p)
			if err != nil {
				t.Fatalf("event %s does not encode: %v", p.EventName(), err)
			}
			if !json.Valid(b) {
				t.Fatalf("invalid JSON %q", b)
			}
		}
		if st.MAM != nil {
			for _, p := range TranslateArchived(st.MAM, self, testMUCServices) {
				if _, err := json.Marshal(p); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

func ptrTo[T any](v T) *T { return &v }
