package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

func TestOperatorWire(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good, short, empty := write("good", "0123456789abcdef-token\n"), write("short", "0123456789\n"), write("empty", "\n")
	tests := []struct {
		name      string
		set       operatorSettings
		ok        bool
		wantToken string
		admins    int
	}{
		{"off", operatorSettings{}, true, "", 0},
		{"token-file", operatorSettings{TokenFile: good}, true, "0123456789abcdef-token", 0},
		{"admins", operatorSettings{Admins: " alice , bob@example.org,"}, true, "", 2},
		{"short-token", operatorSettings{TokenFile: short}, false, "", 0},
		{"empty-file", operatorSettings{TokenFile: empty}, false, "", 0},
		{"missing-file", operatorSettings{TokenFile: filepath.Join(dir, "nope")}, false, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gc gateway.Config
			err := wireOperator(t.Context(), &config{Operator: tt.set}, nil, nil, &gc)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok %v", err, tt.ok)
			}
			if err != nil {
				if strings.Contains(err.Error(), "0123456789") {
					t.Errorf("the error %q shows the token", err)
				}
				return
			}
			if gc.Operator.Token != tt.wantToken || len(gc.Operator.Admins) != tt.admins {
				t.Errorf("operator config %+v, want token %q and %d admins", gc.Operator, tt.wantToken, tt.admins)
			}
		})
	}
}

// TestIntegrationOperatorRun: the real run with -operator-token-file
// serves the operator API; a user locked out stays locked out after a
// restart on the same data directory (the lockout is in the store), and
// neither the token nor the password reaches the log.
func TestIntegrationOperatorRun(t *testing.T) {
	u := ejabberdtest.NewUser(t)
	data := t.TempDir()
	const token = "run-operator-token-0123456789"
	file := filepath.Join(t.TempDir(), "operator.token")
	if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	extra := map[string]string{"SPARKGATE_OPERATOR_TOKEN_FILE": file}
	call := func(addr, method, path, auth string) int {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, "http://"+addr+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	login := func(addr string) int {
		t.Helper()
		resp, err := http.Post("http://"+addr+"/sparkweb/api/rest/login/"+u.Name, "text/plain", strings.NewReader(u.Password))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	addr, logs, stop := startRun(t, data, extra)
	if got := call(addr, "GET", "/sparkweb/api/operator/sessions", "Bearer "+token); got != 200 {
		t.Fatalf("sessions with the operator token: %d", got)
	}
	if got := call(addr, "GET", "/sparkweb/api/operator/sessions", "Bearer wrong-"+token); got != 401 {
		t.Fatalf("sessions with a wrong token: %d", got)
	}
	if got := call(addr, "PUT", "/sparkweb/api/operator/lockouts/"+u.Name, "Bearer "+token); got != 200 {
		t.Fatalf("lock out: %d", got)
	}
	if err := stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	addr2, logs2, stop2 := startRun(t, data, extra)
	defer stop2()
	if got := login(addr2); got != 403 {
		t.Errorf("a locked-out user's login after a restart: %d, want 403", got)
	}
	if got := call(addr2, "DELETE", "/sparkweb/api/operator/lockouts/"+u.Name, token); got != 200 {
		t.Fatalf("unlock: %d", got)
	}
	if got := login(addr2); got != 200 {
		t.Errorf("login after unlock: %d, want 200", got)
	}
	if err := stop2(); err != nil {
		t.Fatalf("run: %v", err)
	}
	for _, l := range []string{logs.String(), logs2.String()} {
		if strings.Contains(l, token) || strings.Contains(l, u.Password) {
			t.Fatal("the operator token or a password reached the log")
		}
	}
	if !strings.Contains(logs.String(), "operator locked a user out") {
		t.Error("the lockout was not logged")
	}
}
