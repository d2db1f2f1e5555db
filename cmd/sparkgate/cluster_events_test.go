package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/sse/ssetest"
)

// The kinds of event a stream carries (openapi.yaml's
// x-sparkgate-events), and how TestIntegrationCluster meets each on the
// streams of the nodes that do not hold the user's session:
//
//   - from the user's session, appended to the user's log by the owner:
//     chatapi.chat (message and chat state), chatapi.muc (message,
//     invitation, occupants), chatapi.presence, chatapi.xmpp,
//     chatapi.roster, chatapi.blocklist, chatapi.notify, chatapi.pubsub,
//     chatapi.reaction, chatapi.avatar, chatapi.nick, chatapi.receipt
//     (received and displayed), chatapi.session (reconnecting,
//     connected): each exactly once on every stream (everyEventOnce);
//   - made by the node that served a request, carried to the owner,
//     which appends them: chatapi.unread (a read) and chatapi.request,
//     each asked on a node that does not own the user, exactly once;
//   - made by a stream for itself, never in a log: onConnect (each tap
//     waits for it), chatapi.reset (a resume that cannot replay; the
//     resumes below must have none) and chatapi.close (a stream's end);
//   - chatapi.error is in the catalogue, but no code of the gateway's
//     makes one (an error reply arrives as chatapi.chat of type error).

// expectations are events that must arrive exactly once on each of
// their streams: each is waited for when added, and all are counted
// together at the end (check), after one pause for duplicates.
type expectations struct {
	t      *testing.T
	list   []expectation
	pushes []pushExpectation
}

type expectation struct {
	taps  []*tap
	what  string
	match func(ssetest.Event) bool
}

// once waits until every tap has an event that matches, and remembers
// that each must have exactly one.
func (x *expectations) once(taps []*tap, what string, match func(ssetest.Event) bool) {
	x.t.Helper()
	for _, tp := range taps {
		tp.wait(x.t, match, 1, 20*time.Second)
	}
	x.list = append(x.list, expectation{taps, what, match})
}

// perPush is once for an event the XMPP server may send more than once:
// each tap must have one typed event (match) per raw stanza that carries
// it (all of raw match), and no stanza twice.
func (x *expectations) perPush(taps []*tap, what string, match func(ssetest.Event) bool, raw ...func(ssetest.Event) bool) {
	x.t.Helper()
	x.once(taps, what, match)
	x.list = x.list[:len(x.list)-1]
	x.pushes = append(x.pushes, pushExpectation{expectation{taps, what, match}, raw})
}

type pushExpectation struct {
	expectation
	raw []func(ssetest.Event) bool
}

// check counts, after a pause in which a duplicate would arrive, each
// expected event on each of its streams.
func (x *expectations) check() {
	x.t.Helper()
	time.Sleep(500 * time.Millisecond)
	for _, e := range x.list {
		for _, tp := range e.taps {
			if n := tp.count(e.match); n != 1 {
				x.t.Errorf("stream %s got %s %d times, want once:\n%s", tp.name, e.what, n, tp.matching(e.match))
			}
		}
	}
	for _, e := range x.pushes {
		raw := func(ev ssetest.Event) bool {
			for _, m := range e.raw {
				if !m(ev) {
					return false
				}
			}
			return true
		}
		for _, tp := range e.taps {
			stanzas := map[string]int{}
			tp.mu.Lock()
			for _, ev := range tp.events {
				if raw(ev) {
					stanzas[ev.Data]++
				}
			}
			tp.mu.Unlock()
			n := tp.count(e.match)
			if n != len(stanzas) {
				x.t.Errorf("stream %s got %s %d times, the XMPP server sent it %d times:\n%s", tp.name, e.what, n, len(stanzas), tp.matching(e.match))
			}
			for data, k := range stanzas {
				if k > 1 {
					x.t.Errorf("stream %s got the stanza of %s %d times: %s", tp.name, e.what, k, data)
				}
			}
		}
	}
}

// matching lists the events that match, with their ids.
func (tp *tap) matching(match func(ssetest.Event) bool) string {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	var b strings.Builder
	for _, ev := range tp.events {
		if match(ev) {
			fmt.Fprintf(&b, "  id %s: %s %s\n", ev.ID, ev.Name, ev.Data)
		}
	}
	return b.String()
}

// okOn is ok on node i itself, not through the proxy.
func (c *testCluster) okOn(i int, method, path, tok, ct, body string) gatewaytest.Response {
	c.t.Helper()
	cl := &gatewaytest.Client{Base: "http://" + c.addrs[i], HTTP: &http.Client{Timeout: 30 * time.Second}}
	r, err := cl.DoContext(c.t.Context(), method, "/sparkweb/api/rest"+path, tok, ct, body)
	if err != nil || r.Status != http.StatusOK {
		c.t.Fatalf("%s %s on node %d: %d %s %v", method, path, i+1, r.Status, r.Body, err)
	}
	return r
}

// everyEventOnce makes every kind of event a session delivers or a
// request makes, for a and b (streams sa and sb on every node; their
// sessions on nodes oa and ob), and checks that each arrives exactly
// once on each stream. It returns the room a and b are in.
func everyEventOnce(t *testing.T, c *testCluster, a, b ejabberdtest.User, ta, tb string, sa, sb []*tap, oa, ob int) (room string) {
	srv := ejabberdtest.Shared(t)
	x := &expectations{t: t}
	notA, notB := (oa+1)%len(c.nodes), (ob+1)%len(c.nodes) // nodes that do not own a, b

	// Contacts both ways: a asks, b approves and asks back, a approves.
	nick := "Bee-" + b.Name[:6]
	c.ok("POST", "/roster", ta, "application/json", `{"jid":"`+b.JID+`","nickname":"`+nick+`","subscriptionType":3,"groups":[]}`)
	// ejabberd pushes this item twice (once for the request, once for
	// the pre-approval): one event per push, none added.
	x.perPush(sa, "the roster push of b asked (chatapi.roster)", named(chatapi.EventRoster, nick, `"ask":"subscribe"`), rawHas("ask='subscribe'"), rawHas(b.JID))
	x.once(sb, "a's subscription request (chatapi.presence)", named(chatapi.EventPresence, `"from":"`+a.JID, `"presenceType":"subscribe"`))
	c.ok("POST", "/roster", tb, "application/json", `{"jid":"`+a.JID+`","nickname":"ay","subscriptionType":3,"groups":[]}`)
	atLeast(t, sa, named(chatapi.EventPresence, `"from":"`+b.JID, `"presenceType":"subscribe"`))
	c.ok("PUT", "/roster/"+b.JID, ta, "application/json", `{"jid":"`+b.JID+`","subscriptionType":3}`)
	x.once(sa, "b as a contact both ways (chatapi.roster)", named(chatapi.EventRoster, `"jid":"`+b.JID, `"subscription":"both"`))
	x.once(sb, "a as a contact both ways (chatapi.roster)", named(chatapi.EventRoster, `"jid":"`+a.JID, `"subscription":"both"`))

	// One-to-one: a message, its raw XML, b's unread count, the receipt
	// b's session sends back, a chat state, b's displayed marker (asked
	// on a node that does not own b: the unread count it clears is made
	// there) and a reaction.
	var sent struct{ ID string }
	c.ok("POST", "/chat/message/"+b.Name, ta, "text/plain", "hello across nodes").JSON(t, &sent)
	x.once(sb, "chatapi.chat", named(chatapi.EventChat, `"body":"hello across nodes"`))
	x.once(sb, "chatapi.xmpp", rawHas("hello across nodes"))
	x.once(sb, "b's unread count (chatapi.unread)", named(chatapi.EventUnread, `"jid":"`+a.JID+`","room":false,"count":1`))
	x.once(sa, "b's delivery receipt (chatapi.receipt)", named(chatapi.EventReceipt, sent.ID, `"type":"received"`))
	c.ok("POST", "/chat/chatstate/composing/"+b.Name, ta, "", "")
	x.once(sb, "a chat state", named(chatapi.EventChat, "composing"))
	c.okOn(notB, "POST", "/chat/displayed/"+a.Name+"?id="+url.QueryEscape(sent.ID), tb, "", "")
	x.once(sa, "the displayed receipt", named(chatapi.EventReceipt, sent.ID, `"type":"displayed"`))
	x.once(sb, "the read made on another node (chatapi.unread)", named(chatapi.EventUnread, `"jid":"`+a.JID+`","room":false,"count":0`))
	c.ok("PUT", "/chat/reactions/"+a.Name+"/"+url.PathEscape(sent.ID), tb, "application/json", `["🎉"]`)
	x.once(sa, "chatapi.reaction", named(chatapi.EventReaction, "🎉"))

	// A raw stanza sent on a node that does not own a (POST /xmpp's
	// remote form): a SparkWeb notification for b; an IQ's answer comes
	// back to the caller.
	c.okOn(notA, "POST", "/xmpp", ta, "text/plain", `<message to='`+b.JID+`' type='chat' id='nudge1'><json xmlns='urn:xmpp:json:0'>{"nudge":"across nodes"}</json></message>`)
	x.once(sb, "chatapi.notify", named(chatapi.EventNotify, "across nodes"))
	var iq struct{ XMPP string }
	c.okOn(notA, "POST", "/xmpp", ta, "text/plain", `<iq type='get' id='ver1' to='`+srv.Domain()+`'><query xmlns='jabber:iq:version'/></iq>`).JSON(t, &iq)
	if raw, err := base64.StdEncoding.DecodeString(iq.XMPP); err != nil || !strings.Contains(string(raw), "jabber:iq:version") || !strings.Contains(string(raw), "ver1") {
		t.Errorf("POST /xmpp of an IQ on a node that does not own the user answered %q (%v), want the version reply", iq.XMPP, err)
	}

	// b's profile: an avatar (REST) and a nickname (a raw PEP publish);
	// a, a contact, gets them typed and as pubsub notifications.
	c.ok("PUT", "/avatar", tb, "image/png", tinyPNG(t))
	x.once(sa, "b's avatar (chatapi.avatar)", named(chatapi.EventAvatar, `"jid":"`+b.JID+`"`))
	x.once(sa, "b's avatar metadata (chatapi.pubsub)", named(chatapi.EventPubSub, `"from":"`+b.JID+`"`, "urn:xmpp:avatar:metadata"))
	c.okOn(notB, "POST", "/xmpp", tb, "text/plain", `<iq type='set' id='nick1'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='http://jabber.org/protocol/nick'><item id='current'><nick xmlns='http://jabber.org/protocol/nick'>`+nick+`</nick></item></publish></pubsub></iq>`)
	x.once(sa, "b's nickname (chatapi.nick)", named(chatapi.EventNick, `"jid":"`+b.JID+`"`, nick))

	// b's blocklist, changed on a node that does not own b.
	blocked := "nobody-" + strings.ToLower(b.Name[1:9]) + "@" + srv.Domain()
	c.okOn(notB, "PUT", "/blocklist/"+blocked, tb, "", "")
	x.once(sb, "the block (chatapi.blocklist)", named(chatapi.EventBlocklist, `"action":"block"`, blocked))
	c.okOn(notB, "DELETE", "/blocklist/"+blocked, tb, "", "")
	x.once(sb, "the unblock (chatapi.blocklist)", named(chatapi.EventBlocklist, `"action":"unblock"`, blocked))

	// A stranger asks b; b declines on a node that does not own b.
	z := ejabberdtest.NewUser(t)
	tz := c.login(z)
	c.ok("POST", "/roster", tz, "application/json", `{"jid":"`+b.JID+`","nickname":"zed","subscriptionType":1,"groups":[]}`)
	x.once(sb, "z's subscription request (chatapi.presence)", named(chatapi.EventPresence, `"from":"`+z.JID, `"presenceType":"subscribe"`))
	c.okOn(notB, "POST", "/roster/"+z.JID+"/decline", tb, "", "")
	x.once(sb, "the declined request (chatapi.request)", named(chatapi.EventRequest, `"jid":"`+z.JID+`"`, `"answer":"declined"`))

	// A room: who is in it on entering, b's arrival, a message, b's
	// unread count of it, an invitation.
	room = "cluster" + strings.ToLower(a.Name[1:9])
	roomJID := room + "@" + srv.MUCService()
	c.ok("PUT", "/groupchat/room/"+room+"?nick=ay", ta, "", "")
	x.once(sa, "who is in the room (chatapi.muc occupants)", named(chatapi.EventMUC, `"type":"occupants"`, roomJID))
	c.ok("PUT", "/groupchat/room/"+room+"?nick=bee", tb, "", "")
	x.once(sb, "who is in the room (chatapi.muc occupants)", named(chatapi.EventMUC, `"type":"occupants"`, roomJID))
	x.once(sa, "b's presence in the room", named(chatapi.EventPresence, `"from":"`+roomJID+`/bee"`))
	c.ok("POST", "/groupchat/room/"+room, ta, "text/plain", "hello room")
	x.once(sb, "the room message (chatapi.muc)", named(chatapi.EventMUC, `"body":"hello room"`, "groupchat"))
	x.once(sa, "a's own room message (chatapi.muc)", named(chatapi.EventMUC, `"body":"hello room"`, "groupchat"))
	x.once(sb, "b's unread count of the room (chatapi.unread)", named(chatapi.EventUnread, `"jid":"`+roomJID+`","room":true,"count":1`))
	c.ok("POST", "/groupchat/room/"+room+"/"+b.JID, ta, "text/plain", "come back")
	x.once(sb, "the invitation (chatapi.muc)", named(chatapi.EventMUC, `"type":"invitationReceived"`, "come back"))

	x.check()

	// The XMPP server drops b's connection: b's session reconnects and
	// says so on every stream (and enters its room again, which the
	// checks above would count twice).
	x = &expectations{t: t}
	kick(t, srv.AdminURL(), b)
	x.once(sb, "the session reconnecting (chatapi.session)", named(chatapi.EventSession, `"state":"reconnecting"`))
	x.once(sb, "the session connected again (chatapi.session)", named(chatapi.EventSession, `"state":"connected"`))
	x.check()
	return room
}

// atLeast waits until every tap has an event that matches.
func atLeast(t *testing.T, taps []*tap, match func(ssetest.Event) bool) {
	t.Helper()
	for _, tp := range taps {
		tp.wait(t, match, 1, 20*time.Second)
	}
}

// kick has the XMPP server end u's connections (ejabberd's kick_user).
func kick(t *testing.T, adminURL string, u ejabberdtest.User) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"user": u.Name, "host": u.Domain})
	resp, err := http.Post(strings.TrimSuffix(adminURL, "/")+"/kick_user", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("kick_user %s: %s", u.Name, resp.Status)
	}
}

// tinyPNG is a 2×2 PNG image.
func tinyPNG(t *testing.T) string {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 2, 2))); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}
