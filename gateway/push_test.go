package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
	"github.com/sparkgate/sparkgate/store"
	"github.com/sparkgate/sparkgate/webpush"
	"github.com/sparkgate/sparkgate/webpush/webpushtest"
)

// pushEnv is a gateway with Web Push towards a fake push service that
// checks VAPID and decrypts every notification.
type pushEnv struct {
	*env
	svc     *webpushtest.Service
	keys    webpush.VAPID
	store   *notifyingStore
	admin   ejabberdtest.User
	removed chan string
}

// notifyingStore reports the endpoints the sender removes.
type notifyingStore struct {
	*store.SQLite
	removed chan string
}

func (s *notifyingStore) DeletePushEndpoint(ctx context.Context, user, endpoint string) error {
	err := s.SQLite.DeletePushEndpoint(ctx, user, endpoint)
	select {
	case s.removed <- endpoint:
	default:
	}
	return err
}

func newPushGateway(t *testing.T) *pushEnv {
	t.Helper()
	return newPushGatewayWith(t, nil)
}

// newPushGatewayWith is newPushGateway with changes to its Config, made
// after its Web Push settings.
func newPushGatewayWith(t *testing.T, mod func(*gateway.Config)) *pushEnv {
	t.Helper()
	keys, err := webpush.GenerateVAPID()
	if err != nil {
		t.Fatal(err)
	}
	svc := webpushtest.NewService(t, keys.Public)
	admin := ejabberdtest.NewUser(t)
	var st *notifyingStore
	e := startEnv(t, gatewayenv.Options{Plain: true, Setup: func(c *gateway.Config, sq *store.SQLite, _ *auth.Keys) {
		// The gateway's own store, told when the sender removes an endpoint.
		st = &notifyingStore{SQLite: sq, removed: make(chan string, 16)}
		sender, err := webpush.NewSender(webpush.SenderConfig{
			Keys: keys, Subject: "admin@example.org", Store: st,
			MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
			AllowPrivate: true, // the push service is on loopback
		})
		if err != nil {
			t.Fatal(err)
		}
		// Registered before the gateway's cleanup, so it runs after it.
		t.Cleanup(func() { sender.Close() })
		c.Push = gateway.PushConfig{
			Sender:        sender,
			Store:         st,
			InsecureHosts: []string{"127.0.0.1"},
			Admins:        []string{admin.Name}, // a username means admin@<domain>
			Nodes:         st,
			Rooms:         st,
		}
		if mod != nil {
			mod(c)
		}
	}})
	return &pushEnv{env: e, svc: svc, keys: keys, store: st, admin: admin, removed: st.removed}
}

// contacts puts the users in each other's rosters with a shared roster
// group.
func contacts(t *testing.T, users ...ejabberdtest.User) {
	t.Helper()
	ctx := context.Background()
	adm := ejabberdtest.Admin(t)
	group := fmt.Sprintf("push%d", time.Now().UnixNano())
	if err := adm.CreateGroup(ctx, group, group, "", nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { adm.DeleteGroup(context.Background(), group) })
	for _, u := range users {
		if err := adm.AddGroupMember(ctx, group, u.Name); err != nil {
			t.Fatal(err)
		}
	}
}

// subscribe stores a new subscription of the user and returns it.
func (p *pushEnv) subscribe(t *testing.T, token, resource string) webpushtest.Subscription {
	t.Helper()
	sub := p.svc.Subscribe(t)
	r := p.Do(t, "PUT", api+"/webpush/subscribe/"+resource, token, "application/json", sub.JSON())
	if r.Status != http.StatusOK {
		t.Fatalf("subscribe: %d %s", r.Status, r.Body)
	}
	return sub
}

// pushed is the decrypted payload of a notification.
type pushed struct {
	Subject string `json:"subject"`
	Body    string `json:"body"`
	Data    string `json:"data"`
	Token   string `json:"token"`
	Actions []struct {
		Action string `json:"action"`
		Type   string `json:"type"`
	} `json:"actions"`
}

func (p *pushEnv) next(t *testing.T) (webpushtest.Message, pushed, map[string]string) {
	t.Helper()
	m := p.svc.Next(t, 15*time.Second)
	var n pushed
	if err := json.Unmarshal(m.Plaintext, &n); err != nil {
		t.Fatalf("payload %q: %v", m.Plaintext, err)
	}
	var data map[string]string
	if err := json.Unmarshal([]byte(n.Data), &data); err != nil {
		t.Fatalf("data %q: %v", n.Data, err)
	}
	return m, n, data
}

func TestIntegrationPushVapidKey(t *testing.T) {
	p := newPushGateway(t)
	r := p.Do(t, "GET", api+"/webpush/vapidkey", "", "", "")
	var k struct{ PublicKey string }
	r.JSON(t, &k)
	if r.Status != 200 || k.PublicKey != p.keys.Public {
		t.Fatalf("vapidkey = %d %s, want %s", r.Status, r.Body, p.keys.Public)
	}

	t.Run("off", func(t *testing.T) {
		e := newGateway(t, nil)
		if r := e.Do(t, "GET", api+"/webpush/vapidkey", "", "", ""); r.Status != http.StatusNotImplemented {
			t.Errorf("without push: %d, want 501", r.Status)
		}
	})
}

func TestIntegrationPushSubscribe(t *testing.T) {
	p := newPushGateway(t)
	u := ejabberdtest.NewUser(t)
	tok := p.Login(t, u.Name, u.Password)
	good := p.svc.Subscribe(t)
	httpsSub := webpushtest.Subscription{Endpoint: "https://push.example/x", P256dh: good.P256dh, Auth: good.Auth}
	plain := webpushtest.Subscription{Endpoint: "http://push.example/x", P256dh: good.P256dh, Auth: good.Auth}
	badKey := webpushtest.Subscription{Endpoint: good.Endpoint, P256dh: good.Auth, Auth: good.Auth}
	shortAuth := webpushtest.Subscription{Endpoint: good.Endpoint, P256dh: good.P256dh, Auth: "AAAAAAAAAAAAAAAAAAAA"}
	tests := []struct {
		name, method, path, token, ct, body string
		status                              int
	}{
		{"put-200", "PUT", "/webpush/subscribe/phone", tok, "application/json", good.JSON(), 200},
		{"put-200-text", "PUT", "/webpush/subscribe/laptop", tok, "text/plain", httpsSub.JSON(), 200},
		{"put-200-upsert", "PUT", "/webpush/subscribe/laptop", tok, "application/json", good.JSON(), 200},
		{"put-400-http", "PUT", "/webpush/subscribe/x", tok, "application/json", plain.JSON(), 400},
		{"put-400-p256dh", "PUT", "/webpush/subscribe/x", tok, "application/json", badKey.JSON(), 400},
		{"put-400-auth", "PUT", "/webpush/subscribe/x", tok, "application/json", shortAuth.JSON(), 400},
		{"put-400-not-json", "PUT", "/webpush/subscribe/x", tok, "text/plain", "endpoint", 400},
		{"put-401", "PUT", "/webpush/subscribe/x", "", "application/json", good.JSON(), 401},
		{"delete-200", "DELETE", "/webpush/subscribe/laptop", tok, "", "", 200},
		{"delete-404", "DELETE", "/webpush/subscribe/laptop", tok, "", "", 404},
		{"delete-401", "DELETE", "/webpush/subscribe/phone", "", "", "", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := p.Do(t, tt.method, api+tt.path, tt.token, tt.ct, tt.body)
			if r.Status != tt.status {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, r.Status, r.Body, tt.status)
			}
		})
	}
	subs, err := p.store.PushSubscriptions(context.Background(), u.JID)
	if err != nil || len(subs) != 1 || subs[0].Resource != "phone" || subs[0].Endpoint != good.Endpoint {
		t.Fatalf("stored %+v, %v; want only phone", subs, err)
	}
}

// TestIntegrationPushOffline: a message to a user with no open stream is
// pushed, encrypted, and the reply action answers it as a chat message;
// with a stream open nothing is pushed.
func TestIntegrationPushOffline(t *testing.T) {
	p := newPushGateway(t)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tb := p.Login(t, a.Name, a.Password), p.Login(t, b.Name, b.Password)
	streamA, _ := p.Open(t, ta, "")
	streamA.NextNamed(t, chatapi.EventConnect, 10*time.Second, nil)
	p.subscribe(t, tb, "phone")

	start := time.Now()
	if r := p.Do(t, "POST", api+"/chat/message/"+b.Name, ta, "text/plain", "are you there?"); r.Status != 200 {
		t.Fatalf("send: %d %s", r.Status, r.Body)
	}
	m, n, data := p.next(t)
	t.Logf("message sent → push decrypted by the push service: %v", time.Since(start))
	if n.Body != "are you there?" || n.Subject != a.JID || data["type"] != "chat" || data["from"] != a.JID || n.Token == "" {
		t.Fatalf("notification %+v data %v", n, data)
	}
	if len(n.Actions) != 2 || n.Actions[0].Action != "reply" || n.Actions[0].Type != "text" || n.Actions[1].Action != "open" {
		t.Errorf("actions %+v", n.Actions)
	}
	if m.Urgency != "high" || m.Topic == "" || m.TTL == "0" || m.Subject != "mailto:admin@example.org" {
		t.Errorf("headers urgency=%q topic=%q ttl=%q sub=%q", m.Urgency, m.Topic, m.TTL, m.Subject)
	}
	if strings.Contains(string(m.Plaintext), tb) {
		t.Error("the payload carries the user's access token")
	}

	action := func(value string) string {
		b, _ := json.Marshal(map[string]string{"action": "reply", "type": "text", "data": n.Data, "value": value})
		return string(b)
	}
	forged, _ := json.Marshal(map[string]string{"action": "reply", "data": `{"type":"chat","from":"someone@else"}`, "value": "x"})
	tests := []struct {
		name, token, body string
		status            int
	}{
		{"401-no-token", "", action("pong"), 401},
		{"401-access-token", tb, action("pong"), 401},
		{"401-other-conversation", n.Token, string(forged), 401},
		{"400-unknown-action", n.Token, `{"action":"dance","data":` + mustJSON(n.Data) + `}`, 400},
		{"400-empty-reply", n.Token, action(""), 400},
		{"200-reply", n.Token, action("pong"), 200},
		{"401-reused", n.Token, action("pong again"), 401},
	}
	for _, tt := range tests {
		t.Run("action-"+tt.name, func(t *testing.T) {
			r := p.Do(t, "POST", api+"/webpush/action", tt.token, "application/json", tt.body)
			if r.Status != tt.status {
				t.Fatalf("action = %d %s, want %d", r.Status, r.Body, tt.status)
			}
		})
	}
	var got chatapi.Chat
	for {
		got = chatapi.Chat{} // Sent is omitted when false
		streamA.NextNamed(t, chatapi.EventChat, 10*time.Second, &got)
		if !got.Sent {
			break
		}
	}
	if got.Body != "pong" || !strings.HasPrefix(got.From, b.JID) {
		t.Fatalf("A got %+v, want pong from %s", got, b.JID)
	}

	t.Run("stream-open-no-push", func(t *testing.T) {
		streamB, _ := p.Open(t, tb, "")
		streamB.NextNamed(t, chatapi.EventConnect, 10*time.Second, nil)
		if r := p.Do(t, "POST", api+"/chat/message/"+b.Name, ta, "text/plain", "now with a tab"); r.Status != 200 {
			t.Fatalf("send: %d %s", r.Status, r.Body)
		}
		// Events of the time without a stream are replayed first.
		for {
			var c chatapi.Chat
			streamB.NextNamed(t, chatapi.EventChat, 10*time.Second, &c)
			if c.Body == "now with a tab" {
				break
			}
		}
		p.svc.None(t, 2*time.Second)
	})
}

func mustJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestIntegrationPushNotify covers notify, message and subscribers: only
// roster contacts (or an admin) may push.
func TestIntegrationPushNotify(t *testing.T) {
	p := newPushGateway(t)
	a, b, c := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	contacts(t, a, b)
	ta, tb, tc := p.Login(t, a.Name, a.Password), p.Login(t, b.Name, b.Password), p.Login(t, c.Name, c.Password)
	tadm := p.Login(t, p.admin.Name, p.admin.Password)
	subB := p.subscribe(t, tb, "phone")
	p.subscribe(t, tc, "phone")

	big := `{"subject":"s","body":"` + strings.Repeat("b", 2048) + `","actions":[` +
		strings.TrimSuffix(strings.Repeat(`{"action":"x","data":"`+strings.Repeat("d", 1000)+`"},`, 4), ",") + `]}`
	notifyTests := []struct {
		name, target, token, body string
		status                    int
	}{
		{"200-contact", b.Name, ta, `{"subject":"Hi","body":"from a","data":"mine","token":"forged"}`, 200},
		{"200-admin", c.Name, tadm, `{"subject":"Admin","body":"to c"}`, 200},
		{"403-not-contact", c.Name, ta, `{"subject":"Hi","body":"x"}`, 403},
		{"404-unknown", "nosuchuser" + strings.ToLower(a.Name), ta, `{"subject":"Hi"}`, 404},
		{"400-too-large", b.Name, ta, big, 400},
		{"400-bad-target", "a%20b", ta, `{}`, 400},
		{"401", b.Name, "", `{"subject":"Hi"}`, 401},
	}
	for _, tt := range notifyTests {
		t.Run("notify-"+tt.name, func(t *testing.T) {
			r := p.Do(t, "POST", api+"/webpush/notify/"+tt.target, tt.token, "application/json", tt.body)
			if r.Status != tt.status {
				t.Fatalf("notify = %d %s, want %d", r.Status, r.Body, tt.status)
			}
			if tt.status != 200 {
				return
			}
			_, n, data := p.next(t)
			switch tt.name {
			case "200-contact":
				if n.Subject != "Hi" || n.Body != "from a" || data["type"] != "notify" || data["from"] != a.JID || data["data"] != "mine" || n.Token == "forged" || n.Token == "" {
					t.Errorf("notification %+v data %v", n, data)
				}
			case "200-admin":
				if n.Subject != "Admin" || data["from"] != p.admin.JID {
					t.Errorf("notification %+v data %v", n, data)
				}
			}
		})
	}

	messageTests := []struct {
		name, target, token, body string
		status                    int
	}{
		{"200-contact", b.Name, ta, "ping", 200},
		{"403-not-contact", c.Name, ta, "ping", 403},
		{"404-unknown", "nosuchuser" + strings.ToLower(a.Name), ta, "ping", 404},
		{"400-empty", b.Name, ta, "", 400},
		{"400-too-long", b.Name, ta, strings.Repeat("x", 2049), 400},
	}
	for _, tt := range messageTests {
		t.Run("message-"+tt.name, func(t *testing.T) {
			r := p.Do(t, "POST", api+"/webpush/message/"+tt.target, tt.token, "text/plain", tt.body)
			if r.Status != tt.status {
				t.Fatalf("message = %d %s, want %d", r.Status, r.Body, tt.status)
			}
			if tt.status == 200 {
				_, n, data := p.next(t)
				if n.Body != "ping" || n.Subject != a.Name || data["type"] != "message" || data["from"] != a.JID {
					t.Errorf("notification %+v data %v", n, data)
				}
			}
		})
	}

	t.Run("subscribers", func(t *testing.T) {
		names := func(token string) []string {
			t.Helper()
			r := p.Do(t, "GET", api+"/webpush/subscribers", token, "", "")
			if r.Status != 200 {
				t.Fatalf("subscribers = %d %s", r.Status, r.Body)
			}
			var us struct{ Users []struct{ Username string } }
			r.JSON(t, &us)
			var out []string
			for _, u := range us.Users {
				out = append(out, u.Username)
			}
			return out
		}
		if got := names(ta); len(got) != 1 || got[0] != strings.ToLower(b.Name) {
			t.Errorf("A's subscribers = %v, want [%s]", got, b.Name)
		}
		got := names(tadm)
		if !contains(got, strings.ToLower(b.Name)) || !contains(got, strings.ToLower(c.Name)) {
			t.Errorf("admin's subscribers = %v, want b and c among them", got)
		}
	})

	t.Run("410-removes", func(t *testing.T) {
		p.svc.Gone(subB)
		if r := p.Do(t, "POST", api+"/webpush/message/"+b.Name, ta, "text/plain", "gone?"); r.Status != 200 {
			t.Fatalf("message = %d %s", r.Status, r.Body)
		}
		if m := p.svc.Next(t, 15*time.Second); m.Status != http.StatusGone {
			t.Fatalf("status %d, want 410", m.Status)
		}
		select {
		case ep := <-p.removed:
			if ep != subB.Endpoint {
				t.Fatalf("removed %s", ep)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("subscription not removed")
		}
		if subs, _ := p.store.PushSubscriptions(context.Background(), b.JID); len(subs) != 0 {
			t.Errorf("b still has %d subscriptions", len(subs))
		}
	})

	t.Run("retry-5xx", func(t *testing.T) {
		sub := p.subscribe(t, tb, "tablet")
		p.svc.Respond(sub, 503, 500)
		if r := p.Do(t, "POST", api+"/webpush/message/"+b.Name, ta, "text/plain", "retry"); r.Status != 200 {
			t.Fatalf("message = %d %s", r.Status, r.Body)
		}
		for _, want := range []int{503, 500, 201} {
			if m := p.svc.Next(t, 15*time.Second); m.Status != want {
				t.Fatalf("status %d, want %d", m.Status, want)
			}
		}
	})

	t.Run("429-rate-limit", func(t *testing.T) {
		// The limit is a bucket of 30 calls that earns one back every 2 s
		// (perMinute): the 31st call within a few seconds meets a 429.
		for i := range 40 {
			r := p.Do(t, "POST", api+"/webpush/message/"+b.Name, ta, "text/plain", "flood")
			if r.Status == http.StatusOK {
				continue
			}
			if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
				t.Fatalf("message %d = %d %s, want 200 or 429 with Retry-After", i, r.Status, r.Body)
			}
			if i == 0 {
				t.Fatal("limited at once")
			}
			// Other users are not limited by A's calls.
			if r := p.Do(t, "POST", api+"/webpush/message/"+a.Name, tb, "text/plain", "mine"); r.Status != http.StatusOK {
				t.Fatalf("B's message = %d %s", r.Status, r.Body)
			}
			return
		}
		t.Fatal("no 429 after 40 messages")
	})
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestIntegrationPushRoom: a room message that mentions the user's nick
// and a room invitation are pushed to a user with no stream; a reply goes
// to the room.
func TestIntegrationPushRoom(t *testing.T) {
	p := newPushGateway(t)
	srv := ejabberdtest.Shared(t)
	a, b, c := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tb, tc := p.Login(t, a.Name, a.Password), p.Login(t, b.Name, b.Password), p.Login(t, c.Name, c.Password)
	streamA, _ := p.Open(t, ta, "")
	streamA.NextNamed(t, chatapi.EventConnect, 10*time.Second, nil)
	room := "push" + strings.ToLower(a.Name[1:9])
	roomJID := room + "@" + srv.MUCService()
	nick := "nick" + strings.ToLower(b.Name[1:7])
	rp := api + "/groupchat/room/" + room
	if r := p.Do(t, "PUT", rp+"?nick=alice", ta, "", ""); r.Status != 200 {
		t.Fatalf("A joins: %d %s", r.Status, r.Body)
	}
	if r := p.Do(t, "PUT", rp+"?nick="+nick, tb, "", ""); r.Status != 200 {
		t.Fatalf("B joins: %d %s", r.Status, r.Body)
	}
	p.subscribe(t, tb, "phone")
	p.subscribe(t, tc, "phone")

	// Not a mention, then a mention: only the second is pushed.
	for _, body := range []string{"hello all, " + nick + "x is not a mention", "hey " + nick + ", look"} {
		if r := p.Do(t, "POST", rp, ta, "text/plain", body); r.Status != 200 {
			t.Fatalf("post: %d %s", r.Status, r.Body)
		}
	}
	_, n, data := p.next(t)
	if n.Body != "hey "+nick+", look" || data["type"] != "groupchat" || data["from"] != roomJID || n.Subject != "alice in "+room {
		t.Fatalf("notification %+v data %v", n, data)
	}
	reply, _ := json.Marshal(map[string]string{"action": "reply", "data": n.Data, "value": "on my way"})
	if r := p.Do(t, "POST", api+"/webpush/action", n.Token, "application/json", string(reply)); r.Status != 200 {
		t.Fatalf("reply: %d %s", r.Status, r.Body)
	}
	for {
		var m chatapi.GroupChat
		streamA.NextNamed(t, chatapi.EventMUC, 10*time.Second, &m)
		if m.Body == "on my way" {
			if m.From != roomJID+"/"+nick {
				t.Fatalf("reply from %s, want %s/%s", m.From, roomJID, nick)
			}
			break
		}
	}

	t.Run("invitation", func(t *testing.T) {
		if r := p.Do(t, "POST", rp+"/"+c.Name, ta, "text/plain", "come in"); r.Status != 200 {
			t.Fatalf("invite: %d %s", r.Status, r.Body)
		}
		_, n, data := p.next(t)
		if data["type"] != "invitation" || data["from"] != roomJID || !strings.Contains(n.Body, "come in") || len(n.Actions) != 1 || n.Actions[0].Action != "open" {
			t.Fatalf("notification %+v data %v", n, data)
		}
		answer, _ := json.Marshal(map[string]string{"action": "reply", "data": n.Data, "value": "no"})
		if r := p.Do(t, "POST", api+"/webpush/action", n.Token, "application/json", string(answer)); r.Status != 400 {
			t.Errorf("reply to an invitation: %d %s, want 400", r.Status, r.Body)
		}
		open, _ := json.Marshal(map[string]string{"action": "open", "data": n.Data})
		if r := p.Do(t, "POST", api+"/webpush/action", n.Token, "application/json", string(open)); r.Status != 200 {
			t.Errorf("open: %d %s, want 200", r.Status, r.Body)
		}
		if r := p.Do(t, "POST", api+"/webpush/action", n.Token, "application/json", string(open)); r.Status != 401 {
			t.Errorf("open again: %d %s, want 401", r.Status, r.Body)
		}
	})
}

// TestIntegrationPushMetrics: with metrics on, /metrics counts the Web Push
// deliveries by outcome. Bob, signed in without a tab, has two
// subscriptions: the phone's push service fails once (503) then takes the
// notification, the laptop's answers 410 (the browser unsubscribed).
func TestIntegrationPushMetrics(t *testing.T) {
	p := newPushGatewayWith(t, func(c *gateway.Config) { c.Metrics = true })
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tb := p.Login(t, a.Name, a.Password), p.Login(t, b.Name, b.Password)
	phone, laptop := p.subscribe(t, tb, "phone"), p.subscribe(t, tb, "laptop")
	p.svc.Respond(phone, http.StatusServiceUnavailable)
	p.svc.Gone(laptop)

	if r := p.Do(t, "POST", api+"/chat/message/"+b.Name, ta, "text/plain", "counted?"); r.Status != 200 {
		t.Fatalf("send: %d %s", r.Status, r.Body)
	}
	statuses := map[int]int{}
	for range 3 { // 503 and 201 for the phone, 410 for the laptop
		statuses[p.svc.Next(t, 15*time.Second).Status]++
	}
	if statuses[503] != 1 || statuses[201] != 1 || statuses[410] != 1 {
		t.Fatalf("the push service answered %v", statuses)
	}
	select {
	case <-p.removed:
	case <-time.After(10 * time.Second):
		t.Fatal("the laptop's subscription was not removed")
	}

	want := map[string]float64{"delivered": 1, "retried": 1, "gone": 1, "expired": 0, "refused": 0, "failed": 0}
	var body string
	for range 50 { // the counts follow the answers by a moment
		r := p.Do(t, "GET", gateway.MetricsPath, "", "", "")
		if r.Status != http.StatusOK {
			t.Fatalf("GET /metrics: %d", r.Status)
		}
		body = string(r.Body)
		ok := true
		for outcome, n := range want {
			if sample(t, body, `sparkgate_push_deliveries_total{outcome="`+outcome+`"}`) != n {
				ok = false
			}
		}
		if ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("push deliveries, want %v:\n%s", want, grepLines(body, "sparkgate_push_deliveries_total"))
}
