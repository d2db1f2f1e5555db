package gateway_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// TestIntegrationBounceIsAnError: a message to someone the XMPP server
// cannot deliver to (no such account) comes back as chatapi.error, the
// event the catalogue promises, with the sent message's id and the
// server's condition, followed by the bounced copy as chatapi.chat of type
// error (what clients that mark the message failed read).
func TestIntegrationBounceIsAnError(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	a := ejabberdtest.NewUser(t)
	ta := e.Login(t, a.Name, a.Password)
	stream := e.OpenConnected(t, ta, "")
	nobody := "nosuchuser" + strings.ToLower(a.Name)
	r := e.Do(t, "POST", api+"/chat/message/"+nobody, ta, "text/plain", "anyone there?")
	if r.Status != 200 {
		t.Fatalf("send: %d %s", r.Status, r.Body)
	}
	var sent struct {
		ID string `json:"id"`
	}
	r.JSON(t, &sent)
	var got chatapi.Error
	stream.NextNamed(t, chatapi.EventError, 10*time.Second, &got)
	if got.Type != "error" || got.ID != sent.ID || !strings.HasPrefix(got.From, nobody+"@") || got.Condition == "" || got.Condition == "undefined-condition" {
		t.Fatalf("chatapi.error %+v; want the bounce of %s with its condition", got, sent.ID)
	}
	var chat chatapi.Chat
	stream.NextNamed(t, chatapi.EventChat, 10*time.Second, &chat)
	if chat.Type != "error" || chat.ID != sent.ID || chat.Body != "anyone there?" {
		t.Fatalf("chatapi.chat after the error %+v; want the bounced copy", chat)
	}
	t.Logf("ejabberd's condition: %s %q", got.Condition, got.Text)
}
