package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/pgtest"
)

// TestIntegrationRunPostgres: the whole gateway with -store a PostgreSQL
// URL (issue 18): it keeps nothing of the store in data-dir, a TOTP
// enrolment lands in PostgreSQL and is asked for at the next login, and a
// message goes from one user to the other's event stream through the real
// ejabberd.
func TestIntegrationRunPostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	alice, bob := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	data := t.TempDir()
	addr, logs, stop := startRun(t, data, map[string]string{"SPARKGATE_STORE": dsn})
	defer stop()
	if strings.Contains(logs.String(), dsn) {
		t.Error("the log repeats the store's URL")
	}
	c := &gatewaytest.Client{Base: "http://" + addr, HTTP: &http.Client{Timeout: 30 * time.Second}}
	const api = "/sparkweb/api/rest"

	// TOTP enrolment: stored in PostgreSQL, then required at login.
	tok := c.Login(t, alice.Name, alice.Password)
	r := c.Do(t, "POST", api+"/totp/register/"+alice.Name, tok, "text/plain", alice.Password)
	if r.Status != http.StatusOK {
		t.Fatalf("totp register: %d %s", r.Status, r.Body)
	}
	var te gateway.TOTPEntity
	r.JSON(t, &te)
	key, err := otp.NewKeyFromURL(te.Url)
	if err != nil {
		t.Fatal(err)
	}
	code, err := totp.GenerateCode(key.Secret(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Do(t, "POST", api+"/totp/authenticate/"+alice.Name+"/"+code, "", "text/plain", alice.Password); r.Status != http.StatusOK {
		t.Fatalf("totp activation: %d %s", r.Status, r.Body)
	}
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var active, steps int
	if err := conn.QueryRow(t.Context(), `SELECT active FROM totp_secrets WHERE user_jid = $1`, alice.JID).Scan(&active); err != nil || active != 1 {
		t.Fatalf("totp secret in PostgreSQL: active=%d, %v", active, err)
	}
	if err := conn.QueryRow(t.Context(), `SELECT COUNT(*) FROM totp_used_steps WHERE user_jid = $1`, alice.JID).Scan(&steps); err != nil || steps != 1 {
		t.Fatalf("used TOTP steps in PostgreSQL: %d, %v; want 1", steps, err)
	}
	if r := c.Do(t, "POST", api+"/login/"+alice.Name, "", "text/plain", alice.Password); r.Status != http.StatusUnauthorized ||
		!strings.Contains(string(r.Body), "mfa_required") {
		t.Fatalf("password login with TOTP active: %d %s, want 401 mfa_required", r.Status, r.Body)
	}

	// A message from alice (her token from before TOTP) to bob's stream.
	tb := c.Login(t, bob.Name, bob.Password)
	s := c.OpenConnected(t, tb, "")
	body := "over PostgreSQL ✓"
	if r := c.Do(t, "POST", api+"/chat/message/"+bob.Name, tok, "text/plain; charset=utf-8", body); r.Status != http.StatusOK {
		t.Fatalf("send: %d %s", r.Status, r.Body)
	}
	var got chatapi.Chat
	s.NextNamed(t, chatapi.EventChat, 10*time.Second, &got)
	if got.Body != body || !strings.HasPrefix(got.From, alice.JID+"/") {
		t.Fatalf("bob got %+v", got)
	}
	s.Close()

	if err := stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	if _, err := os.Stat(filepath.Join(data, "sparkgate.db")); !os.IsNotExist(err) {
		t.Errorf("data-dir has a SQLite store (%v) though the store is PostgreSQL", err)
	}
}
