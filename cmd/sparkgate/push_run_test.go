package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/webpush"
	"github.com/sparkgate/sparkgate/webpush/webpushtest"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// TestIntegrationRunPushAfterKill: the whole gateway (run, as a process of
// its own) as its own push app server. A user subscribes; the gateway
// process is killed (SIGKILL) and a new one starts on the same data
// directory; no one logs in. A message to the user from a plain XMPP
// client still reaches the user's browser as a decrypted Web Push with
// sender and body: the server kept the registration (or the new
// component renewed it), the store kept the node.
func TestIntegrationRunPushAfterKill(t *testing.T) {
	srv := ejabberdtest.Shared(t)
	data := t.TempDir()
	vapid, err := webpush.LoadOrCreateVAPID(data)
	if err != nil {
		t.Fatal(err)
	}
	svc := webpushtest.NewService(t, vapid.Public)
	secretFile := filepath.Join(t.TempDir(), "component.secret")
	if err := os.WriteFile(secretFile, []byte(srv.ComponentSecret()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"SPARKGATE_PUSH_COMPONENT=" + srv.ComponentAddr(),
		"SPARKGATE_PUSH_SERVICE=" + srv.PushService(),
		"SPARKGATE_PUSH_COMPONENT_SECRET_FILE=" + secretFile,
		"SPARKGATE_PUSH_INSECURE_HOSTS=127.0.0.1",
		"SPARKGATE_PUSH_ALLOW_PRIVATE=true",
		"SPARKGATE_LOG_LEVEL=info",
	}
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)

	first := startGatewayProcess(t, data, "127.0.0.1:0", env...)
	waitLog(t, first.logs, "push component online")
	c := first.client()
	ta := c.Login(t, a.Name, a.Password)
	if r := c.Do(t, "PUT", "/sparkweb/api/rest/webpush/subscribe/laptop", ta, "application/json", svc.Subscribe(t).JSON()); r.Status != 200 {
		t.Fatalf("subscribe: %d %s", r.Status, r.Body)
	}
	first.kill()

	second := startGatewayProcess(t, data, "127.0.0.1:0", env...)
	waitLog(t, second.logs, "push registrations renewed")
	bc, err := xmppconn.Dial(t.Context(), xmppconn.Config{Addr: srv.C2SAddr(), Domain: srv.Domain(), User: b.Name, Password: b.Password, TLS: xmppconn.TLSOff})
	if err != nil {
		t.Fatal(err)
	}
	defer bc.Close(t.Context())
	start := time.Now()
	msg := `<message type='chat' to='` + a.JID + `' id='r1'><body>after the kill</body></message>`
	if err := bc.SendRaw(t.Context(), []byte(msg)); err != nil {
		t.Fatal(err)
	}
	m := svc.Next(t, 20*time.Second)
	t.Logf("message → push after a SIGKILL and a restart with no one logged in: %v", time.Since(start))
	var n struct{ Subject, Body string }
	if err := json.Unmarshal(m.Plaintext, &n); err != nil {
		t.Fatal(err)
	}
	if n.Body != "after the kill" || n.Subject != b.JID {
		t.Fatalf("notification %s, want the body from %s", m.Plaintext, b.JID)
	}
	svc.None(t, 2*time.Second)
}

// waitLog waits until the run's log holds s.
func waitLog(t *testing.T, logs *syncBuffer, s string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(logs.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("the log never said %q:\n%s", s, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
