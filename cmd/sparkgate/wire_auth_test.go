package main

import (
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/store"
)

func TestWebAuthnParty(t *testing.T) {
	tests := []struct {
		name, publicURL, rpID, origins string
		wantID                         string
		wantOrigins                    []string
		wantErr                        bool
	}{
		{"from-public-url", "https://chat.example.org:8443/app", "", "", "chat.example.org", []string{"https://chat.example.org:8443"}, false},
		{"default", "http://localhost:8080", "", "", "localhost", []string{"http://localhost:8080"}, false},
		{"configured", "http://127.0.0.1:8080", "example.org", " https://a.example.org/ , https://b.example.org", "example.org", []string{"https://a.example.org", "https://b.example.org"}, false},
		{"ip-host", "http://127.0.0.1:8080", "", "", "", nil, true},
		{"relative", "/sparkweb", "", "", "", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, origins, err := webAuthnParty(tt.publicURL, tt.rpID, tt.origins)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if id != tt.wantID || !cmp.Equal(origins, tt.wantOrigins) {
				t.Fatalf("webAuthnParty = %q %q, want %q %q", id, origins, tt.wantID, tt.wantOrigins)
			}
		})
	}
}

func TestWireAuth(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(t.Context(), filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	keys, err := auth.LoadOrCreateKeys(filepath.Join(dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := loadConfig([]string{"-login-ip-burst=0", "-lockout-failures=0", "-lockout-user-failures=0", "-totp=false", "-login-user-burst=3", "-login-user-interval=1m"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var gc gateway.Config
	if err := wireAuth(t.Context(), c, st, keys, &gc); err != nil {
		t.Fatal(err)
	}
	a := gc.Auth
	if a.TOTP != nil || a.Passkeys == nil || a.TOTPOnly || a.TicketTTL != 5*time.Minute {
		t.Fatalf("auth config %+v", a)
	}
	if a.PerIP.Burst >= 0 || a.MaxFailures >= 0 || a.MaxUserFailures >= 0 {
		t.Fatalf("zero settings do not switch the limits off: %+v %d %d", a.PerIP, a.MaxFailures, a.MaxUserFailures)
	}
	if a.PerUser != (gateway.RateLimit{Every: time.Minute, Burst: 3}) {
		t.Fatalf("per-user limit %+v", a.PerUser)
	}

	c, err = loadConfig([]string{"-public-url=http://127.0.0.1:8080"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := wireAuth(t.Context(), c, st, keys, &gc); err == nil {
		t.Fatal("an IP address as the WebAuthn RP id was accepted")
	}
}
