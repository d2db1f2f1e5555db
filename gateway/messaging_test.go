package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/sparkgate/sparkgate"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// eventually retries check until it returns "" or d passes; it is for
// state the XMPP server reaches on its own time (archive writes, roster
// pushes, presence broadcasts), polled through the API itself.
func msgEventually(t *testing.T, d time.Duration, check func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		why := check()
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", d, why)
		}
		<-tick.C
	}
}

// call is one API request of an operation's table.
type msgCall struct {
	name         string
	method, path string
	token        string
	ct, body     string
	status       int
	check        func(t *testing.T, r gatewaytest.Response)
}

var msgSpecRouter = sync.OnceValues(func() (routers.Router, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(sparkgate.OpenAPI)
	if err != nil {
		return nil, err
	}
	doc.Servers = nil
	return gorillamux.NewRouter(doc)
})

// checkContract validates a response against openapi.yaml: its status
// must be documented for the operation and its body must match the
// schema (undocumented fields included, since the models are closed).
func checkContract(t *testing.T, method, path string, r gatewaytest.Response) {
	t.Helper()
	router, err := msgSpecRouter()
	if err != nil {
		t.Fatalf("load the spec: %v", err)
	}
	req, err := http.NewRequest(method, "http://sparkgate.test"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s %s: no operation in the spec: %v", method, path, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, ExcludeRequestBody: true}}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: r.Status, Header: r.Header,
		Body:    io.NopCloser(bytes.NewReader(r.Body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Errorf("%s %s: the %d response breaks the contract: %v\n%s", method, path, r.Status, err, r.Body)
	}
}

func runMsgCalls(t *testing.T, e *env, calls []msgCall) {
	t.Helper()
	for _, tt := range calls {
		t.Run(tt.name, func(t *testing.T) {
			r := e.Do(t, tt.method, tt.path, tt.token, tt.ct, tt.body)
			if r.Status != tt.status {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, r.Status, r.Body, tt.status)
			}
			checkContract(t, tt.method, tt.path, r)
			if tt.status >= 400 {
				if eb := r.Error(t); eb.Status != tt.status || eb.Code == "" || eb.Message == "" {
					t.Fatalf("error body %+v", eb)
				}
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

type msgArchivePage struct {
	Conversations []struct {
		ConversationID int64    `json:"conversationID"`
		ChatRoom       string   `json:"chatRoom"`
		Participants   []string `json:"participantList"`
		MessageCount   int      `json:"messageCount"`
		Messages       []struct {
			From, To, Body, StanzaID string
			ID                       string `json:"id"`
			OriginID                 string `json:"originId"`
			SentDate                 time.Time
			RoomEvent                bool
		} `json:"messages"`
	} `json:"conversations"`
	First, Last string
	Complete    bool
}

func (c msgArchivePage) bodies() []string {
	var out []string
	for _, cv := range c.Conversations {
		for _, m := range cv.Messages {
			out = append(out, m.Body)
		}
	}
	return out
}

func TestIntegrationMessagingArchive(t *testing.T) {
	e := newGateway(t, nil)
	a, b, c := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tb := e.Login(t, a.Name, a.Password), e.Login(t, b.Name, b.Password)
	e.Login(t, c.Name, c.Password)

	var sent []string
	send := func(tok, to, body string) {
		t.Helper()
		if r := e.Do(t, "POST", api+"/chat/message/"+to, tok, "text/plain", body); r.Status != 200 {
			t.Fatalf("send: %d %s", r.Status, r.Body)
		}
	}
	for i := range 5 {
		body := fmt.Sprintf("a to b %d", i)
		send(ta, b.Name, body)
		sent = append(sent, body)
	}
	send(tb, a.Name, "b to a zebra")
	send(tb, a.Name, "b to a 2")
	r := e.Do(t, "POST", api+"/chat/message/"+c.Name, ta, "text/plain", "a to c")
	if r.Status != 200 {
		t.Fatalf("send to c: %d %s", r.Status, r.Body)
	}
	var toC struct{ ID string }
	if r.JSON(t, &toC); toC.ID == "" {
		t.Fatalf("send to c answered no id: %s", r.Body)
	}

	get := func(t *testing.T, q string) msgArchivePage {
		t.Helper()
		r := e.Do(t, "GET", api+"/chat/messages"+q, ta, "", "")
		if r.Status != 200 {
			t.Fatalf("GET /chat/messages%s: %d %s", q, r.Status, r.Body)
		}
		var cv msgArchivePage
		r.JSON(t, &cv)
		return cv
	}
	msgEventually(t, 10*time.Second, func() string {
		if n := len(get(t, "").bodies()); n != 8 {
			return fmt.Sprintf("%d archived messages, want 8", n)
		}
		return ""
	})

	// Messages from two senders reach the archive in the server's order,
	// not necessarily the order of the API calls: compare with it.
	full := get(t, "?to="+b.Name).bodies()
	today := time.Now().UTC()
	mmddyy := func(t time.Time) string { return url.QueryEscape(t.Format("01/02/06")) }
	calls := []msgCall{
		{name: "all grouped", method: "GET", path: api + "/chat/messages", token: ta, status: 200, check: func(t *testing.T, r gatewaytest.Response) {
			var cv msgArchivePage
			r.JSON(t, &cv)
			if len(cv.Conversations) != 2 || !cv.Complete {
				t.Fatalf("got %+v", cv)
			}
			byPeer := map[string]int{}
			for _, c := range cv.Conversations {
				if len(c.Participants) != 2 || c.MessageCount != len(c.Messages) {
					t.Fatalf("conversation %+v", c)
				}
				byPeer[c.Participants[1]] = len(c.Messages)
			}
			if byPeer[b.JID] != 7 || byPeer[c.JID] != 1 {
				t.Fatalf("per peer %v", byPeer)
			}
		}},
		{name: "to peer", method: "GET", path: api + "/chat/messages?to=" + c.Name, token: ta, status: 200, check: func(t *testing.T, r gatewaytest.Response) {
			var cv msgArchivePage
			r.JSON(t, &cv)
			if got := cv.bodies(); len(got) != 1 || got[0] != "a to c" {
				t.Fatalf("got %v", got)
			}
			// The archive says the message's id (and origin-id) in JSON,
			// the id the send answered: no XML to read.
			if m := cv.Conversations[0].Messages[0]; m.ID != toC.ID || m.OriginID != toC.ID {
				t.Fatalf("archived id %q, origin-id %q; the send answered id %q", m.ID, m.OriginID, toC.ID)
			}
		}},
		{name: "start today", method: "GET", path: api + "/chat/messages?start=" + mmddyy(today), token: ta, status: 200, check: func(t *testing.T, r gatewaytest.Response) {
			var cv msgArchivePage
			r.JSON(t, &cv)
			if n := len(cv.bodies()); n != 8 {
				t.Fatalf("%d messages, want 8", n)
			}
		}},
		{name: "start tomorrow", method: "GET", path: api + "/chat/messages?start=" + mmddyy(today.AddDate(0, 0, 1)), token: ta, status: 200, check: func(t *testing.T, r gatewaytest.Response) {
			var cv msgArchivePage
			r.JSON(t, &cv)
			if n := len(cv.bodies()); n != 0 {
				t.Fatalf("%d messages, want 0", n)
			}
		}},
		{name: "end yesterday", method: "GET", path: api + "/chat/messages?end=" + mmddyy(today.AddDate(0, 0, -1)), token: ta, status: 200, check: func(t *testing.T, r gatewaytest.Response) {
			var cv msgArchivePage
			r.JSON(t, &cv)
			if n := len(cv.bodies()); n != 0 {
				t.Fatalf("%d messages, want 0", n)
			}
		}},
		{name: "rfc3339 window", method: "GET", path: api + "/chat/messages?start=" + url.QueryEscape(today.Add(-time.Hour).Format(time.RFC3339)) + "&end=" + url.QueryEscape(today.Add(time.Hour).Format(time.RFC3339)), token: ta, status: 200, check: func(t *testing.T, r gatewaytest.Response) {
			var cv msgArchivePage
			r.JSON(t, &cv)
			if n := len(cv.bodies()); n != 8 {
				t.Fatalf("%d messages, want 8", n)
			}
		}},
		{name: "keywords", method: "GET", path: api + "/chat/messages?keywords=zebra", token: ta, status: 200, check: func(t *testing.T, r gatewaytest.Response) {
			var cv msgArchivePage
			r.JSON(t, &cv)
			if got := cv.bodies(); len(got) != 1 || got[0] != "b to a zebra" {
				t.Fatalf("got %v", got)
			}
		}},
		{name: "last page", method: "GET", path: api + "/chat/messages?to=" + b.Name + "&max=2&before=", token: ta, status: 200, check: func(t *testing.T, r gatewaytest.Response) {
			var cv msgArchivePage
			r.JSON(t, &cv)
			if got := cv.bodies(); strings.Join(got, "|") != strings.Join(full[len(full)-2:], "|") {
				t.Fatalf("got %v", got)
			}
		}},
		{name: "bad date", method: "GET", path: api + "/chat/messages?start=" + url.QueryEscape("13/45/26"), token: ta, status: 400},
		{name: "end before start", method: "GET", path: api + "/chat/messages?start=2026-01-02&end=2026-01-01", token: ta, status: 400},
		{name: "before and after", method: "GET", path: api + "/chat/messages?before=x&after=y", token: ta, status: 400},
		{name: "max zero", method: "GET", path: api + "/chat/messages?max=0", token: ta, status: 400},
		{name: "no token", method: "GET", path: api + "/chat/messages", status: 401},
	}
	runMsgCalls(t, e, calls)

	t.Run("paged", func(t *testing.T) {
		var got []string
		after := ""
		for page := 0; ; page++ {
			if page > 5 {
				t.Fatal("too many pages")
			}
			q := "?to=" + b.Name + "&max=3"
			if after != "" {
				q += "&after=" + url.QueryEscape(after)
			}
			cv := get(t, q)
			got = append(got, cv.bodies()...)
			if cv.Complete {
				break
			}
			if len(cv.bodies()) != 3 || cv.Last == "" {
				t.Fatalf("page %d: %+v", page, cv)
			}
			after = cv.Last
		}
		if strings.Join(got, "|") != strings.Join(full, "|") || len(got) != 7 {
			t.Fatalf("pages gave %q, want %q", got, full)
		}
		// Each sender's messages keep their order.
		var mine []string
		for _, g := range got {
			if strings.HasPrefix(g, "a to b") {
				mine = append(mine, g)
			}
		}
		if strings.Join(mine, "|") != strings.Join(sent, "|") {
			t.Fatalf("a's messages in order %q, want %q", mine, sent)
		}
	})
}

type msgRoomMessages struct {
	Messages []struct {
		From, Body, StanzaID, Type string
	} `json:"messages"`
	Complete    bool
	First, Last string
}

// rawStanza posts a raw stanza through POST /xmpp.
func msgPostStanza(t *testing.T, e *env, tok, xml string) {
	t.Helper()
	if r := e.Do(t, "POST", api+"/xmpp", tok, "text/plain", xml); r.Status != 200 {
		t.Fatalf("POST /xmpp: %d %s", r.Status, r.Body)
	}
}

// msgConfigureRoom submits room configuration fields as the owner, through
// POST /xmpp, and waits for the room's answer on the event stream.
func msgConfigureRoom(t *testing.T, e *env, tok string, s *gatewaytest.Stream, room string, fields map[string]string) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, `<iq type="set" to="%s" id="cfg%d"><query xmlns="http://jabber.org/protocol/muc#owner"><x xmlns="jabber:x:data" type="submit">`, room, time.Now().UnixNano())
	b.WriteString(`<field var="FORM_TYPE"><value>http://jabber.org/protocol/muc#roomconfig</value></field>`)
	for k, v := range fields {
		fmt.Fprintf(&b, `<field var="%s"><value>%s</value></field>`, k, v)
	}
	b.WriteString(`</x></query></iq>`)
	msgPostStanza(t, e, tok, b.String())
	var ev chatapi.XMPP
	s.NextNamed(t, chatapi.EventXMPP, 10*time.Second, &ev)
	if !strings.Contains(string(ev.XMPP), `type="result"`) && !strings.Contains(string(ev.XMPP), `type='result'`) {
		t.Fatalf("room configuration refused: %s", ev.XMPP)
	}
}

func TestIntegrationMessagingRooms(t *testing.T) {
	e := newGateway(t, nil)
	srv := ejabberdtest.Shared(t)
	a, b, c := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tb, tc := e.Login(t, a.Name, a.Password), e.Login(t, b.Name, b.Password), e.Login(t, c.Name, c.Password)
	sa, _ := e.OpenRaw(t, ta, "")
	sb, _ := e.Open(t, tb, "")
	sc, _ := e.Open(t, tc, "")
	for _, s := range []*gatewaytest.Stream{sa, sb, sc} {
		s.NextNamed(t, chatapi.EventConnect, 5*time.Second, nil)
	}
	room := "r" + strings.ToLower(a.Name[1:9])
	roomJID := room + "@" + srv.MUCService()
	rp := api + "/groupchat/room/" + room

	runMsgCalls(t, e, []msgCall{
		{name: "info before it exists", method: "GET", path: rp, token: ta, status: 404},
		{name: "join creates", method: "PUT", path: rp + "?nick=alice", token: ta, status: 200},
		{name: "second joins", method: "PUT", path: rp + "?nick=bob", token: tb, status: 200},
		{name: "join again", method: "PUT", path: rp + "?nick=bob", token: tb, status: 200},
		{name: "bad room name", method: "PUT", path: api + "/groupchat/room/a%40b", token: ta, status: 400},
		{name: "nick taken", method: "PUT", path: rp + "?nick=bob", token: tc, status: 409},
		{name: "join on a missing service", method: "PUT", path: rp + "?serviceName=nosuchservice", token: ta, status: 404},
		{name: "join no token", method: "PUT", path: rp, status: 401},
	})

	// post → both get chatapi.muc
	var posted []string
	t.Run("post", func(t *testing.T) {
		for i, tok := range []string{ta, tb} {
			body := fmt.Sprintf("hello room %d", i)
			r := e.Do(t, "POST", rp, tok, "text/plain", body)
			if r.Status != 200 {
				t.Fatalf("post: %d %s", r.Status, r.Body)
			}
			posted = append(posted, body)
			for _, s := range []*gatewaytest.Stream{sa, sb} {
				var m chatapi.GroupChat
				for m.Body != body {
					s.NextNamed(t, chatapi.EventMUC, 10*time.Second, &m)
				}
				if m.Type != "groupchat" || !strings.HasPrefix(m.From, roomJID+"/") {
					t.Fatalf("muc event %+v", m)
				}
			}
		}
	})
	runMsgCalls(t, e, []msgCall{
		{name: "post not joined", method: "POST", path: rp, token: tc, ct: "text/plain", body: "hi", status: 403},
		{name: "post missing room", method: "POST", path: rp + "nosuch", token: ta, ct: "text/plain", body: "hi", status: 404},
		{name: "post empty", method: "POST", path: rp, token: ta, ct: "text/plain", body: "", status: 400},
	})

	occ := func(kind string) msgCall {
		return msgCall{name: kind + " both", method: "GET", path: rp + "/" + kind, token: ta, status: 200, check: func(t *testing.T, r gatewaytest.Response) {
			var v map[string][]struct{ Jid, Role, Affiliation string }
			r.JSON(t, &v)
			var jids []string
			for _, o := range v[kind] {
				jids = append(jids, o.Jid)
			}
			if strings.Join(jids, ",") != roomJID+"/alice,"+roomJID+"/bob" {
				t.Fatalf("%s: %+v", kind, v)
			}
		}}
	}
	runMsgCalls(t, e, []msgCall{
		occ("occupants"),
		occ("participants"),
		{name: "occupants missing room", method: "GET", path: rp + "nosuch/occupants", token: ta, status: 404},
		{name: "participants missing room", method: "GET", path: rp + "nosuch/participants", token: ta, status: 404},
		{name: "info", method: "GET", path: rp, token: ta, status: 200, check: func(t *testing.T, r gatewaytest.Response) {
			var v map[string]any
			r.JSON(t, &v)
			if v["roomName"] != room || v["publicRoom"] != true {
				t.Fatalf("room %v", v)
			}
			if _, ok := v["password"]; ok {
				t.Fatal("password in the response")
			}
		}},
		{name: "list", method: "GET", path: api + "/groupchat/rooms?search=" + room[:6], token: tc, status: 200, check: func(t *testing.T, r gatewaytest.Response) {
			var v struct{ ChatRooms []struct{ RoomName string } }
			r.JSON(t, &v)
			if len(v.ChatRooms) != 1 || v.ChatRooms[0].RoomName != room {
				t.Fatalf("rooms %+v", v)
			}
		}},
		{name: "list all", method: "GET", path: api + "/groupchat/rooms?type=all", token: ta, status: 200, check: func(t *testing.T, r gatewaytest.Response) {
			var v struct{ ChatRooms []struct{ RoomName string } }
			r.JSON(t, &v)
			found := false
			for _, c := range v.ChatRooms {
				found = found || c.RoomName == room
			}
			if !found {
				t.Fatalf("rooms %+v", v)
			}
		}},
		{name: "list not a muc service", method: "GET", path: api + "/groupchat/rooms?serviceName=" + url.QueryEscape(srv.PubSubService()), token: tc, status: 404},
		{name: "list bad type", method: "GET", path: api + "/groupchat/rooms?type=secret", token: ta, status: 400},
		{name: "list missing service", method: "GET", path: api + "/groupchat/rooms?serviceName=nosuchservice", token: tc, status: 404},
		{name: "history", method: "GET", path: rp + "/chathistory", token: tc, status: 200, check: func(t *testing.T, r gatewaytest.Response) {
			var v msgRoomMessages
			r.JSON(t, &v)
			var got []string
			for _, m := range v.Messages {
				got = append(got, m.Body)
			}
			if strings.Join(got, "|") != strings.Join(posted, "|") || !v.Complete {
				t.Fatalf("history %+v", v)
			}
		}},
		{name: "history paged", method: "GET", path: rp + "/chathistory?max=1", token: ta, status: 200, check: func(t *testing.T, r gatewaytest.Response) {
			var v msgRoomMessages
			r.JSON(t, &v)
			if len(v.Messages) != 1 || v.Messages[0].Body != posted[0] || v.Complete || v.Last == "" {
				t.Fatalf("history %+v", v)
			}
		}},
		{name: "history missing room", method: "GET", path: rp + "nosuch/chathistory", token: ta, status: 404},
		{name: "groupchat messages", method: "GET", path: api + "/groupchat/messages", token: ta, status: 200, check: func(t *testing.T, r gatewaytest.Response) {
			var v msgArchivePage
			r.JSON(t, &v)
			if len(v.Conversations) != 1 || v.Conversations[0].ChatRoom != roomJID || strings.Join(v.bodies(), "|") != strings.Join(posted, "|") {
				t.Fatalf("got %+v", v)
			}
		}},
		{name: "groupchat messages of a room", method: "GET", path: api + "/groupchat/messages?room=" + room + "&keywords=room+1", token: tc, status: 200, check: func(t *testing.T, r gatewaytest.Response) {
			var v msgArchivePage
			r.JSON(t, &v)
			if got := v.bodies(); len(got) != 1 || got[0] != posted[1] {
				t.Fatalf("got %v", got)
			}
		}},
		{name: "groupchat messages missing room", method: "GET", path: api + "/groupchat/messages?room=" + room + "nosuch", token: tc, status: 404},
	})

	t.Run("invite", func(t *testing.T) {
		r := e.Do(t, "POST", rp+"/"+c.Name, ta, "text/plain", "come and chat")
		if r.Status != 200 {
			t.Fatalf("invite: %d %s", r.Status, r.Body)
		}
		var inv chatapi.Invitation
		for inv.Type != chatapi.TypeInvitationReceived {
			sc.NextNamed(t, chatapi.EventMUC, 10*time.Second, &inv)
		}
		if inv.Room != roomJID || inv.Reason != "come and chat" || !strings.HasPrefix(inv.Inviter, a.JID) {
			t.Fatalf("invitation %+v", inv)
		}
	})
	runMsgCalls(t, e, []msgCall{
		{name: "invite not joined", method: "POST", path: rp + "/" + a.Name, token: tc, ct: "text/plain", body: "x", status: 403},
		{name: "invite missing room", method: "POST", path: rp + "nosuch/" + c.Name, token: ta, ct: "text/plain", body: "x", status: 404},
	})

	// A members-only, hidden room and a password room.
	closed, secret := room+"m", room+"p"
	runMsgCalls(t, e, []msgCall{
		{name: "create closed", method: "PUT", path: api + "/groupchat/room/" + closed, token: ta, status: 200},
		{name: "create secret", method: "PUT", path: api + "/groupchat/room/" + secret, token: ta, status: 200},
	})
	saRaw := sa
	msgConfigureRoom(t, e, ta, saRaw, closed+"@"+srv.MUCService(), map[string]string{"muc#roomconfig_membersonly": "1", "muc#roomconfig_publicroom": "0"})
	msgConfigureRoom(t, e, ta, saRaw, secret+"@"+srv.MUCService(), map[string]string{"muc#roomconfig_passwordprotectedroom": "1", "muc#roomconfig_roomsecret": "s3cret"})
	runMsgCalls(t, e, []msgCall{
		{name: "members only", method: "PUT", path: api + "/groupchat/room/" + closed, token: tb, status: 403},
		{name: "hidden info", method: "GET", path: api + "/groupchat/room/" + closed, token: tb, status: 403},
		{name: "hidden history", method: "GET", path: api + "/groupchat/room/" + closed + "/chathistory", token: tb, status: 403},
		{name: "hidden occupants", method: "GET", path: api + "/groupchat/room/" + closed + "/occupants", token: tb, status: 403},
		{name: "owner info", method: "GET", path: api + "/groupchat/room/" + closed, token: ta, status: 200, check: func(t *testing.T, r gatewaytest.Response) {
			var v map[string]any
			r.JSON(t, &v)
			if v["membersOnly"] != true || v["publicRoom"] != false {
				t.Fatalf("room %v", v)
			}
		}},
		{name: "no password", method: "PUT", path: api + "/groupchat/room/" + secret, token: tb, status: 403},
		{name: "wrong password", method: "PUT", path: api + "/groupchat/room/" + secret + "?password=nope", token: tb, status: 403},
		{name: "password", method: "PUT", path: api + "/groupchat/room/" + secret + "?password=s3cret", token: tb, status: 200},
		{name: "secret info has no password", method: "GET", path: api + "/groupchat/room/" + secret, token: ta, status: 200, check: func(t *testing.T, r gatewaytest.Response) {
			if strings.Contains(string(r.Body), "s3cret") {
				t.Fatalf("password leaked: %s", r.Body)
			}
		}},
	})

	occupantsAre := func(want string) func(t *testing.T, r gatewaytest.Response) {
		return func(t *testing.T, r gatewaytest.Response) {
			var v struct{ Occupants []struct{ Jid string } }
			r.JSON(t, &v)
			var got []string
			for _, o := range v.Occupants {
				got = append(got, strings.TrimPrefix(o.Jid, roomJID+"/"))
			}
			if strings.Join(got, ",") != want {
				t.Fatalf("occupants %v, want %s", got, want)
			}
		}
	}
	runMsgCalls(t, e, []msgCall{
		{name: "third joins", method: "PUT", path: rp + "?nick=carol", token: tc, status: 200},
		{name: "leave", method: "DELETE", path: rp, token: tb, status: 200},
		{name: "leave again", method: "DELETE", path: rp, token: tb, status: 404},
		{name: "post after leaving", method: "POST", path: rp, token: tb, ct: "text/plain", body: "x", status: 403},
		// carol leaves while bob is away: bob is not told, and must not
		// see her when he comes back.
		{name: "third leaves", method: "DELETE", path: rp, token: tc, status: 200},
		{name: "rejoin", method: "PUT", path: rp + "?nick=bob", token: tb, status: 200},
		{name: "occupants after rejoin", method: "GET", path: rp + "/occupants", token: tb, status: 200, check: occupantsAre("alice,bob")},
	})
}

type msgRosterItem struct {
	Jid              string
	Nickname         string
	SubscriptionType int
	Groups           []string
	Show, Status     string
	Ask              string
}

func TestIntegrationMessagingRoster(t *testing.T) {
	e := newGateway(t, nil)
	a, b, c := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tb := e.Login(t, a.Name, a.Password), e.Login(t, b.Name, b.Password)
	e.Login(t, c.Name, c.Password)

	roster := func(t *testing.T, tok, path string) map[string]msgRosterItem {
		t.Helper()
		r := e.Do(t, "GET", api+path, tok, "", "")
		if r.Status != 200 {
			t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
		}
		var v struct{ Roster []msgRosterItem }
		r.JSON(t, &v)
		out := map[string]msgRosterItem{}
		for _, it := range v.Roster {
			out[it.Jid] = it
		}
		return out
	}
	item := func(jid, nick string, sub int, groups ...string) string {
		if groups == nil {
			groups = []string{}
		}
		b, _ := json.Marshal(map[string]any{"jid": jid, "nickname": nick, "subscriptionType": sub, "groups": groups})
		return string(b)
	}

	runMsgCalls(t, e, []msgCall{
		{name: "add", method: "POST", path: api + "/roster", token: ta, ct: "application/json", body: item(b.JID, "Bee", 1, "friends"), status: 200},
		{name: "add again", method: "POST", path: api + "/roster", token: ta, ct: "application/json", body: item(b.JID, "Bee", 1), status: 409},
		{name: "add bad jid", method: "POST", path: api + "/roster", token: ta, ct: "application/json", body: item("a@b@c", "x", 0), status: 400},
		{name: "add bad subscription", method: "POST", path: api + "/roster", token: ta, ct: "application/json", body: item(c.JID, "x", 7), status: 400},
		{name: "add no token", method: "POST", path: api + "/roster", ct: "application/json", body: item(c.JID, "x", 0), status: 401},
		{name: "request pending", method: "GET", path: api + "/presence/roster", token: ta, status: 200, check: func(t *testing.T, _ gatewaytest.Response) {
			if it := roster(t, ta, "/presence/roster")[b.JID]; it.Ask != "subscribe" || it.SubscriptionType != 0 {
				t.Fatalf("a's item for b before b answers: %+v; want ask subscribe", it)
			}
		}},
		// b approves a's request and asks back: both ways.
		{name: "approve", method: "POST", path: api + "/roster", token: tb, ct: "application/json", body: item(a.JID, "Ay", 3), status: 200},
	})
	msgEventually(t, 10*time.Second, func() string {
		if it := roster(t, ta, "/roster")[b.JID]; it.SubscriptionType != 1 {
			return fmt.Sprintf("a's item for b: %+v", it)
		}
		return ""
	})
	// a approves b's request (ejabberd 23.01 ignores pre-approvals, so the
	// approval is sent once the request is there).
	runMsgCalls(t, e, []msgCall{
		{name: "approve back", method: "PUT", path: api + "/roster/" + b.JID, token: ta, ct: "application/json", body: `{"jid":"` + b.JID + `","subscriptionType":3}`, status: 200},
	})
	msgEventually(t, 10*time.Second, func() string {
		if it := roster(t, ta, "/roster")[b.JID]; it.SubscriptionType != 3 {
			return fmt.Sprintf("a's item for b: %+v", it)
		}
		return ""
	})
	runMsgCalls(t, e, []msgCall{
		{name: "get", method: "GET", path: api + "/roster", token: ta, status: 200, check: func(t *testing.T, r gatewaytest.Response) {
			var v struct{ Roster []msgRosterItem }
			r.JSON(t, &v)
			if len(v.Roster) != 1 || v.Roster[0].Nickname != "Bee" || strings.Join(v.Roster[0].Groups, ",") != "friends" || v.Roster[0].Ask != "" {
				t.Fatalf("roster %+v", v)
			}
		}},
		{name: "update", method: "PUT", path: api + "/roster/" + b.JID, token: ta, ct: "application/json", body: `{"jid":"` + b.JID + `","nickname":"Bea","groups":["work","family"]}`, status: 200, check: func(t *testing.T, _ gatewaytest.Response) {
			it := roster(t, ta, "/roster")[b.JID]
			if it.Nickname != "Bea" || len(it.Groups) != 2 || it.SubscriptionType != 3 {
				t.Fatalf("after update %+v", it)
			}
		}},
		{name: "update mismatch", method: "PUT", path: api + "/roster/" + b.JID, token: ta, ct: "application/json", body: `{"jid":"` + c.JID + `"}`, status: 400},
		{name: "update missing", method: "PUT", path: api + "/roster/" + c.Name, token: ta, ct: "application/json", body: `{"jid":"` + c.JID + `"}`, status: 404},
	})

	if r := e.Do(t, "POST", api+"/presence?show=away&status=lunch", tb, "", ""); r.Status != 200 {
		t.Fatalf("presence: %d %s", r.Status, r.Body)
	}
	msgEventually(t, 10*time.Second, func() string {
		if it := roster(t, ta, "/presence/roster")[b.JID]; it.Show != "away" || it.Status != "lunch" {
			return fmt.Sprintf("roster presence of b: %+v", it)
		}
		return ""
	})
	runMsgCalls(t, e, []msgCall{
		{name: "probe subscribed", method: "GET", path: api + "/presence/" + b.Name, token: ta, status: 200, check: func(t *testing.T, r gatewaytest.Response) {
			var p struct{ Username, Show, Status string }
			r.JSON(t, &p)
			if p.Username != b.JID || p.Show != "away" || p.Status != "lunch" {
				t.Fatalf("presence %+v", p)
			}
		}},
		// Their own: what they set, on another device (login) too; never set: available.
		{name: "probe own", method: "GET", path: api + "/presence/" + url.PathEscape(b.JID), token: e.Login(t, b.Name, b.Password), status: 200, check: func(t *testing.T, r gatewaytest.Response) {
			var p struct{ Username, Show, Status string }
			r.JSON(t, &p)
			if p.Username != b.JID || p.Show != "away" || p.Status != "lunch" {
				t.Fatalf("own presence %+v", p)
			}
		}},
		{name: "probe own never set", method: "GET", path: api + "/presence/" + c.Name, token: e.Login(t, c.Name, c.Password), status: 200, check: func(t *testing.T, r gatewaytest.Response) {
			var p struct{ Username, Show, Status string }
			r.JSON(t, &p)
			if p.Username != c.JID || p.Show != "available" || p.Status != "" {
				t.Fatalf("own presence %+v", p)
			}
		}},
		{name: "probe not subscribed", method: "GET", path: api + "/presence/" + c.Name, token: ta, status: 403},
		{name: "probe bad jid", method: "GET", path: api + "/presence/" + url.PathEscape("a@b/"), token: ta, status: 400},
		{name: "roster presence", method: "GET", path: api + "/presence/roster", token: ta, status: 200},
		{name: "roster presence no token", method: "GET", path: api + "/presence/roster", status: 401},
		{name: "delete", method: "DELETE", path: api + "/roster/" + b.JID, token: ta, status: 200, check: func(t *testing.T, _ gatewaytest.Response) {
			if _, ok := roster(t, ta, "/roster")[b.JID]; ok {
				t.Fatal("still in the roster")
			}
		}},
		{name: "delete again", method: "DELETE", path: api + "/roster/" + b.JID, token: ta, status: 404},
		{name: "probe after delete", method: "GET", path: api + "/presence/" + b.Name, token: ta, status: 403},
		{name: "add c", method: "POST", path: api + "/roster", token: ta, ct: "application/json", body: item(c.JID, "", 0), status: 200},
		{name: "remove by update", method: "PUT", path: api + "/roster/" + c.Name, token: ta, ct: "application/json", body: `{"jid":"` + c.JID + `","subscriptionType":-1}`, status: 200, check: func(t *testing.T, _ gatewaytest.Response) {
			if _, ok := roster(t, ta, "/roster")[c.JID]; ok {
				t.Fatal("still in the roster")
			}
		}},
	})
}

// TestIntegrationMessagingTimeout: an XMPP round trip that outlives the
// messaging timeout is a 504.
func TestIntegrationMessagingTimeout(t *testing.T) {
	e := newGateway(t, func(c *gateway.Config) { c.Messaging.Timeout = time.Second })
	a := ejabberdtest.NewUser(t)
	ta := e.Login(t, a.Name, a.Password)
	// The upload service ignores a room join's presence: no answer comes.
	svc := url.QueryEscape(ejabberdtest.Shared(t).UploadService())
	runMsgCalls(t, e, []msgCall{
		{name: "join unanswered", method: "PUT", path: api + "/groupchat/room/lobby?serviceName=" + svc, token: ta, status: 504},
		{name: "roster still works", method: "GET", path: api + "/roster", token: ta, status: 200},
	})
}

func TestIntegrationMessagingStanza(t *testing.T) {
	e := newGateway(t, nil)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tb := e.Login(t, a.Name, a.Password), e.Login(t, b.Name, b.Password)
	sa, _ := e.OpenRaw(t, ta, "")
	sb, _ := e.Open(t, tb, "")
	sa.NextNamed(t, chatapi.EventConnect, 5*time.Second, nil)
	sb.NextNamed(t, chatapi.EventConnect, 5*time.Second, nil)

	deep := strings.Repeat("<x>", 40) + strings.Repeat("</x>", 40)
	runMsgCalls(t, e, []msgCall{
		{name: "message", method: "POST", path: api + "/xmpp", token: ta, ct: "text/plain", status: 200,
			body: `<message to="` + b.JID + `" from="mallory@evil.example" type="chat" id="raw1"><body>raw &amp; real</body></message>`,
			check: func(t *testing.T, _ gatewaytest.Response) {
				var m chatapi.Chat
				sb.NextNamed(t, chatapi.EventChat, 10*time.Second, &m)
				if m.Body != "raw & real" || !strings.HasPrefix(m.From, a.JID+"/") || m.ID != "raw1" {
					t.Fatalf("got %+v", m)
				}
			}},
		{name: "iq", method: "POST", path: api + "/xmpp", token: ta, ct: "text/plain", status: 200,
			body: `<iq type="get" id="ros1"><query xmlns="jabber:iq:roster"/></iq>`,
			check: func(t *testing.T, r gatewaytest.Response) {
				// The reply is the response, and reaches the event stream.
				var got struct{ XMPP []byte }
				if err := json.Unmarshal(r.Body, &got); err != nil {
					t.Fatalf("response %s: %v", r.Body, err)
				}
				var x chatapi.XMPP
				sa.NextNamed(t, chatapi.EventXMPP, 10*time.Second, &x)
				if s := string(x.XMPP); !strings.Contains(s, "ros1") || !strings.Contains(s, "result") || s != string(got.XMPP) {
					t.Fatalf("reply %s, response %s", s, got.XMPP)
				}
			}},
		{name: "iq answered with an error", method: "POST", path: api + "/xmpp", token: ta, ct: "text/plain", status: 200,
			body: `<iq type="get" id="err1" to="nosuchroom-` + strings.ToLower(a.Name) + `@` + ejabberdtest.Shared(t).MUCService() + `"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`,
			check: func(t *testing.T, r gatewaytest.Response) {
				// The addressee's error reply is the answer, not a failure.
				var got struct{ XMPP []byte }
				if err := json.Unmarshal(r.Body, &got); err != nil || !strings.Contains(string(got.XMPP), `type="error"`) && !strings.Contains(string(got.XMPP), `type='error'`) {
					t.Fatalf("response %s: %v", r.Body, err)
				}
			}},
		{name: "self-closed presence", method: "POST", path: api + "/xmpp", token: ta, ct: "text/plain", body: `<presence/>`, status: 200},
		{name: "dtd", method: "POST", path: api + "/xmpp", token: ta, ct: "text/plain", body: `<!DOCTYPE message [<!ENTITY x "y">]><message to="b@x"><body>&x;</body></message>`, status: 400},
		{name: "entity", method: "POST", path: api + "/xmpp", token: ta, ct: "text/plain", body: `<message to="b@x"><body>&x;</body></message>`, status: 400},
		{name: "two roots", method: "POST", path: api + "/xmpp", token: ta, ct: "text/plain", body: `<message/><message/>`, status: 400},
		{name: "deep", method: "POST", path: api + "/xmpp", token: ta, ct: "text/plain", body: `<message>` + deep + `</message>`, status: 400},
		{name: "wrong root", method: "POST", path: api + "/xmpp", token: ta, ct: "text/plain", body: `<stream:features xmlns:stream="http://etherx.jabber.org/streams"/>`, status: 400},
		{name: "wrong namespace", method: "POST", path: api + "/xmpp", token: ta, ct: "text/plain", body: `<message xmlns="jabber:server"/>`, status: 400},
		{name: "not xml", method: "POST", path: api + "/xmpp", token: ta, ct: "text/plain", body: `hello`, status: 400},
		{name: "unclosed", method: "POST", path: api + "/xmpp", token: ta, ct: "text/plain", body: `<message><body>x</body>`, status: 400},
		{name: "no token", method: "POST", path: api + "/xmpp", ct: "text/plain", body: `<presence/>`, status: 401},
	})
}

// rawSay sends body to the user to with tok.
func rawSay(t *testing.T, e *env, tok, to, body string) {
	t.Helper()
	if r := e.Do(t, "POST", api+"/chat/message/"+to, tok, "text/plain", body); r.Status != 200 {
		t.Fatalf("send: %d %s", r.Status, r.Body)
	}
}

// rawUntilChat reads s up to the chat with body and returns the raw XML
// events seen on the way and the chat's event id.
func rawUntilChat(t *testing.T, s *gatewaytest.Stream, body string) (raws []string, id string) {
	t.Helper()
	for {
		ev := s.Next(t, 10*time.Second)
		switch ev.Name {
		case chatapi.EventXMPP:
			var x chatapi.XMPP
			if err := json.Unmarshal([]byte(ev.Data), &x); err != nil {
				t.Fatal(err)
			}
			raws = append(raws, string(x.XMPP))
		case chatapi.EventChat:
			var c chatapi.Chat
			if err := json.Unmarshal([]byte(ev.Data), &c); err != nil {
				t.Fatal(err)
			}
			if c.Body == body {
				return raws, ev.ID
			}
		}
	}
}

// TestIntegrationRawMadeWhenWanted: raw XML events are made only for a
// user who may read them (xmppconn/rawwanted.go). A stanza that came
// before any stream reaches a first stream that asks for raw XML raw too;
// once the user's streams have all left raw XML out, a
// message makes none, so a raw stream resuming from before it finds only
// the typed event; from that raw stream on, every stanza has its raw event
// again, and a later default stream does not turn them off.
func TestIntegrationRawMadeWhenWanted(t *testing.T) {
	t.Parallel()
	e := newGateway(t, func(c *gateway.Config) { c.Sessions.RawEvents = true })
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	tb := e.Login(t, b.Name, b.Password)
	say := func(body string) { rawSay(t, e, tb, a.Name, body) }
	// until reads s up to the chat with body: how many raw stanzas on the
	// way held body, and the chat's event id.
	until := func(s *gatewaytest.Stream, body string) (int, string) {
		raws, id := rawUntilChat(t, s, body)
		n := 0
		for _, x := range raws {
			if strings.Contains(x, "<body>"+body+"</body>") {
				n++
			}
		}
		return n, id
	}

	// A headline before any stream: live only (no archive, no offline
	// store), so the session's raw event is the only raw form it has.
	ta := e.Login(t, a.Name, a.Password)
	headline := `<message type="headline" to="` + a.JID + `"><body>before any stream</body></message>`
	if r := e.Do(t, "POST", api+"/xmpp", tb, "text/plain", headline); r.Status != 200 {
		t.Fatalf("headline: %d %s", r.Status, r.Body)
	}
	// Given time to arrive before the stream opens (if it came after, the
	// raw stream would have turned raw events on anyway: the check below
	// holds either way, and tests the undecided session when it came first).
	time.Sleep(time.Second)
	first, r := e.OpenRaw(t, ta, "")
	if r.Status != 200 {
		t.Fatalf("open raw: %d %s", r.Status, r.Body)
	}
	if n, _ := until(first, "before any stream"); n != 1 {
		t.Errorf("the first stream, raw, got %d raw events of the headline that came before it, want 1", n)
	}
	first.Close()
	// A new session: a's first one may still be in its grace.
	if r := e.Do(t, "POST", api+"/logout", ta, "", ""); r.Status != 200 {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}

	ta = e.Login(t, a.Name, a.Password)
	lean := e.OpenConnected(t, ta, "")
	say("zero")
	_, zero := until(lean, "zero")
	say("lean")
	if n, _ := until(lean, "lean"); n != 0 {
		t.Errorf("a default stream got %d raw events", n)
	}
	raw, r := e.OpenRaw(t, ta, zero)
	if r.Status != 200 {
		t.Fatalf("open raw: %d %s", r.Status, r.Body)
	}
	if n, _ := until(raw, "lean"); n != 0 {
		t.Errorf("a raw event was made for the message that came while no stream wanted raw XML (%d)", n)
	}
	later := e.OpenConnected(t, ta, "") // does not turn them off again
	say("wanted")
	if n, _ := until(raw, "wanted"); n != 1 {
		t.Errorf("the raw stream got %d raw events of a message after it opened, want 1", n)
	}
	if n, _ := until(later, "wanted"); n != 0 {
		t.Errorf("a default stream got %d raw events", n)
	}
}

// TestIntegrationRawOptIn: chatapi.xmpp, the raw XML of each stanza,
// reaches only the streams that asked for it (?raw=true); a default stream
// gets the typed events alone, and a resume of it goes on past the raw
// events it never saw.
func TestIntegrationRawOptIn(t *testing.T) {
	t.Parallel()
	e := newGateway(t, func(c *gateway.Config) { c.Sessions.RawEvents = true })
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tb := e.Login(t, a.Name, a.Password), e.Login(t, b.Name, b.Password)
	lean := e.OpenConnected(t, ta, "")
	raw, r := e.OpenRaw(t, ta, "")
	if r.Status != 200 {
		t.Fatalf("open raw: %d %s", r.Status, r.Body)
	}
	raw.NextNamed(t, chatapi.EventConnect, 10*time.Second, nil)
	say := func(body string) { rawSay(t, e, tb, a.Name, body) }
	untilChat := func(s *gatewaytest.Stream, body string) ([]string, string) { return rawUntilChat(t, s, body) }
	say("one")
	raws, id := untilChat(lean, "one")
	if len(raws) != 0 {
		t.Errorf("the default stream got chatapi.xmpp: %q", raws)
	}
	lean.Close()
	say("two")
	say("three") // the raw event of a message follows its typed one
	raws, _ = untilChat(raw, "three")
	for _, body := range []string{"one", "two"} {
		if !slices.ContainsFunc(raws, func(x string) bool { return strings.Contains(x, "<body>"+body+"</body>") }) {
			t.Errorf("the raw stream got no chatapi.xmpp with the message %q: %q", body, raws)
		}
	}
	resumed := e.OpenConnected(t, ta, id)
	if raws, _ := untilChat(resumed, "three"); len(raws) != 0 {
		t.Errorf("the resumed default stream got chatapi.xmpp: %q", raws)
	}
}
