package jid_test

import (
	"strings"
	"testing"

	"github.com/sparkgate/sparkgate/jid"
	"github.com/sparkgate/sparkgate/jid/jidtest"
)

func TestLocalpart(t *testing.T) {
	tests := []struct {
		name, in, want string // want "" means refused
	}{
		{"plain", "alice", "alice"},
		{"upper case", "ALICE", "alice"},
		{"full-width", jidtest.FullWidth("alice"), "alice"},
		{"full-width upper", jidtest.FullWidth("ALICE"), "alice"},
		{"ligature ff", "e\ufb00ie", "effie"},
		{"ligature fi", "\ufb01na", "fina"},
		{"superscript two", "bob\u00b2", "bob2"},
		{"subscript two", "bob\u2082", "bob2"},
		{"kelvin sign", "\u212aate", "kate"},
		{"roman numeral twelve", "louis\u216b", "louisxii"},
		{"circled digit", "agent\u2466", "agent7"},
		{"NFD e acute", "e\u0301lodie", "\u00e9lodie"},
		{"NFC e acute", "\u00e9lodie", "\u00e9lodie"},
		{"upper NFD", "E\u0301LODIE", "\u00e9lodie"},
		{"sharp s folds", "stra\u00dfe", "strasse"},
		{"final sigma folds", "\u03c3\u03bf\u03c6\u03bf\u03c2", "\u03c3\u03bf\u03c6\u03bf\u03c3"},
		{"soft hyphen removed", "al\u00adice", "alice"},
		{"zero width joiner removed", "al\u200dice", "alice"},
		{"variation selector removed", "alice\ufe0f", "alice"},
		{"CJK kept", "\u540d\u524d", "\u540d\u524d"},
		{"hebrew right to left", "\u05d0\u05d1\u05d2", "\u05d0\u05d1\u05d2"},
		{"dots and dashes", "Alice.Smith-2_x", "alice.smith-2_x"},
		{"longest", strings.Repeat("a", 1023), strings.Repeat("a", 1023)},
		{"longest full-width", strings.Repeat("\uff41", 1023), strings.Repeat("a", 1023)},

		{"empty", "", ""},
		{"only a soft hyphen", "\u00ad", ""},
		{"too long", strings.Repeat("a", 1024), ""},
		{"too long once prepared", strings.Repeat("\u00df", 512), ""},
		{"at", "a@b", ""},
		{"full-width at", "a\uff20b", ""},
		{"slash", "a/b", ""},
		{"colon", "a:b", ""},
		{"space", "a b", ""},
		{"no-break space", "a\u00a0b", ""},
		{"ideographic space", "a\u3000b", ""},
		{"NUL", "a\x00b", ""},
		{"tab", "a\tb", ""},
		{"DEL", "a\x7fb", ""},
		{"angle brackets", "<script>", ""},
		{"apostrophe", "it's", ""},
		{"ampersand", "a&b", ""},
		{"quote", `a"b`, ""},
		{"full-width quote", "a\uff02b", ""},
		{"left-to-right mark", "a\u200eb", ""},
		{"right-to-left override", "a\u202eb", ""},
		{"private use", "a\ue000b", ""},
		{"replacement character", "a\ufffdb", ""},
		{"unassigned in Unicode 3.2 (emoji)", "a\U0001f600", ""},
		{"mixed directions", "\u05d0a", ""},
		{"invalid UTF-8", "bad\xffutf8", ""},
		{"lunate sigma (not stable under Nodeprep)", "\u03f9", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := jid.Localpart(tt.in)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("Localpart(%q) = %q, want an error", tt.in, got)
				}
				if !strings.HasPrefix(err.Error(), "the username ") {
					t.Errorf("error %q does not name the username", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Localpart(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			// Canonical forms are fixed points.
			if again, err := jid.Localpart(got); err != nil || again != got {
				t.Errorf("Localpart(%q) = %q, %v; a canonical form must map to itself", got, again, err)
			}
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in, want string // want "" means refused
	}{
		{"bob@example.org", "bob@example.org"},
		{"Bob@Example.ORG", "bob@example.org"},
		{jidtest.FullWidth("bob") + "@example.org", "bob@example.org"},
		{"bob@example.org.", "bob@example.org"},
		{"bob@example.org/Phone", "bob@example.org/Phone"},
		{"bob@example.org/Phone\u00b2", "bob@example.org/Phone2"},
		{"bob@example.org/a/b@c", "bob@example.org/a/b@c"},
		{"example.org", "example.org"},
		{"conference.example.org/nick", "conference.example.org/nick"},
		{"\u00e9@\u00c9XAMPLE.org", "\u00e9@\u00e9xample.org"},

		{"", ""},
		{"@example.org", ""},
		{"bob@", ""},
		{"bob@example.org/", ""},
		{"bob@exa mple.org", ""},
		{"bob@a@b", ""},
		{"bob@a..b", ""},
		{"bob@.", ""},
		{"bob@exa<mple.org", ""},
		{"bob@example.org/x\u200ey", ""},
	}
	for _, tt := range tests {
		got, err := jid.Parse(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("Parse(%q) = %q, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got.String() != tt.want {
			t.Errorf("Parse(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestUser(t *testing.T) {
	got, err := jid.User("\uff21lice", "Example.org")
	if err != nil || got != "alice@example.org" {
		t.Fatalf("User = %q, %v; want alice@example.org", got, err)
	}
	if _, err := jid.User("a b", "example.org"); err == nil {
		t.Fatal("User accepted a space")
	}
	if _, err := jid.User("a", "exa mple.org"); err == nil {
		t.Fatal("User accepted a space in the domain")
	}
}

// TestLocalpartASCIIFastPath checks the ASCII shortcut against the whole
// Nodeprep profile for every ASCII byte in every position.
func TestLocalpartASCIIFastPath(t *testing.T) {
	for c := 0; c < 0x80; c++ {
		for _, s := range []string{string(rune(c)), "a" + string(rune(c)), string(rune(c)) + "B", "Xy" + string(rune(c)) + "z"} {
			fast, ok := jid.ASCIILocalpart(s)
			slow, err := jid.PrepareNode(s)
			switch {
			case ok && err != nil:
				t.Errorf("%q: the shortcut gives %q, the profile refuses it: %v", s, fast, err)
			case ok && fast != slow:
				t.Errorf("%q: the shortcut gives %q, the profile %q", s, fast, slow)
			}
			got, err := jid.Localpart(s)
			if (err == nil) != (slow != "") || got != slow {
				t.Errorf("Localpart(%q) = %q, %v; the profile gives %q", s, got, err, slow)
			}
		}
	}
}
