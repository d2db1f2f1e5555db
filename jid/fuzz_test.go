package jid_test

import (
	"testing"
	"unicode/utf8"

	"github.com/sparkgate/sparkgate/jid"
)

// FuzzParse checks, for any input, that Parse never panics, that what it
// accepts is a fixed point (parsing its string form gives it back) and that
// every part it returns is valid UTF-8 within RFC 7622's size limit.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"alice@example.org/phone", "\uff21lice@example.org", "e\u0301@x", "\ufb00@x/\u00b2",
		"a@b@c/d/e", "\u05d0@x", "\u00ad@x", "x.", "@", "/", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		j, err := jid.Parse(s)
		if err != nil {
			return
		}
		for _, p := range []string{j.Local, j.Domain, j.Resource} {
			if !utf8.ValidString(p) || len(p) > jid.MaxPartBytes {
				t.Fatalf("Parse(%q) gave a part %q that is invalid or too long", s, p)
			}
		}
		again, err := jid.Parse(j.String())
		if err != nil || again != j {
			t.Fatalf("Parse(%q) = %#v, but Parse(%q) = %#v, %v", s, j, j.String(), again, err)
		}
	})
}
