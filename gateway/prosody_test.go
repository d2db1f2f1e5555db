package gateway_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
	"github.com/sparkgate/sparkgate/internal/prosody"
	"github.com/sparkgate/sparkgate/internal/prosodytest"
)

// TestIntegrationProsodyGateway: the gateway in front of Prosody, the
// second real server, through its REST API and event streams: a
// registration, password logins, chat both ways seen on the other's
// stream, a correction and the folded archive.
func TestIntegrationProsodyGateway(t *testing.T) {
	t.Parallel() // a server of its own
	p := prosodytest.Start(t)
	e := startEnv(t, gatewayenv.Options{Plain: true, Config: func(c *gateway.Config) { onProsody(c, p) }})
	a := prosodytest.NewUser(t, p)
	// b registers through the gateway.
	bName, bPass := "b"+strings.ToLower(a.Name[1:]), "pw-"+a.Password
	if r := e.Do(t, "POST", api+"/register/"+bName, "", "text/plain", bPass); r.Status != http.StatusOK {
		t.Fatalf("register: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "POST", api+"/register/"+bName, "", "text/plain", "another-password"); r.Status != http.StatusConflict {
		t.Fatalf("register twice: %d %s, want 409", r.Status, r.Body)
	}
	bJID := bName + "@" + p.Domain()

	ta, tb := e.Login(t, a.Name, a.Password), e.Login(t, bName, bPass)
	sa, sb := e.OpenConnected(t, ta, ""), e.OpenConnected(t, tb, "")

	send := func(tok, to, body string) string {
		t.Helper()
		r := e.Do(t, "POST", api+"/chat/message/"+to, tok, "text/plain", body)
		if r.Status != http.StatusOK {
			t.Fatalf("send to %s: %d %s", to, r.Status, r.Body)
		}
		var sent struct{ ID string }
		r.JSON(t, &sent)
		return sent.ID
	}
	next := func(s *gatewaytest.Stream, from, body string) chatapi.Chat {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			var c chatapi.Chat
			s.NextNamed(t, chatapi.EventChat, time.Until(deadline), &c)
			if strings.HasPrefix(c.From, from) && c.Body == body {
				return c
			}
		}
	}
	id := send(ta, bName, "hello from a")
	if c := next(sb, a.JID, "hello from a"); c.ID != id {
		t.Errorf("b got id %q, a sent %q", c.ID, id)
	}
	send(tb, a.Name, "hello from b")
	next(sa, bJID, "hello from b")

	// A correction of a's message reaches b as one.
	if r := e.Do(t, "PUT", api+"/chat/message/"+bName+"/"+id, ta, "text/plain", "hello from a, fixed"); r.Status != http.StatusOK {
		t.Fatalf("correct: %d %s", r.Status, r.Body)
	}
	if c := next(sb, a.JID, "hello from a, fixed"); c.Replace != id {
		t.Errorf("the correction names %q, want %q", c.Replace, id)
	}

	// The archive, folded: two messages, the first corrected.
	want := "hello from a, fixed (edited) | hello from b"
	checkFolded(t, e, ta, api+"/chat/messages?to="+bName, want)
}

// onProsody points the gateway's configuration at the Prosody p: its
// client port, domain and group chat service, and the gateway's Prosody
// admin backend (xmppadmin.Prosodyctl) on p's configuration.
func onProsody(c *gateway.Config, p *prosody.Server) {
	c.XMPP.Addr, c.XMPP.Domain, c.Domain = p.C2SAddr(), p.Domain(), p.Domain()
	c.MUCService = p.MUCService()
	c.Directory = p.Admin()
}
