package gateway_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// TestIntegrationFile: a file link sent with ?file= reaches a plain XMPP
// client as XEP-0066 out-of-band data with the URL as the body, and one
// the plain client sends reaches the gateway user's stream as
// chatapi.chat with file.
func TestIntegrationFile(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	srv := ejabberdtest.Shared(t)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta := e.Login(t, a.Name, a.Password)
	stream := e.OpenConnected(t, ta, "")
	bc := availableClient(t, srv, b)

	const u = "https://upload.example.org/x/cat.png"
	r := e.Do(t, "POST", api+"/chat/message/"+url.PathEscape(b.JID)+"?file="+url.QueryEscape(u), ta, "text/plain", "a cat")
	if r.Status != 200 {
		t.Fatalf("send file: %d %s", r.Status, r.Body)
	}
	for {
		st, err := bc.Next(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		got := xmppconn.Translate(&st, b.JID, nil)
		if len(got) == 0 {
			continue
		}
		c, ok := got[0].(chatapi.Chat)
		if !ok {
			continue
		}
		if c.Body != u || c.File == nil || *c.File != (chatapi.File{URL: u, Desc: "a cat"}) {
			t.Fatalf("the plain client got %+v", c)
		}
		break
	}

	const v = "https://upload.example.org/y/notes.pdf"
	in := `<message type='chat' to='` + a.JID + `' id='f1'><body>` + v + `</body><x xmlns='jabber:x:oob'><url>` + v + `</url><desc>notes</desc></x></message>`
	if err := bc.SendRaw(t.Context(), []byte(in)); err != nil {
		t.Fatal(err)
	}
	for {
		var c chatapi.Chat
		stream.NextNamed(t, chatapi.EventChat, 10*time.Second, &c)
		if c.ID != "f1" {
			continue
		}
		if c.Body != v || c.File == nil || *c.File != (chatapi.File{URL: v, Desc: "notes"}) {
			t.Fatalf("the stream got %+v", c)
		}
		break
	}

	for _, bad := range []string{"ftp://example.org/f", "not a url", "https://" + strings.Repeat("a", 2100)} {
		if r := e.Do(t, "POST", api+"/chat/message/"+b.Name+"?file="+url.QueryEscape(bad), ta, "text/plain", "a file"); r.Status != 400 {
			t.Errorf("file %.40q: %d %s, want 400", bad, r.Status, r.Body)
		}
	}
	if r := e.Do(t, "POST", api+"/chat/message/"+b.Name+"?replyTo=m1&file="+url.QueryEscape(u), ta, "text/plain", "a file"); r.Status != 400 {
		t.Errorf("file with replyTo: %d %s, want 400", r.Status, r.Body)
	}
}
