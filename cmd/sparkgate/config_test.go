package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "sparkgate.yaml")
	if err := os.WriteFile(file, []byte("listen: 127.0.0.1:9000\nxmpp-domain: file.example\ntoken-lifetime: 2h\nregistration: false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(*config) string
	}{
		{"defaults", nil, nil, func(c *config) string {
			if c.Listen != "127.0.0.1:8080" || c.XMPPDomain != "localhost" || c.TokenLifetime != 8*time.Hour || !c.Registration {
				return "defaults not applied"
			}
			if c.MUCService != "conference.localhost" || c.PubSubService != "pubsub.localhost" {
				return "derived services wrong: " + c.MUCService + " " + c.PubSubService
			}
			return ""
		}},
		{"file", []string{"-config", file}, nil, func(c *config) string {
			if c.Listen != "127.0.0.1:9000" || c.XMPPDomain != "file.example" || c.TokenLifetime != 2*time.Hour || c.Registration {
				return "file not applied"
			}
			if c.MUCService != "conference.file.example" {
				return "muc not derived from file domain"
			}
			return ""
		}},
		{"env-over-file", []string{"-config", file}, map[string]string{"SPARKGATE_LISTEN": "127.0.0.1:9001"}, func(c *config) string {
			if c.Listen != "127.0.0.1:9001" || c.XMPPDomain != "file.example" {
				return "env did not win over file"
			}
			return ""
		}},
		{"config-file-from-env", nil, map[string]string{"SPARKGATE_CONFIG": file}, func(c *config) string {
			if c.Listen != "127.0.0.1:9000" {
				return "SPARKGATE_CONFIG not read"
			}
			return ""
		}},
		{"flag-over-env", []string{"-listen", "127.0.0.1:9002"}, map[string]string{"SPARKGATE_LISTEN": "127.0.0.1:9001"}, func(c *config) string {
			if c.Listen != "127.0.0.1:9002" {
				return "flag did not win over env"
			}
			return ""
		}},
		{"cors-list", []string{"-cors-origins", " https://a.example , https://b.example,"}, nil, func(c *config) string {
			got := c.corsOrigins()
			if len(got) != 2 || got[0] != "https://a.example" || got[1] != "https://b.example" {
				return "cors origins: " + strings.Join(got, "|")
			}
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadConfig(tt.args, envOf(tt.env), io.Discard)
			if err != nil {
				t.Fatalf("loadConfig: %v", err)
			}
			if msg := tt.check(c); msg != "" {
				t.Error(msg)
			}
		})
	}
}

func TestLoadConfigRejects(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("no-such-setting: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"bad-tls", []string{"-xmpp-tls", "maybe"}, nil, "want one of"},
		{"bad-duration", nil, map[string]string{"SPARKGATE_TOKEN_LIFETIME": "soon"}, "SPARKGATE_TOKEN_LIFETIME"},
		{"short-lifetime", []string{"-token-lifetime", "10s"}, nil, "shorter than a minute"},
		{"short-refresh", []string{"-refresh-lifetime", "30s"}, nil, "refresh-lifetime 30s must be"},
		{"remember-shorter", nil, map[string]string{"SPARKGATE_REMEMBER_LIFETIME": "1h"}, "remember-lifetime 1h0m0s no shorter"},
		{"long-retry-window", []string{"-refresh-retry-window", "1h"}, nil, "refresh-retry-window 1h0m0s is longer than 10m"},
		{"negative-retry-window", nil, map[string]string{"SPARKGATE_REFRESH_RETRY_WINDOW": "-1s"}, "SPARKGATE_REFRESH_RETRY_WINDOW"},
		{"bad-bool", []string{"-registration", "perhaps"}, nil, "true or false"},
		{"unknown-file-key", []string{"-config", bad}, nil, "unknown setting"},
		{"missing-file", []string{"-config", filepath.Join(dir, "none.yaml")}, nil, "config file"},
		{"stray-arg", []string{"extra"}, nil, "unexpected arguments"},
		{"bad-level", []string{"-log-level", "loud"}, nil, "want one of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig(tt.args, envOf(tt.env), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("loadConfig(%q) error = %v, want it to mention %q", tt.args, err, tt.want)
			}
		})
	}
}

// configTable renders the README's configuration table from options.
func configTable() string {
	var b strings.Builder
	b.WriteString("| flag / YAML key | environment | default | meaning |\n|---|---|---|---|\n")
	for _, o := range options {
		def := "`" + o.def + "`"
		if o.def == "" {
			def = "(empty)"
		}
		b.WriteString("| `-" + o.name + "` | `" + o.env() + "` | " + def + " | " + o.usage + " |\n")
	}
	return b.String()
}

// TestREADMEOptions keeps README.md's configuration table equal to the
// options the binary accepts.
func TestREADMEOptions(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	want := configTable()
	if !strings.Contains(string(readme), want) {
		t.Errorf("README.md's configuration table is out of date; it should contain:\n%s", want)
	}
}

func TestSessionGrace(t *testing.T) {
	tests := []struct {
		name string
		c    config
		want time.Duration
	}{
		{"set", config{SessionGrace: time.Minute, TokenLifetime: 8 * time.Hour}, time.Minute},
		{"push component", config{TokenLifetime: 8 * time.Hour, Push: pushSettings{Enabled: true, Component: "127.0.0.1:5347"}}, defaultSessionGrace},
		{"push off", config{TokenLifetime: 8 * time.Hour, Push: pushSettings{Component: "127.0.0.1:5347"}}, 8 * time.Hour},
		{"no component", config{TokenLifetime: 8 * time.Hour, Push: pushSettings{Enabled: true}}, 8 * time.Hour},
	}
	for _, tt := range tests {
		if got := sessionGrace(&tt.c); got != tt.want {
			t.Errorf("%s: sessionGrace = %v, want %v", tt.name, got, tt.want)
		}
	}
}
