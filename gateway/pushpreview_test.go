package gateway_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// TestIntegrationPushPreview: the user property sparkgate.push.preview
// makes a's pushes say less, with a session and no tab and signed out
// (ejabberd's push): "sender" keeps who wrote and drops the text, "none"
// drops both; the data still names the conversation and the reply action
// stays. A value it cannot take is 400; removing the property shows all
// again.
func TestIntegrationPushPreview(t *testing.T) {
	p := newPushAppGateway(t)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tb := p.Login(t, a.Name, a.Password), p.Login(t, b.Name, b.Password)
	p.subscribe(t, ta, "phone")
	send := p.sender(t, tb, a.Name)
	setPreview := func(tok, value string, want int) {
		t.Helper()
		body, _ := json.Marshal([]map[string]string{{"name": gateway.PushPreviewProperty, "value": value}})
		if r := p.Do(t, "POST", api+"/config/properties", tok, "application/json", string(body)); r.Status != want {
			t.Fatalf("preview %q: %d %s, want %d", value, r.Status, r.Body, want)
		}
	}
	want := func(subject, body string) {
		t.Helper()
		_, n, data := p.next(t)
		if n.Subject != subject || n.Body != body || data["from"] != b.JID || data["type"] != "chat" || len(n.Actions) != 2 || n.Actions[0].Action != "reply" {
			t.Fatalf("push %+v data %v, want subject %q body %q", n, data, subject, body)
		}
	}

	setPreview(ta, "everything", http.StatusBadRequest)
	setPreview(ta, gateway.PreviewSender, http.StatusOK)
	send("the secret plan")
	want(b.JID, "New message")

	setPreview(ta, gateway.PreviewNone, http.StatusOK)
	send("the other secret")
	want("New message", "")

	// Signed out: the server's push, built by the gateway, says as little.
	if r := p.Do(t, "POST", api+"/logout", ta, "", ""); r.Status != http.StatusOK {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	send("while out")
	want("New message", "")

	ta = p.Login(t, a.Name, a.Password)
	setPreview(ta, "", http.StatusOK)
	send("all of it")
	want(b.JID, "all of it")
	p.svc.None(t, 2*time.Second)
}
