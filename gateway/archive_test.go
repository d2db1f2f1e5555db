package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// foldedMessage is what the archive tests read of an archived message.
type foldedMessage struct {
	ID        string  `json:"id"`
	StanzaID  string  `json:"stanzaId"`
	Body      *string `json:"body"`
	Stanza    *string `json:"stanza"`
	Edited    bool    `json:"edited"`
	EditID    string  `json:"editId"`
	Retracted bool    `json:"retracted"`
	ReplyTo   string  `json:"replyTo"`
	Reactions []struct {
		From      string   `json:"from"`
		Reactions []string `json:"reactions"`
	} `json:"reactions"`
}

// String is the message as the tests compare it: body, then what was
// applied.
func (m foldedMessage) String() string {
	var b strings.Builder
	if m.Body != nil {
		b.WriteString(*m.Body)
	}
	if m.Edited {
		b.WriteString(" (edited)")
	}
	if m.Retracted {
		b.WriteString("(retracted)")
	}
	for _, r := range m.Reactions {
		local, _, _ := strings.Cut(r.From, "@")
		if _, nick, ok := strings.Cut(r.From, "/"); ok {
			local = nick
		}
		fmt.Fprintf(&b, " %s:%s", local[:min(len(local), 5)], strings.Join(r.Reactions, ""))
	}
	if m.ReplyTo != "" {
		b.WriteString(" reply")
	}
	return b.String()
}

type foldedUpdate struct {
	Kind   string `json:"kind"`
	Target string `json:"target"`
}

// foldedPage is one archive page as GET /chat/messages (one conversation)
// or GET /groupchat/room/{room}/chathistory answers it.
type foldedPage struct {
	Conversations []struct {
		Messages []foldedMessage `json:"messages"`
		Updates  []foldedUpdate  `json:"updates"`
	} `json:"conversations"`
	Messages    []foldedMessage `json:"messages"`
	Updates     []foldedUpdate  `json:"updates"`
	First, Last string
	Complete    bool
}

func (p foldedPage) messages() []foldedMessage {
	out := p.Messages
	for _, c := range p.Conversations {
		out = append(out, c.Messages...)
	}
	return out
}

func (p foldedPage) updates() []foldedUpdate {
	out := p.Updates
	for _, c := range p.Conversations {
		out = append(out, c.Updates...)
	}
	return out
}

func summary(ms []foldedMessage) string {
	var s []string
	for _, m := range ms {
		s = append(s, m.String())
	}
	return strings.Join(s, " | ")
}

// checkFolded reads the archive at path: at once, then page by page of
// two backwards and forwards; every way shows want (a summary), each
// message once, and the pages' updates name messages of older pages.
func checkFolded(t *testing.T, e *env, tok, path, want string) []foldedMessage {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	get := func(q string) foldedPage {
		t.Helper()
		r := e.Do(t, "GET", path+sep+q, tok, "", "")
		if r.Status != 200 {
			t.Fatalf("GET %s%s%s: %d %s", path, sep, q, r.Status, r.Body)
		}
		var p foldedPage
		r.JSON(t, &p)
		return p
	}
	var all []foldedMessage
	msgEventually(t, 10*time.Second, func() string {
		all = get("max=100").messages()
		if got := summary(all); got != want {
			return fmt.Sprintf("archive shows\n%s\nwant\n%s", got, want)
		}
		return ""
	})
	for _, m := range all {
		if m.Retracted && m.Stanza != nil {
			t.Errorf("retracted message %s keeps its stanza %s", m.ID, *m.Stanza)
		}
	}
	var back []foldedMessage
	updates := 0
	for q := "max=2&before="; ; {
		p := get(q)
		back = append(p.messages(), back...)
		updates += len(p.updates())
		if p.Complete || p.First == "" {
			break
		}
		q = "max=2&before=" + p.First
	}
	if got := summary(back); got != want {
		t.Errorf("read backwards by twos:\n%s\nwant\n%s", got, want)
	}
	if updates == 0 {
		t.Errorf("no page of two named a message of an older page in its updates")
	}
	var fwd []foldedMessage
	for q := "max=2"; ; {
		p := get(q)
		fwd = append(fwd, p.messages()...)
		if p.Complete || p.Last == "" {
			break
		}
		q = "max=2&after=" + p.Last
	}
	if got := summary(fwd); got != want {
		t.Errorf("read forwards by twos:\n%s\nwant\n%s", got, want)
	}
	return all
}

// TestIntegrationArchiveFolded: what a plain XMPP client and the gateway
// user correct (XEP-0308), retract (XEP-0424), react to (XEP-0444) and
// answer (XEP-0461) in a one-to-one conversation reads from the user's
// archive as a live client showed it: each message once, corrected,
// retracted or with its reactions, never the modifying messages
// themselves; the same read page by page, whichever way; a keyword
// search finds the text as it reads now.
func TestIntegrationArchiveFolded(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	srv := ejabberdtest.Shared(t)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta := e.Login(t, a.Name, a.Password)
	stream := e.OpenConnected(t, ta, "")
	bc := availableClient(t, srv, b)
	plain := func(id, inner string) {
		t.Helper()
		raw := `<message type='chat' to='` + a.JID + `' id='` + id + `'>` + inner + `<origin-id xmlns='urn:xmpp:sid:0' id='` + id + `'/></message>`
		if err := bc.SendRaw(t.Context(), []byte(raw)); err != nil {
			t.Fatal(err)
		}
	}
	call := func(method, path, ct, body string) string {
		t.Helper()
		r := e.Do(t, method, api+path, ta, ct, body)
		if r.Status != 200 {
			t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Body)
		}
		var sent struct{ ID string }
		r.JSON(t, &sent)
		return sent.ID
	}

	plain("m1", "<body>helo</body>")
	plain("c1", "<body>hello</body><replace xmlns='urn:xmpp:message-correct:0' id='m1'/>")
	plain("m2", "<body>a mistake</body>")
	// The archive keeps the server's order: b's messages are in before a
	// writes, and a's before b answers it.
	for c := (chatapi.Chat{}); c.ID != "m2"; {
		stream.NextNamed(t, chatapi.EventChat, 10*time.Second, &c)
	}
	mine := call("POST", "/chat/message/"+b.Name, "text/plain", "from a")
	plainUntil(t, bc, "<body>from a</body>")
	plain("x2", "<body>retracted (fallback)</body><retract xmlns='urn:xmpp:message-retract:1' id='m2'/><fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:message-retract:1'/><store xmlns='urn:xmpp:hints'/>")
	plain("r1", "<reactions xmlns='urn:xmpp:reactions:0' id='"+mine+"'><reaction>👍</reaction><reaction>🎉</reaction></reactions><store xmlns='urn:xmpp:hints'/>")
	plain("m3", "<body>an answer</body><reply xmlns='urn:xmpp:reply:0' to='"+a.JID+"' id='"+mine+"'/>")
	call("PUT", "/chat/reactions/"+b.Name+"/m1", "application/json", `["❤"]`)
	call("PUT", "/chat/message/"+b.Name+"/"+mine, "text/plain", "from a, fixed")
	plain("r2", "<reactions xmlns='urn:xmpp:reactions:0' id='"+mine+"'><reaction>🎉</reaction></reactions><store xmlns='urn:xmpp:hints'/>")
	// Another sender cannot correct b's message.
	plain("c9", "<body>not b's</body><replace xmlns='urn:xmpp:message-correct:0' id='"+mine+"'/>")

	al, bl := strings.ToLower(a.Name[:5]), strings.ToLower(b.Name[:5])
	want := strings.Join([]string{
		"hello (edited) " + al + ":❤",
		"(retracted)",
		"from a, fixed (edited) " + bl + ":🎉",
		"an answer reply",
	}, " | ")
	all := checkFolded(t, e, ta, api+"/chat/messages?to="+b.Name, want)
	if all[0].ID != "m1" || all[0].EditID != "c1" || all[2].ID != mine || all[3].ReplyTo != mine {
		t.Errorf("ids: %+v", all)
	}
	// A keyword search matches the text as it reads now.
	for kw, want := range map[string]string{"fixed": "from a, fixed (edited) " + bl + ":🎉", "helo": "", "mistake": "", "fallback": "", "hello": "hello (edited) " + al + ":❤"} {
		r := e.Do(t, "GET", api+"/chat/messages?to="+b.Name+"&keywords="+kw, ta, "", "")
		var p foldedPage
		if r.JSON(t, &p); r.Status != 200 || summary(p.messages()) != want {
			t.Errorf("keywords %s: %d %q, want %q", kw, r.Status, summary(p.messages()), want)
		}
	}
}

// TestIntegrationArchiveFoldedRoom: the same in a room: a plain
// occupant's correction, retraction and reactions (naming the message by
// the room's stanza-id, as XEP-0444 asks in rooms) and the gateway
// user's reply read folded from the room's archive, through both of its
// operations.
func TestIntegrationArchiveFoldedRoom(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	srv := ejabberdtest.Shared(t)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta := e.Login(t, a.Name, a.Password)
	st := e.OpenConnected(t, ta, "")
	room := "fold" + strings.ToLower(a.Name[1:9])
	roomJID := room + "@" + srv.MUCService()
	rp := api + "/groupchat/room/" + room
	if r := e.Do(t, "PUT", rp+"?nick=alice", ta, "", ""); r.Status != 200 {
		t.Fatalf("join: %d %s", r.Status, r.Body)
	}
	bc := dialAs(t, b)
	plainJoin(t, bc, roomJID, "bob")
	stanzaID := regexp.MustCompile(`<stanza-id[^>]*id=['"]([^'"]+)['"]`)
	say := func(id, inner string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		raw := `<message type='groupchat' to='` + roomJID + `' id='` + id + `'>` + inner + `</message>`
		if err := bc.SendRaw(ctx, []byte(raw)); err != nil {
			t.Fatal(err)
		}
		m := stanzaID.FindStringSubmatch(plainUntil(t, bc, "id='"+id+"'", "from='"+roomJID+"/bob'"))
		if m == nil {
			t.Fatalf("the room's reflection of %s has no stanza-id", id)
		}
		return m[1]
	}
	sid1 := say("m1", "<body>helo all</body>")
	say("c1", "<body>hello all</body><replace xmlns='urn:xmpp:message-correct:0' id='m1'/>")
	say("m2", "<body>wrong room</body>")
	if r := e.Do(t, "POST", rp, ta, "text/plain", "welcome"); r.Status != 200 {
		t.Fatalf("a says welcome: %d %s", r.Status, r.Body)
	}
	plainUntil(t, bc, "<body>welcome</body>")
	say("x2", "<body>retracted (fallback)</body><retract xmlns='urn:xmpp:message-retract:1' id='m2'/><store xmlns='urn:xmpp:hints'/>")
	say("r1", "<reactions xmlns='urn:xmpp:reactions:0' id='"+sid1+"'><reaction>👋</reaction></reactions><store xmlns='urn:xmpp:hints'/>")
	say("m3", "<body>thanks</body><reply xmlns='urn:xmpp:reply:0' to='"+roomJID+"/bob' id='"+sid1+"'/>")
	say("r2", "<reactions xmlns='urn:xmpp:reactions:0' id='"+sid1+"'><reaction>👋</reaction><reaction>🎉</reaction></reactions><store xmlns='urn:xmpp:hints'/>")

	want := strings.Join([]string{
		"hello all (edited) bob:👋🎉",
		"(retracted)",
		"welcome",
		"thanks reply",
	}, " | ")
	checkFolded(t, e, ta, rp+"/chathistory", want)
	checkFolded(t, e, ta, api+"/groupchat/messages?room="+room, want)

	// Live, the stream said the same as it happened: typed, not as new
	// messages with fallback bodies.
	var live []string
	for done := false; !done; {
		ev := st.Next(t, 10*time.Second)
		switch ev.Name {
		case chatapi.EventMUC:
			var m chatapi.GroupChat
			if err := json.Unmarshal([]byte(ev.Data), &m); err != nil {
				t.Fatal(err)
			}
			if m.From == roomJID+"/bob" {
				live = append(live, fmt.Sprintf("%s replace=%s retract=%s replyTo=%v", m.Body, m.Replace, m.Retract, m.ReplyTo == sid1))
			}
		case chatapi.EventReaction:
			var r chatapi.Reactions
			if err := json.Unmarshal([]byte(ev.Data), &r); err != nil {
				t.Fatal(err)
			}
			live = append(live, fmt.Sprintf("react %v %s", r.ID == sid1, strings.Join(r.Reactions, "")))
			done = len(r.Reactions) == 2
		}
	}
	wantLive := []string{
		"helo all replace= retract= replyTo=false",
		"hello all replace=m1 retract= replyTo=false",
		"wrong room replace= retract= replyTo=false",
		" replace= retract=m2 replyTo=false",
		"react true 👋",
		"thanks replace= retract= replyTo=true",
		"react true 👋🎉",
	}
	if strings.Join(live, "\n") != strings.Join(wantLive, "\n") {
		t.Errorf("live room events:\n%s\nwant:\n%s", strings.Join(live, "\n"), strings.Join(wantLive, "\n"))
	}
}
