package xmppconn

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// newTestTokenizer tokenizes in with the given limits, as the stream does.
func newTestTokenizer(in string, maxDepth, maxAttrs int) *tokenizer {
	return newTokenizer(newCapture(strings.NewReader(in), len(in)+1), maxDepth, maxAttrs)
}

// render writes a token the way the tests spell them: <{space}local
// {space}attr="v">, </{space}local>, "text", <?xml content?>.
func render(t *xmlToken) string {
	switch t.kind {
	case tokStart:
		var b strings.Builder
		fmt.Fprintf(&b, "<{%s}%s", t.name.Space, t.name.Local)
		for _, a := range t.attr {
			fmt.Fprintf(&b, " {%s}%s=%q", a.Name.Space, a.Name.Local, a.Value)
		}
		b.WriteString(">")
		return b.String()
	case tokEnd:
		return fmt.Sprintf("</{%s}%s>", t.name.Space, t.name.Local)
	case tokText:
		return fmt.Sprintf("%q", t.text)
	case tokDecl:
		return fmt.Sprintf("<?xml %s?>", t.text)
	}
	return "?"
}

func TestTokenizer(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // tokens up to the end or the error
		err  error    // nil: the input ends cleanly (io.EOF)
	}{
		{"declaration and root", `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`,
			[]string{`<?xml version='1.0'?>`, `<{http://etherx.jabber.org/streams}stream {}xmlns="jabber:client" {xmlns}stream="http://etherx.jabber.org/streams">`}, io.EOF},
		{"default namespace inherited", `<a xmlns='urn:a'><b/><c xmlns=''/></a>`,
			[]string{`<{urn:a}a {}xmlns="urn:a">`, `<{urn:a}b>`, `</{urn:a}b>`, `<{}c {}xmlns="">`, `</{}c>`, `</{urn:a}a>`}, nil},
		{"prefixed attribute and xml:lang", `<a xmlns:p='urn:p' p:x='1' xml:lang='en' y="2"/>`,
			[]string{`<{}a {xmlns}p="urn:p" {urn:p}x="1" {http://www.w3.org/XML/1998/namespace}lang="en" {}y="2">`, `</{}a>`}, nil},
		{"undeclared prefix kept as the space", `<q:a/>`, []string{`<{q}a>`, `</{q}a>`}, nil},
		{"references", `<a t='&lt;&#65;&#x263A;&quot;'>&amp;&apos;&gt;</a>`,
			[]string{`<{}a {}t="<A☺\"">`, `"&'>"`, `</{}a>`}, nil},
		{"cdata", `<a><![CDATA[<b>&amp;]]]></a>`, []string{`<{}a>`, `"<b>&amp;]"`, `</{}a>`}, nil},
		{"newlines normalized", "<a>x\r\ny\rz</a>", []string{`<{}a>`, `"x\ny\nz"`, `</{}a>`}, nil},
		{"white space in tags", "<a \n b = 'c' ></a >", []string{`<{}a {}b="c">`, `</{}a>`}, nil},
		{"text at the end of input", "<a/>tail", []string{`<{}a>`, `</{}a>`, `"tail"`}, nil},
		{"non-ASCII name", `<é/>`, []string{`<{}é>`, `</{}é>`}, nil},

		{"comment", `<a><!-- x --></a>`, []string{`<{}a>`}, errRestrictedXML},
		{"doctype", `<!DOCTYPE a [<!ENTITY e 'x'>]><a/>`, nil, errRestrictedXML},
		{"processing instruction", `<a><?php x?></a>`, []string{`<{}a>`}, errRestrictedXML},
		{"declaration not first", ` <?xml version='1.0'?>`, []string{`" "`}, errRestrictedXML},
		{"declared entity", `<a>&lol;</a>`, []string{`<{}a>`}, ErrProtocol},
		{"other version", `<?xml version='1.1'?>`, nil, ErrProtocol},
		{"other encoding", `<?xml version='1.0' encoding='ISO-8859-1'?>`, nil, ErrProtocol},
		{"mismatched end", `<a></b>`, []string{`<{}a>`}, ErrProtocol},
		{"mismatched prefix", `<p:a xmlns:p='u'></a>`, []string{`<{u}a {xmlns}p="u">`}, ErrProtocol},
		{"end without start", `</a>`, nil, ErrProtocol},
		{"unquoted attribute", `<a b=c/>`, nil, ErrProtocol},
		{"attribute without value", `<a b/>`, nil, ErrProtocol},
		{"less-than in attribute", `<a b='<'/>`, nil, ErrProtocol},
		{"]]> in text", `<a>]]></a>`, []string{`<{}a>`}, ErrProtocol},
		{"bad UTF-8", "<a>\xff</a>", []string{`<{}a>`}, ErrProtocol},
		{"control character", "<a>\x01</a>", []string{`<{}a>`}, ErrProtocol},
		{"NUL by reference", "<a>&#0;</a>", []string{`<{}a>`}, ErrProtocol},
		{"reference past Unicode", "<a>&#x110000;</a>", []string{`<{}a>`}, ErrProtocol},
		{"name with two colons", `<a:b:c/>`, nil, ErrProtocol},
		{"name starting with a digit", `<1a/>`, nil, ErrProtocol},
		{"unterminated CDATA", `<a><![CDATA[x`, []string{`<{}a>`}, io.EOF},
		{"unterminated tag", `<a b='1'`, nil, io.EOF},

		{"too deep", `<a><b><c><d>`, []string{`<{}a>`, `<{}b>`, `<{}c>`}, errXMLLimit},
		{"too many attributes", `<a a='1' b='2' c='3' d='4' e='5'/>`, nil, errXMLLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := newTestTokenizer(tt.in, 3, 4)
			var got []string
			var err error
			for {
				var tok *xmlToken
				if tok, err = tk.next(); err != nil {
					break
				}
				got = append(got, render(tok))
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("tokens\n got %s\nwant %s", strings.Join(got, " "), strings.Join(tt.want, " "))
			}
			want := tt.err
			if want == nil {
				want = io.EOF
			}
			if !errors.Is(err, want) {
				t.Errorf("error %v, want %v", err, want)
			}
			if again, _ := tk.next(); again != nil {
				t.Errorf("a token after the error: %s", render(again))
			}
		})
	}
}

// TestTokenizerOffsets: the offset after each token is the one
// encoding/xml's InputOffset gives, which is where the reader cuts the
// exact bytes of a stanza.
func TestTokenizerOffsets(t *testing.T) {
	in := `<?xml version='1.0'?><s xmlns='jabber:client'> <message id='1'><body>hi &amp; bye</body><x/></message>` + "\n" + `<presence/></s>`
	tk := newTestTokenizer(in, 10, 10)
	d := xml.NewDecoder(strings.NewReader(in))
	for {
		_, err := tk.next()
		_, derr := d.Token()
		if (err == nil) != (derr == nil) {
			t.Fatalf("tokenizer %v, encoding/xml %v", err, derr)
		}
		if err != nil {
			break
		}
		if tk.offset() != d.InputOffset() {
			t.Fatalf("offset %d, encoding/xml %d", tk.offset(), d.InputOffset())
		}
	}
}

// FuzzTokenizer compares the tokenizer with encoding/xml's strict
// Decoder.Token on arbitrary input: token by token, both give the same
// token or both refuse. The tokenizer may refuse alone only as restricted
// XML, where encoding/xml gives a comment, a directive or a processing
// instruction.
func FuzzTokenizer(f *testing.F) {
	for _, seed := range []string{
		clientHeader + benchChat + "</stream:stream>",
		`<a xmlns='urn:a' xmlns:p='urn:p'><p:b p:c='1' xml:lang='en'/><c xmlns=''>t&amp;&#65;<![CDATA[x]]></c></a>`,
		`<?xml version="1.0" encoding="UTF-8"?><a/>`,
		"<a>\r\n]]&gt;\r</a>",
		`<a><!-- c --><!DOCTYPE x><?pi x?></a>`,
		`<é:ü xmlns:é='u'/>`,
		`<a b='&#xD800;'/>`,
		`<xmlns:a/><a xmlns:=''/>`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tk := newTokenizer(newCapture(bytes.NewReader(data), len(data)+1), 1<<20, 1<<20)
		d := xml.NewDecoder(bytes.NewReader(data))
		for i := 0; ; i++ {
			tok, err := tk.next()
			want, werr := d.Token()
			switch {
			case err != nil && werr != nil:
				return
			case err != nil:
				switch want.(type) {
				case xml.Comment, xml.Directive, xml.ProcInst:
					if errors.Is(err, errRestrictedXML) {
						return
					}
				}
				t.Fatalf("token %d: tokenizer refused (%v), encoding/xml gave %#v", i, err, want)
			case werr != nil:
				t.Fatalf("token %d: tokenizer gave %s, encoding/xml refused (%v)", i, render(tok), werr)
			}
			if got := asXMLToken(tok); !equalTokens(got, want) {
				t.Fatalf("token %d: tokenizer %#v, encoding/xml %#v", i, got, want)
			}
		}
	})
}

func asXMLToken(t *xmlToken) xml.Token {
	switch t.kind {
	case tokStart:
		return xml.StartElement{Name: t.name, Attr: t.attr}
	case tokEnd:
		return xml.EndElement{Name: t.name}
	case tokText:
		return xml.CharData(t.text)
	case tokDecl:
		return xml.ProcInst{Target: "xml", Inst: t.text}
	}
	return nil
}

func equalTokens(a, b xml.Token) bool {
	switch a := a.(type) {
	case xml.StartElement:
		b, ok := b.(xml.StartElement)
		if !ok || a.Name != b.Name || len(a.Attr) != len(b.Attr) {
			return false
		}
		for i := range a.Attr {
			if a.Attr[i] != b.Attr[i] {
				return false
			}
		}
		return true
	case xml.EndElement:
		b, ok := b.(xml.EndElement)
		return ok && a == b
	case xml.CharData:
		b, ok := b.(xml.CharData)
		return ok && bytes.Equal(a, b)
	case xml.ProcInst:
		b, ok := b.(xml.ProcInst)
		return ok && a.Target == b.Target && bytes.Equal(a.Inst, b.Inst)
	}
	return false
}

// TestNameTable: every word of the table is found as itself, within a few
// probes; other names are not found.
func TestNameTable(t *testing.T) {
	n := 0
	for i, s := range xmlNames {
		if s == "" {
			continue
		}
		n++
		if len(s) > maxNameLen {
			t.Errorf("%q is longer than maxNameLen", s)
		}
		if got, ok := lookupName([]byte(s)); !ok || got != s {
			t.Errorf("lookupName(%q) = %q, %v", s, got, ok)
		}
		if probe := (i - int(nameHash([]byte(s))) + nameSlots) % nameSlots; probe > 8 {
			t.Errorf("%q is %d slots from its hash", s, probe)
		}
	}
	if n*3 > nameSlots {
		t.Errorf("%d words in %d slots: make the table larger", n, nameSlots)
	}
	for _, s := range []string{"", "messag", "messages", "urn:xmpp:sid:1", "jabber:Client"} {
		if got, ok := lookupName([]byte(s)); ok {
			t.Errorf("lookupName(%q) = %q, found", s, got)
		}
	}
	if s := new(tokenizer).intern([]byte("not-in-table")); s != "not-in-table" {
		t.Errorf("intern = %q", s)
	}
}
