package xmppadmin_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/xmppadmin"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// dialUser logs u in with a plain client and sends its initial presence.
func dialUser(t *testing.T, u ejabberdtest.User) *xmppconn.Conn {
	t.Helper()
	c, err := xmppconn.Dial(t.Context(), xmppconn.Config{Addr: ejabberdtest.Shared(t).C2SAddr(), Domain: u.Domain,
		User: u.Name, Password: u.Password, TLS: xmppconn.TLSOff})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	if err := c.SendRaw(t.Context(), []byte(`<presence/>`)); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestIntegrationOperatorSessions: ejabberd's session commands through
// Ejabberd: a logged-in client is listed with its full JID, a broadcast
// reaches it as a headline from the domain, and a kick ends its stream.
func TestIntegrationOperatorSessions(t *testing.T) {
	t.Parallel()
	admin := ejabberdtest.Admin(t)
	ctx := t.Context()
	u := ejabberdtest.NewUser(t)
	c := dialUser(t, u)

	sessions, err := admin.ServerSessions(ctx)
	if err != nil {
		t.Fatalf("ServerSessions: %v", err)
	}
	var found *xmppadmin.ServerSession
	for i, s := range sessions {
		if !strings.HasSuffix(strings.SplitN(s.JID, "/", 2)[0], "@"+admin.Domain) {
			t.Errorf("ServerSessions lists %s, of another domain", s.JID)
		}
		if strings.HasPrefix(s.JID, c.JID()) || s.JID == c.JID() {
			found = &sessions[i]
		}
	}
	if found == nil {
		t.Fatalf("ServerSessions = %+v, want %s among them", sessions, c.JID())
	}
	// ejabberd counts uptime in whole seconds: a session younger than
	// one has no start.
	if found.IP == "" || found.Node == "" || !found.Since.IsZero() && time.Since(found.Since) > time.Minute {
		t.Errorf("session %+v lacks its address or node, or started long ago", *found)
	}

	n, err := admin.Broadcast(ctx, xmppadmin.Broadcast{Type: "headline", Subject: "Maintenance", Body: "back at 10"})
	if err != nil || n < 1 {
		t.Fatalf("Broadcast = %d, %v; want at least 1 user", n, err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		st, err := c.Next(waitCtx)
		if err != nil {
			t.Fatalf("the broadcast never arrived: %v", err)
		}
		if st.Name == "message" && st.Type == "headline" && st.From == admin.Domain && strings.Contains(string(st.Raw), "back at 10") {
			break
		}
	}

	if n, err := admin.Kick(ctx, u.Name); err != nil || n != 1 {
		t.Errorf("Kick = %d, %v; want 1", n, err)
	}
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the kicked client's stream did not end")
	}
	if n, err := admin.Kick(ctx, "nobody-"+u.Name); err != nil || n != 0 {
		t.Errorf("Kick(unknown) = %d, %v; want 0, nil", n, err)
	}
}
