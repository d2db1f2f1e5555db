package depstest

import (
	"slices"
	"testing"
)

func TestMatchAny(t *testing.T) {
	tests := []struct {
		p    string
		pats []string
		want bool
	}{
		{"gosrc.io/xmpp/stanza", []string{"gosrc.io"}, true},
		{"gosrc.io", []string{"gosrc.io"}, true},
		{"gosrc.iox/y", []string{"gosrc.io"}, false},
		{Module + "/authx", []string{Ours("auth")}, false},
		{Module + "/auth/sub", []string{Ours("auth")}, true},
		{"a.b/c", nil, false},
	}
	for _, tt := range tests {
		if got := matchAny(tt.p, tt.pats); got != tt.want {
			t.Errorf("matchAny(%q, %v) = %v, want %v", tt.p, tt.pats, got, tt.want)
		}
	}
}

// TestImports runs go list for real: this package imports nothing outside
// the standard library, and its tests see the same.
func TestImports(t *testing.T) {
	if got := Imports(t, "."); len(got) != 0 {
		t.Errorf("Imports(.) = %v, want none", got)
	}
	if got := Deps(t, Ours("jid")); !slices.Contains(got, "github.com/xdg-go/stringprep") || slices.Contains(got, Ours("jid")) {
		t.Errorf("Deps(jid) = %v, want stringprep and not jid itself", got)
	}
}
