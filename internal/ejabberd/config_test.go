package ejabberd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

func TestWriteConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ejabberd.yml")
	d := configData{
		Version: "23.01-1", Domain: "localhost", LogLevel: "warning",
		C2SPort: 5222, APIPort: 5281, UploadPort: 5443, ComponentPort: 5347, Component: "push.localhost", Secret: "s3cret",
		SQLDatabase: "/run/ejabberd.db", UploadDir: "/run/upload", UploadURL: "http://127.0.0.1:5443/upload",
		MUCService: "conference.localhost", PubSubService: "pubsub.localhost", UploadService: "upload.localhost",
	}
	if err := writeConfig(path, d); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Listen []struct {
			Port          int               `yaml:"port"`
			IP            string            `yaml:"ip"`
			Module        string            `yaml:"module"`
			Shaper        string            `yaml:"shaper"`
			Backlog       int               `yaml:"backlog"`
			MaxStanzaSize int               `yaml:"max_stanza_size"`
			Handlers      map[string]string `yaml:"request_handlers"`
			Hosts         map[string]struct {
				Password string `yaml:"password"`
			} `yaml:"hosts"`
		} `yaml:"listen"`
		Disabled    []string                  `yaml:"disable_sasl_mechanisms"`
		ShaperRules map[string]any            `yaml:"shaper_rules"`
		Modules     map[string]map[string]any `yaml:"modules"`
		Certfiles   []string                  `yaml:"certfiles"`
		DefaultDB   string                    `yaml:"default_db"`
		AuthMethod  string                    `yaml:"auth_method"`
	}
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatalf("generated config is not YAML: %v", err)
	}
	if len(cfg.Listen) != 4 {
		t.Fatalf("%d listeners, want 4 (c2s, admin API, upload, push component; no mqtt)", len(cfg.Listen))
	}
	// The credential-less admin API and the uploads anyone may make never
	// share a listener (an uploaded page would be same-origin with the API).
	handlers := map[int]map[string]string{}
	for _, l := range cfg.Listen {
		if l.Module == "ejabberd_http" {
			handlers[l.Port] = l.Handlers
		}
	}
	want := map[int]map[string]string{5281: {"/api": "mod_http_api"}, 5443: {"/upload": "mod_http_upload"}}
	if d := cmp.Diff(want, handlers); d != "" {
		t.Errorf("HTTP listeners (-want +got):\n%s", d)
	}
	for _, l := range cfg.Listen {
		if l.IP != "127.0.0.1" || l.Backlog != 1024 {
			t.Errorf("listener %s: ip %q backlog %d", l.Module, l.IP, l.Backlog)
		}
		if l.Module == "ejabberd_c2s" && (l.Port != 5222 || l.Shaper != "none" || l.MaxStanzaSize != 262144) {
			t.Errorf("c2s listener: %+v", l)
		}
		if l.Module == "ejabberd_service" && (l.Port != 5347 || len(l.Hosts) != 1 || l.Hosts["push.localhost"].Password != "s3cret") {
			t.Errorf("component listener: %+v", l)
		}
		if strings.Contains(l.Module, "mqtt") {
			t.Errorf("mqtt listener present")
		}
	}
	if len(cfg.Disabled) != 1 || cfg.Disabled[0] != "digest-md5" {
		t.Errorf("disable_sasl_mechanisms = %v, want only digest-md5", cfg.Disabled)
	}
	if cfg.ShaperRules["c2s_shaper"] != "none" {
		t.Errorf("c2s_shaper = %v", cfg.ShaperRules["c2s_shaper"])
	}
	if cfg.DefaultDB != "sql" || cfg.AuthMethod != "sql" {
		t.Errorf("default_db, auth_method = %q, %q; want sql, sql (Mnesia's disc tables write behind)",
			cfg.DefaultDB, cfg.AuthMethod)
	}
	if len(cfg.Certfiles) != 0 {
		t.Errorf("certfiles = %v", cfg.Certfiles)
	}
	for _, m := range []string{"mod_http_api", "mod_muc", "mod_muc_admin", "mod_mam", "mod_pubsub", "mod_private",
		"mod_http_upload", "mod_offline", "mod_roster", "mod_vcard", "mod_stream_mgmt", "mod_carboncopy",
		"mod_shared_roster", "mod_push", "mod_ping", "mod_disco", "mod_caps", "mod_admin_extra", "mod_last",
		"mod_adhoc", "mod_blocking", "mod_privacy"} {
		if _, ok := cfg.Modules[m]; !ok {
			t.Errorf("module %s missing", m)
		}
	}
	if _, ok := cfg.Modules["mod_register"]; ok {
		t.Error("mod_register is on: accounts must not change in band (XEP-0077)")
	}
	headers, _ := cfg.Modules["mod_http_upload"]["custom_headers"].(map[string]any)
	if headers["Content-Security-Policy"] != "sandbox" || headers["X-Content-Type-Options"] != "nosniff" || headers["Content-Disposition"] != "attachment" {
		t.Errorf("mod_http_upload custom_headers = %v, want CSP sandbox, nosniff and attachment", headers)
	}
	if p := cfg.Modules["mod_push"]; p["include_sender"] != true || p["include_body"] != true {
		t.Errorf("mod_push = %v, want include_sender and include_body (the app server is the gateway)", p)
	}
	if got := cfg.Modules["mod_mam"]["db_type"]; got != "sql" {
		t.Errorf("mod_mam db_type = %v, want sql", got)
	}
}

func TestWriteConfigRejectsUnsafeValues(t *testing.T) {
	for _, domain := range []string{`a"b`, "a\nb", `a\b`} {
		err := writeConfig(filepath.Join(t.TempDir(), "x.yml"), configData{Domain: domain, LogLevel: "info"})
		if err == nil {
			t.Errorf("writeConfig accepted domain %q", domain)
		}
	}
}

func TestErlString(t *testing.T) {
	if got, want := erlString(`/tmp/a "b"\c`), `"/tmp/a \"b\"\\c"`; got != want {
		t.Errorf("erlString = %s, want %s", got, want)
	}
}
