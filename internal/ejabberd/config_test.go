package ejabberd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestWriteConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ejabberd.yml")
	d := configData{
		Version: "23.01-1", Domain: "localhost", LogLevel: "warning",
		C2SPort: 5222, HTTPPort: 5280,
		SQLDatabase: "/run/ejabberd.db", UploadDir: "/run/upload", UploadURL: "http://127.0.0.1:5280/upload",
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
			Port          int    `yaml:"port"`
			IP            string `yaml:"ip"`
			Module        string `yaml:"module"`
			Shaper        string `yaml:"shaper"`
			Backlog       int    `yaml:"backlog"`
			MaxStanzaSize int    `yaml:"max_stanza_size"`
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
	if len(cfg.Listen) != 2 {
		t.Fatalf("%d listeners, want 2 (c2s, http; no mqtt)", len(cfg.Listen))
	}
	for _, l := range cfg.Listen {
		if l.IP != "127.0.0.1" || l.Backlog != 1024 {
			t.Errorf("listener %s: ip %q backlog %d", l.Module, l.IP, l.Backlog)
		}
		if l.Module == "ejabberd_c2s" && (l.Port != 5222 || l.Shaper != "none" || l.MaxStanzaSize != 262144) {
			t.Errorf("c2s listener: %+v", l)
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
		"mod_adhoc", "mod_register"} {
		if _, ok := cfg.Modules[m]; !ok {
			t.Errorf("module %s missing", m)
		}
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
