package xmppconn

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

func TestWantsReceipt(t *testing.T) {
	s := &Session{user: "alice@localhost"}
	tests := []struct {
		name, raw string
		want      bool
	}{
		{"chat asking", `<message type='chat' id='m1' from='bob@localhost/r'><body>x</body><request xmlns='urn:xmpp:receipts'/></message>`, true},
		{"normal asking", `<message id='m1' from='bob@localhost/r'><body>x</body><request xmlns='urn:xmpp:receipts'/></message>`, true},
		{"not asking", `<message type='chat' id='m1' from='bob@localhost/r'><body>x</body></message>`, false},
		{"no id", `<message type='chat' from='bob@localhost/r'><body>x</body><request xmlns='urn:xmpp:receipts'/></message>`, false},
		{"room", `<message type='groupchat' id='m1' from='r@conference.localhost/bob'><body>x</body><request xmlns='urn:xmpp:receipts'/></message>`, false},
		{"error", `<message type='error' id='m1' from='bob@localhost/r'><request xmlns='urn:xmpp:receipts'/></message>`, false},
		{"own", `<message type='chat' id='m1' from='alice@localhost/other'><body>x</body><request xmlns='urn:xmpp:receipts'/></message>`, false},
		{"carbon", `<message from='alice@localhost' type='chat' id='c1'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>` +
			`<message xmlns='jabber:client' type='chat' id='m1' from='bob@localhost/r' to='alice@localhost/phone'><body>x</body><request xmlns='urn:xmpp:receipts'/></message></forwarded></received></message>`, false},
	}
	for _, tt := range tests {
		st, err := decodeStanza([]byte(tt.raw))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := s.wantsReceipt(&st); got != tt.want {
			t.Errorf("%s: wantsReceipt = %v, want %v", tt.name, got, tt.want)
		}
	}
	st, _ := decodeStanza([]byte(tests[0].raw))
	if got := string(receiptFor(&st)); !strings.Contains(got, `to="bob@localhost/r"><received xmlns="urn:xmpp:receipts" id="m1"/>`) {
		t.Errorf("receipt %s", got)
	}
}

// TestIntegrationReceipts: a message the session receives with a receipt
// request is answered (the user's event log has it), and a message the
// user sends asks for one, whose answer reaches the tabs as
// chatapi.receipt (XEP-0184).
func TestIntegrationReceipts(t *testing.T) {
	srv := ejabberdtest.Shared(t)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ev := newEvents()
	m := newTestManager(t, ev, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	sa, err := m.Open(ctx, a.Name, Credentials{Password: a.Password})
	if err != nil {
		t.Fatal(err)
	}
	bc := dialUser(t, srv, b, nil)
	online(t, bc)

	if err := bc.SendRaw(ctx, []byte(`<message type='chat' id='ask-1' to='`+a.JID+`'><body>did you get it?</body><request xmlns='urn:xmpp:receipts'/></message>`)); err != nil {
		t.Fatal(err)
	}
	var sentID string
	for sentID == "" {
		st, err := bc.Next(ctx)
		if err != nil {
			t.Fatalf("b waits for the receipt: %v", err)
		}
		// ejabberd writes attributes in single quotes.
		if raw := string(st.Raw); st.Name == "message" && strings.Contains(raw, `<received xmlns='urn:xmpp:receipts' id='ask-1'`) {
			sentID = "got it"
		}
	}

	id, err := sa.SendChat(ctx, b.JID, "and yours?", nil)
	if err != nil {
		t.Fatal(err)
	}
	for {
		st, err := bc.Next(ctx)
		if err != nil {
			t.Fatalf("b waits for a's message: %v", err)
		}
		if st.Name == "message" && st.ID == id {
			if !strings.Contains(string(st.Raw), `<request xmlns='urn:xmpp:receipts'/>`) {
				t.Fatalf("a's message asks for no receipt: %s", st.Raw)
			}
			break
		}
	}
	if err := bc.SendRaw(ctx, []byte(`<message to='`+a.JID+`'><received xmlns='urn:xmpp:receipts' id='`+id+`'/></message>`)); err != nil {
		t.Fatal(err)
	}
	ev.waitFor(t, 10*time.Second, "the receipt event", func() bool {
		ev.mu.Lock()
		defer ev.mu.Unlock()
		for _, p := range ev.byUser[a.JID] {
			if r, ok := p.(chatapi.Receipt); ok && r.ID == id && r.Type == chatapi.TypeReceived {
				return true
			}
		}
		return false
	})
}
