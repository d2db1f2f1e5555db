package xmppconn

import (
	"fmt"
	"strings"
	"testing"
)

// archived is an archive result with archive id id holding the message
// raw (its XML), as the session decodes it.
func archived(t testing.TB, id, raw string) *MAMResult {
	t.Helper()
	st, err := decodeStanza([]byte(raw))
	if err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return &MAMResult{ID: id, Forwarded: Forwarded{Message: &st}}
}

// foldSummary writes a folded page as one line per message and update,
// which the table below compares.
func foldSummary(p FoldedPage) string {
	var b strings.Builder
	for _, m := range p.Messages {
		fmt.Fprintf(&b, "%s %q", m.ID, m.Body)
		if m.Edit != nil {
			fmt.Fprintf(&b, " edit=%s", m.Edit.ID)
		}
		if m.Retraction != nil {
			fmt.Fprintf(&b, " retracted=%s", m.Retraction.ID)
		}
		for _, r := range m.Reactions {
			fmt.Fprintf(&b, " %s:%s", r.From, strings.Join(r.Reactions, ""))
		}
		if m.ReplyTo != "" {
			fmt.Fprintf(&b, " reply=%s", m.ReplyTo)
		}
		b.WriteString("\n")
	}
	for _, u := range p.Updates {
		fmt.Fprintf(&b, "update %s %s %s %q %s\n", u.ID, u.Kind, u.Target, u.Body, strings.Join(u.Reactions, ""))
	}
	return b.String()
}

func TestFoldArchive(t *testing.T) {
	const (
		me, bob, eve = "me@x", "bob@x", "eve@x"
		room         = "r@muc.x"
	)
	chat := func(from, to, id, inner string) string {
		return `<message type="chat" from="` + from + `/res" to="` + to + `" id="` + id + `">` + inner + `</message>`
	}
	body := func(s string) string { return "<body>" + s + "</body>" }
	replace := func(id string) string { return `<replace xmlns="urn:xmpp:message-correct:0" id="` + id + `"/>` }
	retract := func(id string) string {
		return `<retract xmlns="urn:xmpp:message-retract:1" id="` + id + `"/>` + body("fallback text")
	}
	react := func(id string, rs ...string) string {
		s := `<reactions xmlns="urn:xmpp:reactions:0" id="` + id + `">`
		for _, r := range rs {
			s += "<reaction>" + r + "</reaction>"
		}
		return s + `</reactions><store xmlns="urn:xmpp:hints"/>`
	}
	origin := func(id string) string { return `<origin-id xmlns="urn:xmpp:sid:0" id="` + id + `"/>` }
	groupchat := func(nick, id, inner string) string {
		return `<message type="groupchat" from="` + room + `/` + nick + `" to="` + me + `" id="` + id + `">` + inner + `</message>`
	}
	type res struct{ id, raw string }
	tests := []struct {
		name        string
		page, ahead []res
		want        string
	}{
		{"plain messages pass", []res{{"1", chat(bob, me, "m1", body("hi"))}, {"2", chat(me, bob, "m2", body("yo"))}}, nil,
			"1 \"hi\"\n2 \"yo\"\n"},
		{"a message without a body is left out", []res{{"1", chat(bob, me, "m1", `<active xmlns="http://jabber.org/protocol/chatstates"/>`)}}, nil, ""},
		{"latest correction wins", []res{
			{"1", chat(bob, me, "m1", body("helo"))},
			{"2", chat(bob, me, "c1", body("hello")+replace("m1"))},
			{"3", chat(bob, me, "c2", body("hello!")+replace("m1"))},
		}, nil, "1 \"hello!\" edit=3\n"},
		{"a correction of a correction applies to the original", []res{
			{"1", chat(bob, me, "m1", body("helo"))},
			{"2", chat(bob, me, "c1", body("hello")+replace("m1"))},
			{"3", chat(bob, me, "c2", body("hello!")+replace("c1"))},
		}, nil, "1 \"hello!\" edit=3\n"},
		{"named by origin-id", []res{
			{"1", chat(me, bob, "m1", body("helo")+origin("o1"))},
			{"2", chat(me, bob, "c1", body("hello")+replace("o1"))},
		}, nil, "1 \"hello\" edit=2\n"},
		{"named by archive id", []res{
			{"a1", groupchat("bob", "m1", body("hi"))},
			{"a2", groupchat("eve", "r1", react("a1", "👍"))},
		}, nil, "a1 \"hi\" r@muc.x/eve:👍\n"},
		{"someone else's correction does not count", []res{
			{"1", chat(bob, me, "m1", body("hi"))},
			{"2", chat(eve, me, "c1", body("evil")+replace("m1"))},
		}, nil, "1 \"hi\"\nupdate 2 correction m1 \"evil\" \n"},
		{"another occupant cannot retract", []res{
			{"1", groupchat("bob", "m1", body("hi"))},
			{"2", groupchat("eve", "x1", retract("m1"))},
		}, nil, "1 \"hi\"\nupdate 2 retraction m1 \"\" \n"},
		{"the user corrects their own message", []res{
			{"1", chat(me, bob, "m1", body("helo"))},
			{"2", chat(me, bob, "c1", body("hello")+replace("m1"))},
		}, nil, "1 \"hello\" edit=2\n"},
		{"a message without from is the user's", []res{
			{"1", `<message type="chat" to="bob@x" id="m1"><body>helo</body></message>`},
			{"2", chat(me, bob, "c1", body("hello")+replace("m1"))},
		}, nil, "1 \"hello\" edit=2\n"},
		{"retraction removes body, edit and reactions", []res{
			{"1", chat(bob, me, "m1", body("oops"))},
			{"2", chat(bob, me, "c1", body("oops!")+replace("m1"))},
			{"3", chat(me, bob, "r1", react("m1", "😮"))},
			{"4", chat(bob, me, "x1", retract("m1"))},
			{"5", chat(bob, me, "c2", body("back")+replace("m1"))},
			{"6", chat(me, bob, "r2", react("m1", "👍"))},
		}, nil, "1 \"\" retracted=4\n"},
		{"the latest reaction set per sender wins", []res{
			{"1", chat(bob, me, "m1", body("hi"))},
			{"2", chat(me, bob, "r1", react("m1", "👍", "🎉"))},
			{"3", chat(bob, me, "r2", react("m1", "❤"))},
			{"4", chat(me, bob, "r3", react("m1", "🎉", "🎉"))},
		}, nil, "1 \"hi\" me@x:🎉 bob@x:❤\n"},
		{"an empty set withdraws", []res{
			{"1", chat(bob, me, "m1", body("hi"))},
			{"2", chat(me, bob, "r1", react("m1", "👍"))},
			{"3", chat(me, bob, "r2", react("m1"))},
		}, nil, "1 \"hi\"\n"},
		{"a reaction from another conversation does not count", []res{
			{"1", chat(bob, me, "m1", body("hi"))},
			{"2", chat(eve, me, "r1", react("m1", "👍"))},
		}, nil, "1 \"hi\"\nupdate 2 reactions m1 \"\" 👍\n"},
		{"replies keep their reference", []res{
			{"1", chat(bob, me, "m1", body("q?"))},
			{"2", chat(me, bob, "m2", body("a!")+`<reply xmlns="urn:xmpp:reply:0" to="bob@x" id="m1"/>`)},
		}, nil, "1 \"q?\"\n2 \"a!\" reply=m1\n"},
		{"modifications of older pages are updates", []res{
			{"5", chat(bob, me, "c1", body("fixed")+replace("m0"))},
			{"6", chat(bob, me, "x1", retract("m-1"))},
			{"7", chat(me, bob, "r1", react("m0", "👍"))},
		}, nil, "update 5 correction m0 \"fixed\" \nupdate 6 retraction m-1 \"\" \nupdate 7 reactions m0 \"\" 👍\n"},
		{"what follows the page applies to it", []res{
			{"1", chat(bob, me, "m1", body("helo"))},
			{"2", chat(bob, me, "m2", body("gone soon"))},
		}, []res{
			{"3", chat(bob, me, "c1", body("hello")+replace("m1"))},
			{"4", chat(bob, me, "x1", retract("m2"))},
			{"5", chat(me, bob, "r1", react("m1", "👋"))},
			{"6", chat(bob, me, "m9", body("not on this page"))},
			{"7", chat(bob, me, "c9", body("nor this")+replace("m9"))},
		}, "1 \"hello\" edit=3 me@x:👋\n2 \"\" retracted=4\n"},
		{"a room occupant's corrections and reactions", []res{
			{"a1", groupchat("bob", "m1", body("helo"))},
			{"a2", groupchat("bob", "c1", body("hello")+replace("m1"))},
			{"a3", groupchat("eve", "r1", react("a1", "👍"))},
			{"a4", groupchat("alice", "r2", react("a1", "👍"))},
		}, nil, "a1 \"hello\" edit=a2 r@muc.x/eve:👍 r@muc.x/alice:👍\n"},
		{"a retraction in the older apply-to form", []res{
			{"1", chat(bob, me, "m1", body("hi"))},
			{"2", chat(bob, me, "x1", `<apply-to xmlns="urn:xmpp:fasten:0" id="m1"><retract xmlns="urn:xmpp:message-retract:0"/></apply-to>`+body("fallback"))},
		}, nil, "1 \"\" retracted=2\n"},
		{"a room retraction naming the stanza-id", []res{
			{"a1", groupchat("bob", "m1", body("hi"))},
			{"a2", groupchat("bob", "x1", retract("a1"))},
		}, nil, "a1 \"\" retracted=a2\n"},
		{"a correction without a body is no correction", []res{
			{"1", chat(bob, me, "m1", body("hi"))},
			{"2", chat(bob, me, "c1", replace("m1"))},
		}, nil, "1 \"hi\"\n"},
		{"oversized reactions are dropped", []res{
			{"1", chat(bob, me, "m1", body("hi"))},
			{"2", chat(me, bob, "r1", react("m1", strings.Repeat("x", 65), "👍"))},
		}, nil, "1 \"hi\" me@x:👍\n"},
		{"a result without a message is skipped", []res{{"1", ""}, {"2", chat(bob, me, "m1", body("hi"))}}, nil, "2 \"hi\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			load := func(rs []res) []*MAMResult {
				var out []*MAMResult
				for _, r := range rs {
					if r.raw == "" {
						out = append(out, &MAMResult{ID: r.id})
						continue
					}
					out = append(out, archived(t, r.id, r.raw))
				}
				return out
			}
			if got := foldSummary(FoldArchive(me, load(tt.page), load(tt.ahead))); got != tt.want {
				t.Fatalf("folded to\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestModifies(t *testing.T) {
	for raw, want := range map[string]bool{
		`<message><body>hi</body></message>`:                                                                   false,
		`<message><body>a</body><reply xmlns="urn:xmpp:reply:0" id="1"/></message>`:                            false,
		`<message><body>b</body><replace xmlns="urn:xmpp:message-correct:0" id="1"/></message>`:                true,
		`<message><retract xmlns="urn:xmpp:message-retract:1" id="1"/></message>`:                              true,
		`<message><reactions xmlns="urn:xmpp:reactions:0" id="1"><reaction>x</reaction></reactions></message>`: true,
		`<message><reactions xmlns="urn:xmpp:reactions:0"/></message>`:                                         false,
	} {
		if got := Modifies(archived(t, "1", raw).Forwarded.Message); got != want {
			t.Errorf("%s: %v, want %v", raw, got, want)
		}
	}
}

// FuzzFoldArchive: any archived messages fold without a panic; a folded
// page never lists more messages than it had, never a modification, and a
// retracted message has no body.
func FuzzFoldArchive(f *testing.F) {
	f.Add(`<message type="chat" from="b@x/r" id="m1"><body>hi</body></message>` + "\x00" +
		`<message type="chat" from="b@x/r" id="c1"><body>ho</body><replace xmlns="urn:xmpp:message-correct:0" id="m1"/></message>` + "\x00" +
		`<message type="chat" from="b@x/r" id="x1"><retract xmlns="urn:xmpp:message-retract:1" id="m1"/></message>`)
	f.Add(`<message type="groupchat" from="r@m/a" id="m1"><body>hi</body></message>` + "\x00" +
		`<message type="groupchat" from="r@m/b"><reactions xmlns="urn:xmpp:reactions:0" id="0"><reaction>👍</reaction></reactions></message>`)
	f.Fuzz(func(t *testing.T, in string) {
		var page []*MAMResult
		for i, raw := range strings.Split(in, "\x00") {
			st, err := decodeStanza([]byte(raw))
			if err != nil || st.Message == nil {
				continue
			}
			page = append(page, &MAMResult{ID: fmt.Sprint(i), Forwarded: Forwarded{Message: &st}})
		}
		half := len(page) / 2
		p := FoldArchive("me@x", page[:half], page[half:])
		if len(p.Messages)+len(p.Updates) > half {
			t.Fatalf("%d messages and %d updates from %d results", len(p.Messages), len(p.Updates), half)
		}
		for _, m := range p.Messages {
			if Modifies(m.Forwarded.Message) {
				t.Fatalf("a modification listed as a message: %s", m.Forwarded.Message.Raw)
			}
			if m.Retraction != nil && (m.Body != "" || m.Edit != nil || m.Reactions != nil) {
				t.Fatalf("retracted message kept %q, %v, %v", m.Body, m.Edit, m.Reactions)
			}
		}
	})
}
