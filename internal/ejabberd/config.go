package ejabberd

import (
	_ "embed"
	"fmt"
	"os"
	"strings"
	"text/template"
)

//go:embed ejabberd.yml.tmpl
var configText string

var configTemplate = template.Must(template.New("ejabberd.yml").Parse(configText))

// configData is what ejabberd.yml.tmpl is filled with. Every string is already
// quoted-safe for a YAML double-quoted scalar (see yamlSafe).
type configData struct {
	Version       string
	Domain        string
	LogLevel      string
	C2SPort       int
	APIPort       int
	UploadPort    int
	ComponentPort int
	Component     string // the push app server's JID
	Secret        string // its listener's shared secret
	SQLDatabase   string
	UploadDir     string
	UploadURL     string
	MUCService    string
	PubSubService string
	UploadService string
}

// writeConfig renders the template into path.
func writeConfig(path string, d configData) error {
	for _, s := range []string{d.Domain, d.LogLevel, d.SQLDatabase, d.UploadDir, d.UploadURL, d.Component, d.Secret} {
		if !yamlSafe(s) {
			return fmt.Errorf("ejabberd: config value %q cannot be written to ejabberd.yml", s)
		}
	}
	var b strings.Builder
	if err := configTemplate.Execute(&b, d); err != nil {
		return fmt.Errorf("ejabberd: render config: %w", err)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("ejabberd: write config: %w", err)
	}
	return nil
}

// yamlSafe reports whether s can be put inside a YAML double-quoted scalar
// without escaping: no quotes, backslashes or control characters.
func yamlSafe(s string) bool {
	for _, r := range s {
		if r == '"' || r == '\\' || r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// erlString quotes s as an Erlang string literal, as -mnesia dir expects.
func erlString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}
