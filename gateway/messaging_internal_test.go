package gateway

import (
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gosrc.io/xmpp/stanza"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/xmppconn"
)

func TestParseDateFilter(t *testing.T) {
	utc := func(y int, m time.Month, d, h, mi, s int) time.Time { return time.Date(y, m, d, h, mi, s, 0, time.UTC) }
	tests := []struct {
		in   string
		end  bool
		want time.Time
		bad  bool
	}{
		{in: "03/14/26", want: utc(2026, 3, 14, 0, 0, 0)},
		{in: "03/14/26", end: true, want: utc(2026, 3, 14, 23, 59, 59)},
		{in: "12/31/99", want: utc(1999, 12, 31, 0, 0, 0)},
		{in: "2026-03-14", want: utc(2026, 3, 14, 0, 0, 0)},
		{in: "2026-03-14", end: true, want: utc(2026, 3, 14, 23, 59, 59)},
		{in: "2026-03-14T10:20:30Z", want: utc(2026, 3, 14, 10, 20, 30)},
		{in: "2026-03-14t10:20:30z", want: utc(2026, 3, 14, 10, 20, 30)},
		{in: "2026-03-14 10:20", want: utc(2026, 3, 14, 10, 20, 0)},
		{in: "2026-03-14T10:20:30.5+02:00", want: time.Date(2026, 3, 14, 8, 20, 30, 5e8, time.UTC)},
		{in: "2026-03-14T10:20+01:00", want: utc(2026, 3, 14, 9, 20, 0)},
		{in: "13/45/26", bad: true},
		{in: "2026-02-30", bad: true},
		{in: "yesterday", bad: true},
		{in: "", bad: true},
		{in: strings.Repeat("1", 41), bad: true},
	}
	for _, tt := range tests {
		got, err := parseDateFilter(tt.in, tt.end)
		if tt.bad {
			if err == nil {
				t.Errorf("parseDateFilter(%q, %v) = %v, want an error", tt.in, tt.end, got)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("parseDateFilter(%q, %v) = %v, %v; want %v", tt.in, tt.end, got, err, tt.want)
		}
	}
}

// FuzzParseDateFilter: no panic; an accepted end date is never before the
// same text read as a start.
func FuzzParseDateFilter(f *testing.F) {
	for _, s := range []string{"03/14/26", "2026-03-14", "2026-03-14T10:20:30.123Z", "2026-03-14 10:20+05:30", "99/99/99"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		start, err1 := parseDateFilter(in, false)
		end, err2 := parseDateFilter(in, true)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("%q: start err %v, end err %v", in, err1, err2)
		}
		if err1 == nil && end.Before(start) {
			t.Fatalf("%q: end %v before start %v", in, end, start)
		}
	})
}

func TestKeywordMatch(t *testing.T) {
	tests := []struct {
		body, kw string
		want     bool
	}{
		{"Hello Zebra world", "zebra", true},
		{"Hello Zebra world", "zebra hello", true},
		{"Hello Zebra world", "zebra lion", false},
		{"anything", "", true},
	}
	for _, tt := range tests {
		if got := keywordMatch(tt.body, tt.kw); got != tt.want {
			t.Errorf("keywordMatch(%q, %q) = %v, want %v", tt.body, tt.kw, got, tt.want)
		}
	}
}

func archived(id, from, to, body string, at time.Time) *xmppconn.MAMResult {
	m := &xmppconn.Stanza{Name: "message", From: from, To: to, Type: "chat", Message: &stanza.Message{Body: body}}
	return &xmppconn.MAMResult{ID: id, Forwarded: xmppconn.Forwarded{Delay: &xmppconn.Delay{Stamp: at}, Message: m}}
}

// withIDs gives an archived message an id attribute and an origin-id.
func withIDs(r *xmppconn.MAMResult, id, origin string) *xmppconn.MAMResult {
	r.Forwarded.Message.ID, r.Forwarded.Message.OriginID = id, origin
	return r
}

func TestGroupConversations(t *testing.T) {
	t0 := time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)
	res := []*xmppconn.MAMResult{
		archived("1", "me@x/web", "bob@x", "hi bob", t0),
		archived("2", "carol@x/phone", "me@x/web", "hi me", t0.Add(time.Minute)),
		withIDs(archived("3", "Bob@X/r", "me@x", "hi back", t0.Add(2*time.Minute)), "m3", "o3"),
		archived("4", "bob@x/r", "me@x", "", t0.Add(3*time.Minute)), // a chat state: no body
	}
	got := groupConversations("me@x", xmppconn.FoldArchive("me@x", res, nil), false, "conf.x")
	if len(got) != 2 {
		t.Fatalf("%d conversations, want 2: %+v", len(got), got)
	}
	bob, carol := got[0], got[1]
	if (*bob.ParticipantList)[1] != "bob@x" || *bob.MessageCount != 2 || (*carol.ParticipantList)[1] != "carol@x" || *carol.MessageCount != 1 {
		t.Fatalf("conversations %+v %+v", bob, carol)
	}
	if !bob.StartDate.Equal(t0) || !bob.LastActivity.Equal(t0.Add(2*time.Minute)) || *bob.ConversationID != conversationID("me@x", "bob@x") {
		t.Fatalf("bob's conversation %+v", bob)
	}
	m := (*bob.Messages)[1]
	if *m.Body != "hi back" || *m.StanzaId != "3" || *m.FromJID.Node != "Bob" || *m.FromJID.Resource != "r" || *m.RoomEvent {
		t.Fatalf("message %+v", m)
	}
	if *m.Id != "m3" || *m.OriginId != "o3" {
		t.Fatalf("message id %v, origin-id %v; want m3, o3", m.Id, m.OriginId)
	}
	if m := (*carol.Messages)[0]; m.Id != nil || m.OriginId != nil {
		t.Fatalf("a message without ids has id %v, origin-id %v; want none", m.Id, m.OriginId)
	}
	room := groupConversations("me@x", xmppconn.FoldArchive("me@x", []*xmppconn.MAMResult{archived("9", "lobby@conf.x/bob", "", "hello all", t0)}, nil), true, "")
	if len(room) != 1 || *room[0].ChatRoom != "lobby@conf.x" || !*(*room[0].Messages)[0].RoomEvent {
		t.Fatalf("room conversation %+v", room)
	}
}

// modify makes r a modification of the message id: a correction (with
// r's body), a retraction or reactions, as the XEPs write them.
func modify(r *xmppconn.MAMResult, kind, id string, reactions ...string) *xmppconn.MAMResult {
	node := func(space, local string) *stanza.Node {
		return &stanza.Node{XMLName: xml.Name{Space: space, Local: local}, Attrs: []xml.Attr{{Name: xml.Name{Local: "id"}, Value: id}}}
	}
	var n *stanza.Node
	switch kind {
	case "correction":
		n = node("urn:xmpp:message-correct:0", "replace")
	case "retraction":
		n = node("urn:xmpp:message-retract:1", "retract")
	case "reactions":
		n = node("urn:xmpp:reactions:0", "reactions")
		for _, e := range reactions {
			n.Nodes = append(n.Nodes, stanza.Node{XMLName: xml.Name{Local: "reaction"}, Content: e})
		}
	}
	r.Forwarded.Message.Message.Extensions = append(r.Forwarded.Message.Message.Extensions, n)
	return r
}

// TestGroupConversationsFolded: the archive's JSON says what a folded page
// applied (edited, retracted, reactions) and lists the modifications of
// messages on older pages as the conversation's updates.
func TestGroupConversationsFolded(t *testing.T) {
	t0 := time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	res := []*xmppconn.MAMResult{
		withIDs(archived("1", "bob@x/r", "me@x", "helo", at(0)), "m1", ""),
		withIDs(archived("2", "bob@x/r", "me@x", "oops", at(1)), "m2", ""),
		withIDs(modify(archived("3", "bob@x/r", "me@x", "hello", at(2)), "correction", "m1"), "c1", ""),
		modify(archived("4", "bob@x/r", "me@x", "fallback", at(3)), "retraction", "m2"),
		modify(archived("5", "me@x/web", "bob@x", "", at(4)), "reactions", "m1", "👍"),
		withIDs(modify(archived("6", "bob@x/r", "me@x", "older fixed", at(5)), "correction", "m0"), "c0", ""),
		modify(archived("7", "me@x/web", "bob@x", "", at(6)), "reactions", "m0"),
	}
	got := groupConversations("me@x", xmppconn.FoldArchive("me@x", res, nil), false, "conf.x")
	if len(got) != 1 || *got[0].MessageCount != 2 {
		t.Fatalf("conversations %+v", got)
	}
	msgs := *got[0].Messages
	edited, gone := msgs[0], msgs[1]
	if *edited.Body != "hello" || !*edited.Edited || *edited.EditId != "c1" || !edited.EditedDate.Equal(at(2)) || edited.Retracted != nil {
		t.Errorf("corrected message %+v", edited)
	}
	if diff := cmp.Diff(&[]ArchivedReactions{{From: "me@x", Reactions: []string{"👍"}}}, edited.Reactions); diff != "" {
		t.Errorf("reactions (-want +got):\n%s", diff)
	}
	if gone.Body != nil || gone.Stanza != nil || !*gone.Retracted || !gone.RetractedDate.Equal(at(3)) || gone.Edited != nil {
		t.Errorf("retracted message %+v", gone)
	}
	want := &[]ArchiveUpdate{
		{Kind: Correction, Target: "m0", From: "bob@x/r", Id: ptr("c0"), StanzaId: ptr("6"), SentDate: ptr(at(5)), Body: ptr("older fixed")},
		{Kind: Reactions, Target: "m0", From: "me@x/web", StanzaId: ptr("7"), SentDate: ptr(at(6)), Reactions: &[]string{}},
	}
	if diff := cmp.Diff(want, got[0].Updates); diff != "" {
		t.Errorf("updates (-want +got):\n%s", diff)
	}
}

func TestRoomEntityHidesPassword(t *testing.T) {
	info := &xmppconn.DiscoInfo{
		Identities: []xmppconn.Identity{{Category: "conference", Type: "text", Name: "Lobby"}},
		Features:   []string{"muc_public", "muc_passwordprotected", "muc_persistent"},
	}
	cfg := xmppconn.Form{Fields: map[string][]string{
		"muc#roomconfig_roomsecret":     {"s3cret"},
		"muc#roomconfig_maxusers":       {"50"},
		"muc#roomconfig_membersonly":    {"1"},
		"muc#roomconfig_whois":          {"anyone"},
		"muc#roomconfig_allowpm":        {"participants"},
		"muc#roomconfig_roomowners":     {"me@x"},
		"muc#roomconfig_changesubject":  {"0"},
		"muc#roomconfig_persistentroom": {"0"},
	}}
	e := roomEntity("lobby@conf.x", info, cfg)
	if e.Password != nil {
		t.Fatal("password copied")
	}
	want := MUCRoomEntity{
		RoomName: ptr("lobby"), NaturalName: ptr("Lobby"), Persistent: ptr(false), PublicRoom: ptr(true),
		MembersOnly: ptr(true), Moderated: ptr(false), CanAnyoneDiscoverJID: ptr(true), LogEnabled: ptr(false),
		MaxUsers: ptr(int32(50)), CanOccupantsChangeSubject: ptr(false), AllowPM: ptr("participants"), Owners: &[]string{"me@x"},
	}
	if diff := cmp.Diff(want, *e); diff != "" {
		t.Fatalf("roomEntity (-want +got):\n%s", diff)
	}
}

func TestBestPresence(t *testing.T) {
	if _, ok := bestPresence(nil); ok {
		t.Fatal("a presence out of nothing")
	}
	p, ok := bestPresence([]chatapi.Presence{
		{From: "b@x/phone", Show: "away", Priority: 0},
		{From: "b@x/desk", Show: "sleeping", Status: "zzz", Priority: 5},
	})
	if !ok || p.From != "b@x/desk" || showOf(p) != "available" || p.Status != "zzz" {
		t.Fatalf("bestPresence = %+v (show %s)", p, showOf(p))
	}
}
