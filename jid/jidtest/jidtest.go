// Package jidtest gives tests a username together with the other
// spellings the XMPP server takes for the same account: case, full-width
// letters, a ligature, a superscript, the Kelvin sign, decomposed accents
// and an invisible soft hyphen. Tests use them to show that every per-user
// mechanism sees one user whichever spelling arrives.
package jidtest

import "strings"

// Spelling is one way of writing a username.
type Spelling struct {
	Kind string // what differs from the canonical form, for test names
	Text string
}

// prefix holds a letter with an accent and the letters that have
// compatibility forms ("ff", "2", "k").
const prefix = "zo\u00e9ff2k"

// Name returns a canonical username made of the test's letters and
// suffix, which must be lower-case ASCII letters and digits (a random hex
// string, say).
func Name(suffix string) string { return prefix + suffix }

// Spellings returns the spellings of Name(suffix) other than itself; each
// prepares (Nodeprep) to Name(suffix).
func Spellings(suffix string) []Spelling {
	return []Spelling{
		{"upper case", strings.ToUpper(prefix + suffix)},
		{"full-width", FullWidth(prefix + suffix)},
		{"ligature ff", "zo\u00e9\ufb002k" + suffix},
		{"superscript two", "zo\u00e9ff\u00b2k" + suffix},
		{"Kelvin sign", "zo\u00e9ff2\u212a" + suffix},
		{"decomposed accent", "zoe\u0301ff2k" + suffix},
		{"decomposed upper accent", "ZOE\u0301FF2K" + strings.ToUpper(suffix)},
		{"soft hyphen", "zo\u00ad\u00e9ff2k" + suffix},
	}
}

// Others returns names close to Name(suffix) that package jid keeps
// apart from it (other accounts, to the server as well).
func Others(suffix string) []Spelling {
	return []Spelling{
		{"accent dropped", "zoeff2k" + suffix},
		{"one f", "zo\u00e9f2k" + suffix},
		{"dotless i for i", "zo\u00e9ff2k" + strings.ReplaceAll(suffix, "i", "\u0131") + "\u0131"},
		{"greek kappa for k", "zo\u00e9ff2\u03ba" + suffix},
	}
}

// FullWidth spells the printable ASCII of s in its full-width forms
// (U+FF01 to U+FF5E), which NFKC maps back.
func FullWidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r > ' ' && r < 0x7f {
			r += 0xff01 - '!'
		}
		b.WriteRune(r)
	}
	return b.String()
}
