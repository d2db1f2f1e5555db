package gateway_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// TestIntegrationReceiptsAndMarkers: a message sent through the gateway is
// answered by the receiver's session with a delivery receipt (XEP-0184)
// and, once the receiver reads it, with a displayed marker (XEP-0333,
// POST /chat/displayed); both reach the sender's stream as
// chatapi.receipt, naming the message.
func TestIntegrationReceiptsAndMarkers(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tb := e.Login(t, a.Name, a.Password), e.Login(t, b.Name, b.Password)
	streamA := e.OpenConnected(t, ta, "")
	e.OpenConnected(t, tb, "")
	r := e.Do(t, "POST", api+"/chat/message/"+b.Name, ta, "text/plain", "read me")
	if r.Status != 200 {
		t.Fatalf("send: %d %s", r.Status, r.Body)
	}
	var sent struct {
		ID string `json:"id"`
	}
	r.JSON(t, &sent)
	receipt := func(typ string) {
		t.Helper()
		for {
			var rc chatapi.Receipt
			streamA.NextNamed(t, chatapi.EventReceipt, 10*time.Second, &rc)
			if rc.Type == typ && rc.ID == sent.ID {
				return
			}
		}
	}
	receipt(chatapi.TypeReceived)
	if r := e.Do(t, "POST", api+"/chat/displayed/"+a.Name+"?id="+url.QueryEscape(sent.ID), tb, "", ""); r.Status != 200 {
		t.Fatalf("displayed: %d %s", r.Status, r.Body)
	}
	receipt(chatapi.TypeDisplayed)
	if r := e.Do(t, "POST", api+"/chat/displayed/"+a.Name, tb, "", ""); r.Status != 400 {
		t.Fatalf("displayed without an id: %d %s, want 400", r.Status, r.Body)
	}
}
