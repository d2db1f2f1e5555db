package main

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/store"
)

// TestIntegrationRunSweepsUserKeys: a user whose TOTP secret the gateway
// stored under the lower-cased name it used before usernames were made
// canonical ("straße…", the account being "strasse…") still meets the
// TOTP challenge after start-up, and the moved secret still takes the
// user's codes. Without the sweep the password alone logs in.
func TestIntegrationRunSweepsUserKeys(t *testing.T) {
	suffix := strings.ToLower(rand.Text()[:10])
	u := ejabberdtest.NewUserNamed(t, ejabberdtest.Shared(t), "strasse"+suffix)
	spelled := "Straße" + suffix
	oldKey := strings.ToLower(spelled) + "@" + u.Domain
	data := t.TempDir()
	secret := plantTOTP(t, data, oldKey)

	addr, logs, stop := startRun(t, data, nil)
	defer stop()
	api := "http://" + addr + "/sparkweb/api/rest"
	post := func(path, body string) (int, map[string]any) {
		t.Helper()
		resp, err := http.Post(api+path, "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, raw)
		}
		return resp.StatusCode, m
	}
	for _, name := range []string{spelled, u.Name} {
		status, body := post("/login/"+url.PathEscape(name), u.Password)
		if status != http.StatusUnauthorized || body["code"] != "mfa_required" {
			t.Fatalf("login as %s with the password alone: %d %v, want 401 mfa_required", name, status, body)
		}
	}
	_, body := post("/login/"+u.Name, u.Password)
	code, err := totp.GenerateCodeCustom(secret, time.Now().Add(30*time.Second), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	if status, body := post("/totp/authenticate/"+u.Name+"/"+code, body["ticket"].(string)); status != http.StatusOK || body["token"] == nil {
		t.Fatalf("the code of the moved secret: %d %v, want 200 with a token", status, body)
	}
	if err := stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	l := logs.String()
	if !strings.Contains(l, "state under non-canonical usernames swept") || !strings.Contains(l, "totp_moved=1") {
		t.Errorf("the sweep is not in the log:\n%s", l)
	}
	if strings.Contains(l, secret) || strings.Contains(l, u.Password) {
		t.Error("a secret reached the log")
	}
}

// plantTOTP stores an active TOTP secret for user in the data directory
// data, as a gateway of before would have, and returns the secret.
func plantTOTP(t *testing.T, data, user string) string {
	t.Helper()
	ctx := t.Context()
	st, err := store.Open(ctx, filepath.Join(data, "sparkgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	keys, err := auth.LoadOrCreateKeys(filepath.Join(data, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	tt, err := auth.NewTOTP(auth.TOTPConfig{Keys: keys, Store: st, Issuer: "test"})
	if err != nil {
		t.Fatal(err)
	}
	en, err := tt.Enroll(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	key, err := otp.NewKeyFromURL(en.URL)
	if err != nil {
		t.Fatal(err)
	}
	code, err := totp.GenerateCode(key.Secret(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := tt.Validate(ctx, user, code); err != nil {
		t.Fatalf("activate the planted secret: %v", err)
	}
	return key.Secret()
}
