package jid

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/xdg-go/stringprep"
)

// MaxPartBytes is RFC 7622's limit on each part of a JID, in bytes of
// UTF-8 after preparation.
const MaxPartBytes = 1023

// nodeprepExtra are the characters Nodeprep prohibits beyond the common
// tables (RFC 3920 appendix A.5): they delimit the parts of a JID or are
// unsafe in XML.
var nodeprepExtra = stringprep.Set{
	{'"', '"'}, {'&', '\''}, {'/', '/'}, {':', ':'}, {'<', '<'}, {'>', '>'}, {'@', '@'},
}

// prohibited are the tables every profile here refuses: non-ASCII spaces,
// controls, private use, non-characters, surrogates, characters that are
// not plain text, change display properties or are deprecated, tagging
// characters, and code points unassigned in Unicode 3.2.
var prohibited = []stringprep.Set{
	stringprep.TableA1,
	stringprep.TableC1_2, stringprep.TableC2_2, stringprep.TableC3,
	stringprep.TableC4, stringprep.TableC5, stringprep.TableC6,
	stringprep.TableC7, stringprep.TableC8, stringprep.TableC9,
}

var (
	nodeprep = stringprep.Profile{
		Mappings:  []stringprep.Mapping{stringprep.TableB1, stringprep.TableB2},
		Normalize: true,
		// C.1.1 (the ASCII space) and C.2.1 (ASCII controls) too: a
		// localpart holds neither.
		Prohibits: append([]stringprep.Set{stringprep.TableC1_1, stringprep.TableC2_1, nodeprepExtra}, prohibited...),
		CheckBiDi: true,
	}
	nameprep = stringprep.Profile{
		Mappings:  []stringprep.Mapping{stringprep.TableB1, stringprep.TableB2},
		Normalize: true,
		Prohibits: prohibited,
		CheckBiDi: true,
	}
	resourceprep = stringprep.Profile{
		Mappings:  []stringprep.Mapping{stringprep.TableB1},
		Normalize: true,
		Prohibits: append([]stringprep.Set{stringprep.TableC2_1}, prohibited...),
		CheckBiDi: true,
	}
)

// Part names a part of a JID in error messages.
type Part string

const (
	PartLocal    Part = "username"
	PartDomain   Part = "domain"
	PartResource Part = "resource"
)

// Error is why a string cannot be a part of a JID.
type Error struct {
	Part   Part
	Reason string
}

func (e *Error) Error() string { return "the " + string(e.Part) + " " + e.Reason }

// Localpart returns the canonical form of a JID's localpart (a username or
// a room name): Nodeprep, as the server applies it.
func Localpart(s string) (string, error) {
	if out, ok := asciiLocalpart(s); ok {
		return out, nil
	}
	return prepare(nodeprep, PartLocal, s)
}

// asciiLocalpart is Localpart for the common case, a name of printable
// ASCII that Nodeprep allows: there it only lowercases (NFKC and the bidi
// rule change nothing in ASCII), and checking every request's token
// subject this way costs next to nothing. ok is false for anything else,
// which takes the whole profile (and its error message).
func asciiLocalpart(s string) (out string, ok bool) {
	if s == "" || len(s) > MaxPartBytes {
		return "", false
	}
	upper := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c <= ' ' || c >= 0x7f:
			return "", false
		case c == '"' || c == '&' || c == '\'' || c == '/' || c == ':' || c == '<' || c == '>' || c == '@':
			return "", false
		case 'A' <= c && c <= 'Z':
			upper = true
		}
	}
	if upper {
		return strings.ToLower(s), true
	}
	return s, true
}

// Resourcepart returns the canonical form of a JID's resourcepart.
func Resourcepart(s string) (string, error) { return prepare(resourceprep, PartResource, s) }

// Domainpart returns the canonical form of a domain: Nameprep, then a
// check that it holds none of the characters that delimit a JID or that
// no host name has (spaces, quotes, angle brackets). A trailing dot (the
// DNS root) is removed, as RFC 7622 section 3.2 asks.
func Domainpart(s string) (string, error) {
	out, err := prepare(nameprep, PartDomain, strings.TrimSuffix(s, "."))
	if err != nil {
		return "", err
	}
	if i := strings.IndexAny(out, "@/\"&'<>: \\"); i >= 0 {
		return "", &Error{PartDomain, fmt.Sprintf("may not contain %q", out[i])}
	}
	// Nameprep leaves ASCII controls to the rules of host names.
	if strings.ContainsFunc(out, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return "", &Error{PartDomain, "may not contain control characters"}
	}
	if strings.HasPrefix(out, ".") || strings.HasSuffix(out, ".") || strings.Contains(out, "..") {
		return "", &Error{PartDomain, "has an empty label"}
	}
	return out, nil
}

// prepare applies profile p to s and checks the result's size.
func prepare(p stringprep.Profile, part Part, s string) (string, error) {
	switch {
	case s == "":
		return "", &Error{part, "is empty"}
	case !utf8.ValidString(s):
		return "", &Error{part, "is not valid UTF-8"}
	case len(s) > 4*MaxPartBytes:
		// NFKC can shrink a string, but not by more than this; refuse
		// before spending time on a huge one.
		return "", &Error{part, fmt.Sprintf("is longer than %d bytes", MaxPartBytes)}
	}
	out, err := p.Prepare(s)
	if err != nil {
		return "", &Error{part, reason(err)}
	}
	switch {
	case out == "":
		return "", &Error{part, "is empty once prepared (it holds only characters the server removes)"}
	case len(out) > MaxPartBytes:
		return "", &Error{part, fmt.Sprintf("is longer than %d bytes", MaxPartBytes)}
	}
	// Stringprep is not idempotent: case folding comes before NFKC, so a
	// compatibility character can normalize to a capital (U+03F9, lunate
	// sigma, becomes Σ), which a second preparation folds again. The
	// server prepares once, so such a name would be one account to the
	// gateway and another to whoever logs in with the form once prepared.
	// Only names that are their own canonical form are taken.
	if again, err := p.Prepare(out); err != nil || again != out {
		return "", &Error{part, "holds a character the server's rules do not map to a stable form"}
	}
	return out, nil
}

// reason turns a stringprep error into words for a person.
func reason(err error) string {
	var se stringprep.Error
	if !errors.As(err, &se) {
		return "is not allowed by the server's rules"
	}
	r := se.Rune
	switch {
	case r == ' ' || r == '\t' || strings.ContainsRune("\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u200b\u202f\u205f\u3000", r):
		return "may not contain spaces"
	case r < 0x20 || (r >= 0x7f && r < 0xa0):
		return "may not contain control characters"
	case r < 0x80:
		return fmt.Sprintf("may not contain %q", r)
	case se.Msg == "prohibited character":
		return fmt.Sprintf("may not contain the character U+%04X", r)
	}
	return "mixes left-to-right and right-to-left text in a way the server refuses"
}
