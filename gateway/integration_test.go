package gateway_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate"
	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
	"github.com/sparkgate/sparkgate/internal/pgtest"
)

func TestMain(m *testing.M) { ejabberdtest.Main(pgtest.Wrap(m)) }

// env is a gateway for one test (internal/gatewayenv); gw is its server.
type env struct {
	*gatewayenv.Env
	gw *gateway.Server
}

// newGateway starts a gateway in front of the shared ejabberd, with its
// own store and keys and the configuration's defaults, changed by mod.
func newGateway(t testing.TB, mod func(*gateway.Config)) *env {
	t.Helper()
	return startEnv(t, gatewayenv.Options{Plain: true, Config: mod})
}

// startEnv starts the gateway o describes.
func startEnv(t testing.TB, o gatewayenv.Options) *env {
	t.Helper()
	e := gatewayenv.StartWith(t, o)
	return &env{Env: e, gw: e.Gateway}
}

const api = "/sparkweb/api/rest"

func TestIntegrationFoundation(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	u := ejabberdtest.NewUser(t)
	tok := e.Login(t, u.Name, u.Password)

	tests := []struct {
		name         string
		method, path string
		token        string
		ct, body     string
		status       int
		code         string
	}{
		{"healthz", "GET", "/healthz", "", "", "", 200, ""},
		{"readyz", "GET", "/readyz", "", "", "", 200, ""},
		{"no-token", "GET", api + "/roster", "", "", "", 401, "unauthorized"},
		{"garbage-token", "GET", api + "/roster", "not-a-jwt", "", "", 401, "unauthorized"},
		{"bearer-garbage", "GET", api + "/roster", "Bearer a.b.c", "", "", 401, "unauthorized"},
		{"unknown-route", "GET", api + "/no/such/thing", tok, "", "", 404, "not_found"},
		{"bad-enum", "POST", api + "/chat/chatstate/shouting/bob", tok, "", "", 400, "bad_request"},
		{"bad-show", "POST", api + "/presence?show=sleeping", tok, "", "", 400, "bad_request"},
		{"empty-message", "POST", api + "/chat/message/bob", tok, "text/plain", "", 400, "bad_request"},
		{"wrong-content-type", "POST", api + "/chat/message/bob", tok, "application/xml", "<x/>", 400, "bad_request"},
		{"oversized-message", "POST", api + "/chat/message/bob", tok, "text/plain", strings.Repeat("x", 70000), 400, "bad_request"},
		{"too-large-body", "POST", api + "/chat/message/bob", tok, "text/plain", strings.Repeat("x", 600<<10), 413, "payload_too_large"},
		{"bad-username", "POST", api + "/login/a%20b", "", "text/plain", "pw", 400, "bad_request"},
		// An escaped slash that ends a parameter is data: the route is
		// found (and the unresolvable host refused), not a 404.
		{"escaped-trailing-slash", "GET", api + "/preview/1/https%3A%2F%2Fexample.invalid%2F", tok, "", "", 400, "bad_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.Do(t, tt.method, tt.path, tt.token, tt.ct, tt.body)
			if r.Status != tt.status {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, r.Status, r.Body, tt.status)
			}
			if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
				t.Fatalf("Content-Type %q, want JSON", r.Header.Get("Content-Type"))
			}
			if r.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no nosniff header")
			}
			if tt.code != "" {
				eb := r.Error(t)
				if eb.Code != tt.code || eb.Status != tt.status || eb.Message == "" {
					t.Fatalf("error body %+v, want code %s", eb, tt.code)
				}
			}
		})
	}

	t.Run("spec", func(t *testing.T) {
		r := e.Do(t, "GET", "/sparkweb/api/openapi.yaml", "", "", "")
		if r.Status != 200 || string(r.Body) != string(sparkgate.OpenAPI) {
			t.Fatalf("spec: %d, %d bytes", r.Status, len(r.Body))
		}
	})
	t.Run("docs", func(t *testing.T) {
		r := e.Do(t, "GET", "/sparkweb/api/docs/", "", "", "")
		if r.Status != 200 || !strings.Contains(string(r.Body), "<html") {
			t.Fatalf("docs: %d %.200s", r.Status, r.Body)
		}
		if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Fatalf("docs CSP %q", csp)
		}
	})
}

func TestIntegrationLoginLogout(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	u := ejabberdtest.NewUser(t)

	wrong := e.Do(t, "POST", api+"/login/"+u.Name, "", "text/plain", "wrong password")
	unknown := e.Do(t, "POST", api+"/login/nobody"+u.Name, "", "text/plain", "wrong password")
	if wrong.Status != 401 || unknown.Status != 401 {
		t.Fatalf("wrong password %d, unknown user %d; want 401 both", wrong.Status, unknown.Status)
	}
	if we, ue := wrong.Error(t), unknown.Error(t); we.Message != ue.Message || we.Code != ue.Code {
		t.Fatalf("wrong password and unknown user differ: %+v vs %+v", we, ue)
	}
	// A JSON string body works as well as text.
	js, _ := json.Marshal(u.Password)
	r := e.Do(t, "POST", api+"/login/"+strings.ToUpper(u.Name), "", "application/json", string(js))
	if r.Status != 200 {
		t.Fatalf("JSON login: %d %s", r.Status, r.Body)
	}
	tok := e.Login(t, u.Name, u.Password)
	stream, _ := e.Open(t, tok, "")
	stream.NextNamed(t, chatapi.EventConnect, 5*time.Second, nil)
	if r := e.Do(t, "POST", api+"/presence?show=away&status=lunch", tok, "", ""); r.Status != 200 {
		t.Fatalf("presence: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "POST", api+"/logout", "Bearer "+tok, "", ""); r.Status != 200 {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	var closed chatapi.Close
	stream.NextNamed(t, chatapi.EventClose, 5*time.Second, &closed)
	if closed.Reason != chatapi.CloseLogout || closed.Resume {
		t.Fatalf("the stream of the revoked token ended with %+v", closed)
	}
	if r := e.Do(t, "POST", api+"/presence", tok, "", ""); r.Status != 401 {
		t.Fatalf("revoked token: %d, want 401", r.Status)
	}
	if _, r := e.Open(t, tok, ""); r.Status != 401 {
		t.Fatalf("stream with a revoked token: %d, want 401", r.Status)
	}
}

func TestIntegrationRegister(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	name := "reg" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", ""))[len("testintegration"):] + time.Now().Format("150405.000000")
	name = strings.ReplaceAll(name, ".", "")
	t.Cleanup(func() { ejabberdtest.Admin(t).Unregister(context.Background(), name) })
	if r := e.Do(t, "POST", api+"/register/"+name, "", "text/plain", "short"); r.Status != 400 {
		t.Fatalf("short password: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "POST", api+"/register/"+name, "", "text/plain", "long enough password"); r.Status != 200 {
		t.Fatalf("register: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "POST", api+"/register/"+name, "", "text/plain", "long enough password"); r.Status != 409 {
		t.Fatalf("register again: %d %s, want 409", r.Status, r.Body)
	}
	e.Login(t, name, "long enough password")

	off := newGateway(t, func(c *gateway.Config) { c.Registration = false })
	if r := off.Do(t, "POST", api+"/register/x"+name, "", "text/plain", "long enough password"); r.Status != 403 {
		t.Fatalf("registration off: %d %s, want 403", r.Status, r.Body)
	}
}

// TestIntegrationChatEvents: a message posted by A reaches every tab of B
// once, byte for byte, and A's other tab sees it as sent.
func TestIntegrationChatEvents(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tb := e.Login(t, a.Name, a.Password), e.Login(t, b.Name, b.Password)

	var tabs []*gatewaytest.Stream
	for range 3 {
		s, r := e.Open(t, tb, "")
		if r.Status != 200 {
			t.Fatalf("stream: %d %s", r.Status, r.Body)
		}
		var hello chatapi.Connect
		s.NextNamed(t, chatapi.EventConnect, 5*time.Second, &hello)
		if hello.JID != b.JID || hello.Username != b.Name {
			t.Fatalf("onConnect %+v", hello)
		}
		tabs = append(tabs, s)
	}
	aTab, _ := e.Open(t, ta, "")
	aTab.NextNamed(t, chatapi.EventConnect, 5*time.Second, nil)

	body := "hé \"quoted\" <b>not html</b>\nsecond line ✓ 😀 \\ end"
	r := e.Do(t, "POST", api+"/chat/message/"+b.Name, ta, "text/plain; charset=utf-8", body)
	if r.Status != 200 {
		t.Fatalf("send: %d %s", r.Status, r.Body)
	}
	var sent struct {
		ID string `json:"id"`
	}
	r.JSON(t, &sent)

	for i, s := range tabs {
		var got chatapi.Chat
		s.NextNamed(t, chatapi.EventChat, 10*time.Second, &got)
		if got.Body != body || got.Type != "chat" || !strings.HasPrefix(got.From, a.JID+"/") || got.ID != sent.ID {
			t.Fatalf("tab %d got %+v", i, got)
		}
		if got.StanzaID == "" {
			t.Errorf("tab %d: no archive id on a live message", i)
		}
		if ev, err := s.TryNext(300 * time.Millisecond); err == nil && ev.Name == chatapi.EventChat {
			t.Fatalf("tab %d got a second chat event: %+v", i, ev)
		}
	}
	var echo chatapi.Chat
	aTab.NextNamed(t, chatapi.EventChat, 5*time.Second, &echo)
	if !echo.Sent || echo.Body != body || echo.To != b.JID {
		t.Fatalf("sender's tab got %+v", echo)
	}

	// Chat states arrive as their own event.
	if r := e.Do(t, "POST", api+"/chat/chatstate/composing/"+b.JID, ta, "", ""); r.Status != 200 {
		t.Fatalf("chatstate: %d %s", r.Status, r.Body)
	}
	var cs chatapi.ChatState
	tabs[0].NextNamed(t, chatapi.EventChat, 5*time.Second, &cs)
	if cs.State != "composing" || cs.Type != "chatstate" {
		t.Fatalf("chat state %+v", cs)
	}

	// A JSON object with a body: the text as the message, the object as
	// its data, on the receiver's tabs and the sender's other tabs alike;
	// also as JSON text in text/plain, as SparkWeb took it.
	for _, ct := range []string{"application/json", "text/plain"} {
		obj := `{"body":"a card via ` + ct + `","card":{"title":"<T&C>","n":[1,2]}}`
		r := e.Do(t, "POST", api+"/chat/message/"+b.Name, ta, ct, obj)
		if r.Status != 200 {
			t.Fatalf("send %s: %d %s", ct, r.Status, r.Body)
		}
		r.JSON(t, &sent)
		var got chatapi.Chat
		for got.Type != chatapi.TypeChat { // past the chat states
			tabs[1].NextNamed(t, chatapi.EventChat, 10*time.Second, &got)
		}
		if got.Body != "a card via "+ct || got.ID != sent.ID || !jsonEqual(t, got.Data, obj) {
			t.Fatalf("%s: receiver got %+v (data %s)", ct, got, got.Data)
		}
		aTab.NextNamed(t, chatapi.EventChat, 5*time.Second, &echo)
		if !echo.Sent || echo.ID != sent.ID || !jsonEqual(t, echo.Data, obj) {
			t.Fatalf("%s: sender's tab got %+v (data %s)", ct, echo, echo.Data)
		}
	}
	if r := e.Do(t, "POST", api+"/chat/message/"+b.Name, ta, "application/json", `{"text":"no body"}`); r.Status != 400 {
		t.Fatalf("a JSON object without body: %d %s, want 400", r.Status, r.Body)
	}
}

// jsonEqual reports whether the JSON texts got and want hold the same value.
func jsonEqual(t *testing.T, got json.RawMessage, want string) bool {
	t.Helper()
	var g, w any
	if json.Unmarshal(got, &g) != nil || json.Unmarshal([]byte(want), &w) != nil {
		return false
	}
	return reflect.DeepEqual(g, w)
}

// TestIntegrationResume: a stream dropped and resumed with Last-Event-ID
// gets exactly the events it missed.
func TestIntegrationResume(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tb := e.Login(t, a.Name, a.Password), e.Login(t, b.Name, b.Password)
	s, _ := e.Open(t, tb, "")
	s.NextNamed(t, chatapi.EventConnect, 5*time.Second, nil)
	// A second tab stays open: when it has seen a message, the gateway has
	// logged it.
	witness, _ := e.Open(t, tb, "")
	witness.NextNamed(t, chatapi.EventConnect, 5*time.Second, nil)
	send := func(body string) {
		t.Helper()
		if r := e.Do(t, "POST", api+"/chat/message/"+b.Name, ta, "text/plain", body); r.Status != 200 {
			t.Fatalf("send: %d %s", r.Status, r.Body)
		}
	}
	send("one")
	ev := s.NextNamed(t, chatapi.EventChat, 10*time.Second, nil)
	last := ev.ID
	s.Close()
	for _, m := range []string{"two", "three", "four"} {
		send(m)
	}
	for range 4 {
		witness.NextNamed(t, chatapi.EventChat, 10*time.Second, nil)
	}
	s2, r := e.Open(t, tb, last)
	if r.Status != 200 {
		t.Fatalf("resume: %d", r.Status)
	}
	var hello chatapi.Connect
	s2.NextNamed(t, chatapi.EventConnect, 5*time.Second, &hello)
	if !hello.Resumed {
		t.Error("onConnect does not say resumed")
	}
	var got []string
	for len(got) < 3 {
		var c chatapi.Chat
		s2.NextNamed(t, chatapi.EventChat, 10*time.Second, &c)
		got = append(got, c.Body)
	}
	if strings.Join(got, ",") != "two,three,four" {
		t.Fatalf("replayed %q", got)
	}
	if ev, err := s2.TryNext(300 * time.Millisecond); err == nil && ev.Name == chatapi.EventChat {
		t.Fatalf("duplicate after replay: %+v", ev)
	}
}
