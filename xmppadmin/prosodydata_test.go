package xmppadmin

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// rosterFile is a roster as Prosody 0.12 wrote it (seen in
// TestIntegrationMuteStrangers' run): a contact the user asked, with a
// quote and brackets in its name, and a request pending to the user.
const rosterFile = `return {
	[false] = {
		["version"] = 3;
		["pending"] = {
			["carol@localhost"] = {
				["attr"] = {
					["from"] = "carol@localhost";
					["type"] = "subscribe";
					["xml:lang"] = "en";
				};
				["name"] = "presence";
			};
		};
	};
	["bob@localhost"] = {
		["ask"] = "subscribe";
		["groups"] = {
			["Grp \"two\""] = true;
			["G1"] = true;
		};
		["name"] = "N\"ick]]";
		["approved"] = "true";
		["subscription"] = "none";
	};
	["dave@localhost"] = {
		["groups"] = {};
		["subscription"] = "both";
	};
};
`

func TestParseProsodyData(t *testing.T) {
	for _, tt := range []struct {
		name, src string
		want      any
	}{
		{"number", "return 42", 42.0},
		{"negative float", "return -1.5e2;", -150.0},
		{"hex", "return 0x10", 16.0},
		{"true", "return true", true},
		{"nil", "return nil", nil},
		{"escapes", `return "a\"b\\c\n\65\x42\z   d\'"`, "a\"b\\c\nABd'"}, // \z skips the spaces after it
		{"single quotes", `return 'it\'s "so"'`, `it's "so"`},
		{"line continuation", "return \"a\\\nb\"", "a\nb"},
		{"empty table", "return {}", luaTable{}},
		{"positional", `return { "a", "b"; 3 }`, luaTable{1.0: "a", 2.0: "b", 3.0: 3.0}},
		{"names", `return { version = 1, [false] = { x = true } }`, luaTable{"version": 1.0, false: luaTable{"x": true}}},
		{"nil value dropped", `return { a = nil, ["b"] = 1 }`, luaTable{"b": 1.0}},
		{"comment", "-- a note\nreturn { a = 1 } -- end", luaTable{"a": 1.0}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseProsodyData([]byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseProsodyDataRefuses(t *testing.T) {
	for _, src := range []string{
		"", "{}", "return", "return {", "return { a = }", "return { [nil] = 1 }", "return { a = 1 b = 2 }",
		`return "open`, `return 'it''s'`, "return \"a\nb\"", `return "\q"`, `return "\x4"`, `return "\300"`, "return 1 2",
		"return os.exit()", "return { f() }", "return 1..2", "return [[long]]", "return -inf", "return nan", "return 1_0", "return 0b1",
		"return " + strings.Repeat("{", maxProsodyDepth+1) + strings.Repeat("}", maxProsodyDepth+1),
	} {
		if v, err := parseProsodyData([]byte(src)); !errors.Is(err, errProsodyData) {
			t.Errorf("parseProsodyData(%q) = %v, %v; want errProsodyData", src, v, err)
		}
	}
	if _, err := parseProsodyData(make([]byte, maxProsodyData+1)); !errors.Is(err, errProsodyData) {
		t.Errorf("a file over the bound: %v", err)
	}
}

func TestProsodyRosterEntries(t *testing.T) {
	dir := t.TempDir()
	p := &Prosodyctl{DataDir: dir, Domain: "localhost"}
	rosters := filepath.Join(dir, "localhost", "roster")
	if err := os.MkdirAll(rosters, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rosters, "alice.dat"), []byte(rosterFile), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := p.RosterEntries(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	want := []RosterEntry{
		{JID: "bob@localhost", Nickname: `N"ick]]`, Subscription: "none", Groups: []string{"G1", `Grp "two"`}},
		{JID: "dave@localhost", Subscription: "both"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RosterEntries (-want +got):\n%s", diff)
	}
	if got, err := p.RosterEntries(t.Context(), "nobody"); err != nil || len(got) != 0 {
		t.Errorf("RosterEntries(no file) = %v, %v; want none", got, err)
	}
	if _, err := p.RosterEntries(t.Context(), "../alice"); !errors.Is(err, ErrUserNotFound) {
		t.Errorf("RosterEntries(../alice) = %v, want ErrUserNotFound", err)
	}
	if err := os.WriteFile(filepath.Join(rosters, "eve.dat"), []byte("return os.exit(1)"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := p.RosterEntries(t.Context(), "eve"); !errors.Is(err, errProsodyData) {
		t.Errorf("RosterEntries(code) = %v, want errProsodyData", err)
	}
}

// luaQuote writes s as Prosody's serializer does (%q: quotes, backslash
// and line breaks escaped, other control bytes as decimal escapes).
func luaQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString("\\\n")
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, "\\%d", c)
			if i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' {
				b.Reset() // Lua pads to three digits then; keep to the simple case
				return ""
			}
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// FuzzProsodyData: any input is parsed or refused, never a panic; a
// roster written as the server writes it gives back its contact.
func FuzzProsodyData(f *testing.F) {
	f.Add([]byte(rosterFile), "bob@localhost")
	f.Add([]byte(`return { [false] = {}; }`), "a\"b\\c\nd")
	f.Add([]byte("return {{{{}}}}"), "\x01\x7f")
	f.Fuzz(func(t *testing.T, src []byte, jid string) {
		parseProsodyData(src)
		q := luaQuote(jid)
		if q == "" {
			return
		}
		v, err := parseProsodyData([]byte("return {\n\t[false] = { [\"version\"] = 1; };\n\t[" + q + "] = { [\"subscription\"] = \"both\"; };\n};\n"))
		if err != nil {
			t.Fatalf("the server's form of %q: %v", jid, err)
		}
		entries, err := prosodyRoster(v)
		if err != nil || len(entries) != 1 || entries[0].JID != jid || entries[0].Subscription != "both" {
			t.Fatalf("roster of %q = %+v, %v", jid, entries, err)
		}
	})
}
