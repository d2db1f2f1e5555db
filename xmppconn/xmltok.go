package xmppconn

// The stream's own XML tokenizer.
//
// # Contract
//
// tokenizer reads the restricted XML of an XMPP stream (RFC 6120 §11) from
// a capture and yields its tokens one at a time: start tags (a self-closing
// tag as a start and an end, the end read from no input), end tags, text
// (character data and CDATA sections) and, as the very first token only,
// the XML declaration. Element and attribute names come resolved against
// the namespaces in scope exactly as encoding/xml's Decoder.Token resolves
// them (same Space for prefixed, unprefixed, xml: and xmlns names, same
// DefaultSpace rule, an undeclared prefix left as the Space); end tags must
// match their start tag. Where it accepts its input, its tokens are the
// ones encoding/xml's strict Decoder.Token gives for that input (the
// differential fuzz target FuzzTokenizer holds it to that).
//
// It exists because encoding/xml allocates for every name, attribute value
// and token and boxes each token twice (tokenizer and namespace layer):
// 50 of the 76 allocations of a chat message's read (BenchmarkEventPath).
// Here names and common namespaces come from a fixed table, a start tag's
// attribute values share one string, and tokens are not boxed.
//
// # What it refuses
//
// Every refusal is an ErrProtocol error; the client does not answer it
// with a stream error of its own but ends the connection. Its text starts
// with the condition a receiving server would send (RFC 6120 §4.9.3):
//
//   - restricted-xml (errRestrictedXML): comments, document type
//     declarations and every other <! markup but CDATA sections, processing
//     instructions other than an XML declaration as the stream's first
//     token, and entity references other than the five predefined ones and
//     character references (those are not-well-formed, as for encoding/xml:
//     no DTD can declare them);
//   - not-well-formed: any other syntax error, invalid UTF-8, characters
//     outside XML's Char production, end tags that do not match, an XML
//     declaration of a version other than 1.0 or an encoding other than
//     UTF-8;
//   - policy-violation (errXMLLimit): more than maxDepth elements open at
//     once (the stream root included), more than maxAttrs attributes on one
//     start tag (namespace declarations included).
//
// # Bounds
//
// The capture bounds the bytes of every token and of every top-level
// element (Config.MaxStanzaSize: the reader moves the capture's mark to
// each top-level token), so the tokenizer's scratch buffers never exceed
// it. Its stacks are bounded by maxDepth (open elements) and maxDepth ×
// maxAttrs (namespace bindings). The tokenizer keeps no state between
// stanzas but those stacks and buffers.

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

var (
	// errRestrictedXML marks XML that RFC 6120 §11 keeps out of streams.
	errRestrictedXML = errors.New("restricted-xml")
	// errXMLLimit marks a depth or attribute limit exceeded.
	errXMLLimit = errors.New("policy-violation")
)

type tokKind uint8

const (
	tokStart tokKind = iota + 1
	tokEnd
	tokText
	tokDecl
)

// xmlToken is one token. Its fields are valid until the next call of
// tokenizer.next, except attr, which stays valid until the end of the
// top-level element it belongs to (xmlattrs.go).
type xmlToken struct {
	kind   tokKind
	name   xml.Name   // tokStart, tokEnd: resolved
	prefix string     // tokStart, tokEnd: the prefix as written
	attr   []xml.Attr // tokStart: names resolved; nil when none
	text   []byte     // tokText: unescaped text; tokDecl: the declaration's content
}

// openElem is an element whose end tag has not been read.
type openElem struct {
	prefix, local string
	name          xml.Name // resolved
	nsLen         int      // len(tokenizer.ns) before its declarations
}

type nsBinding struct{ prefix, uri string }

// rawAttr is an attribute as written: its value is vals[from:to].
type rawAttr struct {
	prefix, local string
	from, to      int
}

type tokenizer struct {
	c                  *capture
	maxDepth, maxAttrs int
	defaultSpace       string // the Space of unprefixed element names with no default namespace declared

	depth     int  // elements open
	ntok      int  // tokens read
	closeNext bool // the last start tag was self-closing: its end comes next
	err       error

	open []openElem
	ns   []nsBinding
	text []byte    // text of the current text token
	name []byte    // scratch for names
	vals []byte    // the current start tag's attribute values, unescaped
	raw  []rawAttr // the current start tag's attributes as written
	tok  xmlToken

	// arena is where attribute slices are cut from (xmlattrs.go).
	arena []xml.Attr

	// strs is the chunk the strings of the current top-level element are
	// cut from (xmlstrings.go).
	strs strings.Builder
}

// maxKeptScratch bounds the scratch buffers a tokenizer keeps between
// top-level elements: a connection that once read a large stanza does not
// hold its size for ever.
const maxKeptScratch = 4 << 10

// between is called after each top-level element. It lets go of the
// string chunk (the next element's strings get a new one) and of scratch
// buffers grown large, and makes the attribute arena's room free for the
// next element's attributes.
func (t *tokenizer) between() {
	t.reuseAttrs()
	t.newChunk()
	if cap(t.text) > maxKeptScratch {
		t.text = nil
	}
	if cap(t.vals) > maxKeptScratch {
		t.vals = nil
	}
	if cap(t.name) > maxKeptScratch {
		t.name = nil
	}
}

func newTokenizer(c *capture, maxDepth, maxAttrs int) *tokenizer {
	return &tokenizer{c: c, maxDepth: maxDepth, maxAttrs: maxAttrs}
}

// offset is the stream offset of the next byte the tokenizer will read.
func (t *tokenizer) offset() int64 { return t.c.base + int64(t.c.r) }

// getc returns the next byte. It is small enough to be inlined: it runs
// for most bytes of a tag.
func (t *tokenizer) getc() (byte, error) {
	c := t.c
	if c.r < c.end {
		b := c.buf[c.r]
		c.r++
		return b, nil
	}
	return c.ReadByte()
}

// ready returns the bytes the capture holds that getc may hand out
// without a fill. They are valid until the next getc.
func (t *tokenizer) ready() []byte {
	c := t.c
	return c.buf[c.r:max(c.r, c.end)]
}

// ungetc puts back the byte getc just returned (it is still in the
// capture's buffer: a fill only happens before a byte is read).
func (t *tokenizer) ungetc() { t.c.r-- }

func notWellFormed(format string, args ...any) error {
	return fmt.Errorf("%w: not-well-formed: "+format, append([]any{ErrProtocol}, args...)...)
}

func restricted(what string) error {
	return fmt.Errorf("%w: %w: %s in stream", ErrProtocol, errRestrictedXML, what)
}

// next returns the next token. After an error it returns the same error.
func (t *tokenizer) next() (*xmlToken, error) {
	if t.err != nil {
		return nil, t.err
	}
	tok, err := t.read()
	if err != nil {
		t.err = err
		return nil, err
	}
	t.ntok++
	return tok, nil
}

func (t *tokenizer) read() (*xmlToken, error) {
	if t.closeNext {
		t.closeNext = false
		top := t.open[len(t.open)-1]
		return t.end(top.prefix, top.local)
	}
	b, err := t.getc()
	if err != nil {
		return nil, err
	}
	if b != '<' {
		t.ungetc()
		return t.readText(false)
	}
	if b, err = t.getc(); err != nil {
		return nil, err
	}
	switch b {
	case '/':
		return t.endTag()
	case '?':
		return t.decl()
	case '!':
		if b, err = t.getc(); err != nil {
			return nil, err
		}
		switch b {
		case '[':
			for i := range len("CDATA[") {
				if b, err = t.getc(); err != nil {
					return nil, err
				}
				if b != "CDATA["[i] {
					return nil, notWellFormed("invalid <![ sequence")
				}
			}
			return t.readText(true)
		case '-':
			return nil, restricted("comment")
		}
		return nil, restricted("document type declaration")
	}
	t.ungetc()
	return t.startTag()
}

// readText reads character data up to the next '<' (or the end of the
// input), or a CDATA section's content.
func (t *tokenizer) readText(cdata bool) (*xmlToken, error) {
	var err error
	t.text, err = t.unescape(t.text[:0], -1, cdata)
	if err != nil {
		return nil, err
	}
	t.setTok(tokText, xml.Name{}, "", nil, t.text)
	return &t.tok, nil
}

// unescape appends text to dst as encoding/xml's Decoder reads it: up to
// quote (an attribute value), up to '<' (character data) or up to "]]>"
// (cdata), replacing references and turning "\r\n" and "\r" into "\n". The
// text appended is then checked to be UTF-8 of XML characters.
func (t *tokenizer) unescape(dst []byte, quote int, cdata bool) ([]byte, error) {
	start := len(dst)
	class := &textClass
	switch quote {
	case '"':
		class = &quotClass
	case '\'':
		class = &aposClass
	}
	var b0, b1 byte
	check := false // a byte checkChars must see was appended
	for {
		// Runs of bytes that stand for themselves are copied at once
		// (but not a '>' that may end "]]>").
		if p := t.ready(); len(p) > 0 && b1 != ']' {
			n := 0
			var seen byte
			for _, b := range p {
				c := class[b]
				if c == textStop {
					break
				}
				seen |= c
				n++
			}
			if n > 0 {
				check = check || seen&textHigh != 0
				dst = append(dst, p[:n]...)
				t.c.r += n
				b0, b1 = 0, 0 // neither ']' nor '\r': no sequence spans the run
				continue
			}
		}
		b, err := t.getc()
		if err != nil {
			if cdata || quote >= 0 {
				return dst, err
			}
			// Character data ends at the end of the input; the error
			// is the next token's.
			t.err = err
			break
		}
		if quote < 0 && b0 == ']' && b1 == ']' && b == '>' {
			if cdata {
				dst = dst[:len(dst)-2]
				break
			}
			return dst, notWellFormed("unescaped ]]> not in CDATA section")
		}
		if b == '<' && !cdata {
			if quote >= 0 {
				return dst, notWellFormed("unescaped < inside quoted string")
			}
			t.ungetc()
			break
		}
		if quote >= 0 && b == byte(quote) {
			break
		}
		if b == '&' && !cdata {
			if dst, err = t.reference(dst); err != nil {
				return dst, err
			}
			b0, b1 = 0, 0
			check = true
			continue
		}
		if b < 0x20 || b >= utf8.RuneSelf {
			check = true
		}
		switch {
		case b == '\r':
			dst = append(dst, '\n')
		case b1 == '\r' && b == '\n':
		default:
			dst = append(dst, b)
		}
		b0, b1 = b1, b
	}
	if check {
		if err := checkChars(dst[start:]); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// Classes of bytes in text and attribute values.
const (
	textPlain = 0
	textHigh  = 1 // part of a multi-byte character: checkChars must see it
	textStop  = 2 // '<', '&', ']', '\r' or a control character: read one by one
)

var textClass = func() (c [256]byte) {
	for b := range c {
		switch {
		case b < 0x20 || b == '<' || b == '&' || b == ']' || b == '\r':
			c[b] = textStop
		case b >= utf8.RuneSelf:
			c[b] = textHigh
		}
	}
	return c
}()

// quotClass and aposClass are textClass for attribute values: their quote
// stops a run too (one table lookup per byte instead of a lookup and a
// comparison).
var quotClass, aposClass = stopAt('"'), stopAt('\'')

func stopAt(quote byte) [256]byte {
	c := textClass
	c[quote] = textStop
	return c
}

// reference appends what the reference after a '&' stands for: one of the
// five predefined entities or a character reference. A character reference
// to a surrogate stands for U+FFFD, as in encoding/xml; one to a character
// XML excludes fails checkChars.
func (t *tokenizer) reference(dst []byte) ([]byte, error) {
	b, err := t.getc()
	if err != nil {
		return dst, err
	}
	if b == '#' {
		if b, err = t.getc(); err != nil {
			return dst, err
		}
		base := uint64(10)
		if b == 'x' {
			base = 16
			if b, err = t.getc(); err != nil {
				return dst, err
			}
		}
		var n uint64
		digits := 0
		for {
			var v uint64
			switch {
			case '0' <= b && b <= '9':
				v = uint64(b - '0')
			case base == 16 && 'a' <= b && b <= 'f':
				v = uint64(b-'a') + 10
			case base == 16 && 'A' <= b && b <= 'F':
				v = uint64(b-'A') + 10
			default:
				v = base
			}
			if v == base {
				break
			}
			if n <= utf8.MaxRune {
				n = n*base + v
			}
			digits++
			if b, err = t.getc(); err != nil {
				return dst, err
			}
		}
		if b != ';' || digits == 0 || n > utf8.MaxRune {
			return dst, notWellFormed("invalid character reference")
		}
		return utf8.AppendRune(dst, rune(n)), nil
	}
	t.name = t.name[:0]
	for b >= utf8.RuneSelf || isNameByte(b) {
		t.name = append(t.name, b)
		if b, err = t.getc(); err != nil {
			return dst, err
		}
	}
	if b == ';' {
		switch string(t.name) {
		case "lt":
			return append(dst, '<'), nil
		case "gt":
			return append(dst, '>'), nil
		case "amp":
			return append(dst, '&'), nil
		case "apos":
			return append(dst, '\''), nil
		case "quot":
			return append(dst, '"'), nil
		}
	}
	return dst, notWellFormed("invalid entity reference &%s", t.name)
}

// checkChars reports whether p is UTF-8 made of XML characters (XML 1.0
// production Char).
func checkChars(p []byte) error {
	for i := 0; i < len(p); {
		if b := p[i]; b < utf8.RuneSelf {
			if b < 0x20 && b != '\t' && b != '\n' && b != '\r' {
				return notWellFormed("illegal character code %U", rune(b))
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(p[i:])
		if r == utf8.RuneError && size == 1 {
			return notWellFormed("invalid UTF-8")
		}
		if !(r <= 0xD7FF || 0xE000 <= r && r <= 0xFFFD || 0x10000 <= r && r <= 0x10FFFF) {
			return notWellFormed("illegal character code %U", r)
		}
		i += size
	}
	return nil
}

func isNameByte(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '_' || c == ':' || c == '.' || c == '-'
}

// nameBytes is isNameByte as a table, for readName's loop over the bytes
// at hand.
var nameBytes = func() (t [256]bool) {
	for c := range t {
		t[c] = isNameByte(byte(c))
	}
	return t
}()

// nameStart reports whether the ASCII name byte c may start a name.
func nameStart(c byte) bool { return !('0' <= c && c <= '9' || c == '.' || c == '-') }

// readName reads an XML name. It reports false, having read nothing, when
// the next byte cannot start one. The name returned is valid until the
// next getc.
func (t *tokenizer) readName() ([]byte, bool, error) {
	// A name that ends within the bytes at hand is not copied.
	p := t.ready()
	n := 0
	for n < len(p) && nameBytes[p[n]] {
		n++
	}
	if n > 0 && n < len(p) && p[n] < utf8.RuneSelf {
		t.c.r += n
		// An ASCII name: only its first byte needs isName's check.
		if !nameStart(p[0]) {
			return nil, false, notWellFormed("invalid XML name: %q", p[:n])
		}
		return p[:n], true, nil
	}
	t.name = t.name[:0]
	for {
		b, err := t.getc()
		if err != nil {
			return nil, false, err
		}
		if b < utf8.RuneSelf && !isNameByte(b) {
			t.ungetc()
			break
		}
		t.name = append(t.name, b)
	}
	if len(t.name) == 0 {
		return nil, false, nil
	}
	if !isName(t.name) {
		return nil, false, notWellFormed("invalid XML name: %q", t.name)
	}
	return t.name, true, nil
}

// isName reports whether b is an XML name as encoding/xml defines one. An
// ASCII name is checked here; a name with other characters, rare in
// XMPP, is checked by encoding/xml itself (its Unicode tables are not
// exported), as the target of a processing instruction.
func isName(b []byte) bool {
	ascii := true
	for i, c := range b {
		switch {
		case c >= utf8.RuneSelf:
			ascii = false
		case i == 0 && !nameStart(c):
			return false
		}
	}
	if ascii {
		return true
	}
	pi := append(append([]byte("<?"), b...), "?>"...)
	_, err := xml.NewDecoder(bytes.NewReader(pi)).RawToken()
	return err == nil
}

// nsname reads a name and splits it at its colon as encoding/xml does: a
// name with more than one colon is refused (ok false), one with an empty
// prefix or local part is all local.
func (t *tokenizer) nsname() (prefix, local string, ok bool, err error) {
	n, ok, err := t.readName()
	if !ok {
		return "", "", false, err
	}
	i := bytes.IndexByte(n, ':')
	switch {
	case i < 0:
		return "", t.intern(n), true, nil
	case bytes.IndexByte(n[i+1:], ':') >= 0:
		return "", "", false, nil
	case i == 0 || i == len(n)-1:
		return "", t.intern(n), true, nil
	}
	return t.intern(n[:i]), t.intern(n[i+1:]), true, nil
}

// space skips white space.
func (t *tokenizer) space() error {
	for {
		// Skip what the capture holds at once: where a tag may have
		// white space, it mostly has none or a blank.
		c := t.c
		for c.r < c.end && isSpace(c.buf[c.r]) {
			c.r++
		}
		if c.r < c.end {
			return nil
		}
		b, err := t.getc()
		if err != nil {
			return err
		}
		if !isSpace(b) {
			t.ungetc()
			return nil
		}
	}
}

func isSpace(b byte) bool { return b == ' ' || b == '\r' || b == '\n' || b == '\t' }

func (t *tokenizer) endTag() (*xmlToken, error) {
	prefix, local, ok, err := t.nsname()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notWellFormed("expected element name after </")
	}
	if err := t.space(); err != nil {
		return nil, err
	}
	b, err := t.getc()
	if err != nil {
		return nil, err
	}
	if b != '>' {
		return nil, notWellFormed("invalid characters between </%s and >", local)
	}
	return t.end(prefix, local)
}

// end closes the innermost open element, which must have the same name.
func (t *tokenizer) end(prefix, local string) (*xmlToken, error) {
	if len(t.open) == 0 {
		return nil, notWellFormed("unexpected end element </%s>", local)
	}
	top := &t.open[len(t.open)-1]
	if top.local != local || top.prefix != prefix {
		return nil, notWellFormed("element <%s> closed by </%s>", top.local, local)
	}
	t.open = t.open[:len(t.open)-1]
	t.ns = t.ns[:top.nsLen]
	t.depth--
	t.setTok(tokEnd, top.name, prefix, nil, nil)
	return &t.tok, nil
}

// decl reads a processing instruction, which may only be the XML
// declaration at the start of the stream.
func (t *tokenizer) decl() (*xmlToken, error) {
	target, ok, err := t.readName()
	if err != nil || !ok {
		if err == nil {
			err = notWellFormed("expected target name after <?")
		}
		return nil, err
	}
	if t.ntok != 0 || string(target) != "xml" {
		return nil, restricted("processing instruction")
	}
	if err := t.space(); err != nil {
		return nil, err
	}
	t.text = t.text[:0]
	var b0 byte
	for {
		b, err := t.getc()
		if err != nil {
			return nil, err
		}
		t.text = append(t.text, b)
		if b0 == '?' && b == '>' {
			break
		}
		b0 = b
	}
	t.text = t.text[:len(t.text)-2]
	if v := declParam(t.text, "version"); v != "" && v != "1.0" {
		return nil, notWellFormed("XML version %q, only 1.0 is supported", v)
	}
	if enc := declParam(t.text, "encoding"); enc != "" && !strings.EqualFold(enc, "utf-8") {
		return nil, notWellFormed("encoding %q, only UTF-8 is supported", enc)
	}
	t.setTok(tokDecl, xml.Name{}, "", nil, t.text)
	return &t.tok, nil
}

// declParam finds name='value' or name="value" in the content of an XML
// declaration, the way encoding/xml does (loosely: the first quoted value
// after "name=").
func declParam(content []byte, name string) string {
	key := name + "="
	s := string(content)
	i := 0
	var quote byte
	for i < len(s) {
		rest := s[i:]
		k := strings.Index(rest, key)
		if k < 0 || len(key)+k >= len(rest) {
			return ""
		}
		i += len(key) + k + 1
		if c := rest[len(key)+k]; c == '\'' || c == '"' {
			quote = c
			break
		}
	}
	if quote == 0 {
		return ""
	}
	j := strings.IndexByte(s[i:], quote)
	if j < 0 {
		return ""
	}
	return s[i : i+j]
}

func (t *tokenizer) startTag() (*xmlToken, error) {
	prefix, local, ok, err := t.nsname()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notWellFormed("expected element name after <")
	}
	t.raw, t.vals = t.raw[:0], t.vals[:0]
	empty := false
	for {
		if err := t.space(); err != nil {
			return nil, err
		}
		b, err := t.getc()
		if err != nil {
			return nil, err
		}
		if b == '/' {
			if b, err = t.getc(); err != nil {
				return nil, err
			}
			if b != '>' {
				return nil, notWellFormed("expected /> in element")
			}
			empty = true
			break
		}
		if b == '>' {
			break
		}
		t.ungetc()
		if len(t.raw) == t.maxAttrs {
			return nil, fmt.Errorf("%w: %w: more than %d attributes", ErrProtocol, errXMLLimit, t.maxAttrs)
		}
		ap, al, ok, err := t.nsname()
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, notWellFormed("expected attribute name in element")
		}
		quote, err := t.eq()
		if err != nil {
			return nil, err
		}
		from := len(t.vals)
		if t.vals, err = t.unescape(t.vals, int(quote), false); err != nil {
			return nil, err
		}
		t.raw = append(t.raw, rawAttr{prefix: ap, local: al, from: from, to: len(t.vals)})
	}
	if t.depth == t.maxDepth {
		return nil, fmt.Errorf("%w: %w: elements nested deeper than %d", ErrProtocol, errXMLLimit, t.maxDepth)
	}
	return t.start(prefix, local, empty), nil
}

// eq reads what lies between an attribute's name and its value: an equals
// sign and the opening quote, which it returns, with white space around
// the sign. Nearly every attribute is written name='value' (or "value"),
// so those two bytes are taken at once when the capture holds them.
func (t *tokenizer) eq() (byte, error) {
	if p := t.ready(); len(p) >= 2 && p[0] == '=' && (p[1] == '\'' || p[1] == '"') {
		t.c.r += 2
		return p[1], nil
	}
	if err := t.space(); err != nil {
		return 0, err
	}
	b, err := t.getc()
	if err != nil {
		return 0, err
	}
	if b != '=' {
		return 0, notWellFormed("attribute name without = in element")
	}
	if err := t.space(); err != nil {
		return 0, err
	}
	if b, err = t.getc(); err != nil {
		return 0, err
	}
	if b != '"' && b != '\'' {
		return 0, notWellFormed("unquoted or missing attribute value in element")
	}
	return b, nil
}

// start declares the namespaces of a start tag just read, resolves its
// names and opens the element.
func (t *tokenizer) start(prefix, local string, empty bool) *xmlToken {
	var attr []xml.Attr
	nsLen := len(t.ns)
	if len(t.raw) > 0 {
		attr = t.attrs(len(t.raw))
		var all string // the values, converted at most once
		converted := false
		for i := range t.raw {
			a := &t.raw[i]
			p := t.vals[a.from:a.to]
			v, ok := "", false
			if !converted && len(p) <= maxNameLen {
				v, ok = lookupName(p)
			}
			if !ok {
				if !converted {
					all, converted = t.str(t.vals), true
				}
				v = all[a.from:a.to]
			}
			attr[i].Value = v
			switch {
			case a.prefix == "xmlns":
				t.ns = append(t.ns, nsBinding{a.local, v})
			case a.prefix == "" && a.local == "xmlns":
				t.ns = append(t.ns, nsBinding{"", v})
			}
		}
		// Declarations apply to every name of the tag, before or after them.
		for i := range t.raw {
			a := &t.raw[i]
			attr[i].Name = t.resolve(xml.Name{Space: a.prefix, Local: a.local}, false)
		}
	}
	name := t.resolve(xml.Name{Space: prefix, Local: local}, true)
	// Fields one by one: a struct copy costs a bulk write barrier.
	if len(t.open) < cap(t.open) {
		t.open = t.open[:len(t.open)+1]
	} else {
		t.open = append(t.open, openElem{})
	}
	e := &t.open[len(t.open)-1]
	e.prefix, e.local, e.name, e.nsLen = prefix, local, name, nsLen
	t.depth++
	t.closeNext = empty
	t.setTok(tokStart, name, prefix, attr, nil)
	return &t.tok
}

func (t *tokenizer) setTok(kind tokKind, name xml.Name, prefix string, attr []xml.Attr, text []byte) {
	k := &t.tok
	k.kind, k.name, k.prefix, k.attr, k.text = kind, name, prefix, attr, text
}

const xmlURL = "http://www.w3.org/XML/1998/namespace"

// resolve gives n, whose Space is a prefix as written, the Space
// encoding/xml's Decoder gives it.
func (t *tokenizer) resolve(n xml.Name, element bool) xml.Name {
	switch {
	case n.Space == "xmlns":
		return n
	case n.Space == "" && !element:
		return n
	case n.Space == "xml":
		n.Space = xmlURL
		return n
	case n.Space == "" && n.Local == "xmlns":
		return n
	}
	for i := len(t.ns) - 1; i >= 0; i-- {
		if t.ns[i].prefix == n.Space {
			n.Space = t.ns[i].uri
			return n
		}
	}
	if n.Space == "" {
		n.Space = t.defaultSpace
	}
	return n
}

// skip reads the rest of the element whose start tag was read last, up to
// and including its end tag.
func (t *tokenizer) skip() error {
	for d := t.depth; t.depth >= d; {
		if _, err := t.next(); err != nil {
			return err
		}
	}
	return nil
}
