package xmppconn

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/sparkgate/sparkgate/chatapi"
)

// MaxStanzaChars is the largest stanza, in characters, that SendStanza
// and Conn.SendRaw take (the SparkWeb API's limit of POST /xmpp).
const MaxStanzaChars = 256 << 10

// Further limits of a stanza given as text: the bytes of MaxStanzaChars
// characters, and a depth, an attribute count and a token count that
// bound the work one stanza can cause.
const (
	maxStanzaBytes = 4 * MaxStanzaChars
	maxStanzaDepth = 32
	maxStanzaAttrs = 64
	maxStanzaToks  = 1 << 16
)

// ErrInBandRegistration is returned by SendStanza for an IQ with any
// element in jabber:iq:register (XEP-0077: account removal, password
// change): the account changes through the caller, which keeps its own
// state of the account in step.
var ErrInBandRegistration = errors.New("xmppconn: in-band registration (jabber:iq:register) is refused")

// nsXMLAttr is the namespace of the xml: attributes (xml:lang).
const nsXMLAttr = "http://www.w3.org/XML/1998/namespace"

// nsRegister is XEP-0077's namespace.
const nsRegister = "jabber:iq:register"

// rawStanza is a stanza given as text, checked and written again by
// parseStanza.
type rawStanza struct {
	name, typ, id, to string
	xml               []byte // the stanza to write: its start tag written again, without from
	register          bool   // some element is in jabber:iq:register
}

// parseStanza is the one check of a stanza given as text, whoever wrote
// it (a client through SendStanza, or this package through Conn.SendRaw
// and Conn.Send). raw must be exactly one message, presence or iq element in
// jabber:client, without a namespace prefix, DTD, entity definitions,
// comments or processing instructions, within the limits above; an iq's
// type must be get, set, result or error. Only the predefined XML entities
// and character references are understood (encoding/xml in strict mode
// with no Entity map). The start tag is written again without its from
// attribute (the server stamps the user's full JID, RFC 6120 section
// 8.1.2.1), and with a fresh id on an IQ request that has none; the
// children are kept byte for byte. Every refusal wraps ErrInvalidStanza
// and says why in words a client can be shown.
func parseStanza(raw []byte) (*rawStanza, error) {
	if len(raw) > maxStanzaBytes || utf8.RuneCount(raw) > MaxStanzaChars {
		return nil, fmt.Errorf("%w: larger than %d characters", ErrInvalidStanza, MaxStanzaChars)
	}
	if !utf8.Valid(raw) {
		return nil, fmt.Errorf("%w: not valid UTF-8", ErrInvalidStanza)
	}
	d := xml.NewDecoder(bytes.NewReader(raw))
	d.Strict = true
	var (
		out               *rawStanza
		root              xml.StartElement
		startEnd, rootEnd int64 // offsets just after the root's start tag and after its end
		selfClosed        bool
		depth             int
	)
	for toks := 0; ; toks++ {
		if toks > maxStanzaToks {
			return nil, fmt.Errorf("%w: too many XML tokens", ErrInvalidStanza)
		}
		before := d.InputOffset()
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidStanza, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				if out != nil {
					return nil, fmt.Errorf("%w: more than one root element", ErrInvalidStanza)
				}
				if !isClient(t.Name) {
					return nil, fmt.Errorf("%w: the root is in namespace %q, not jabber:client", ErrInvalidStanza, t.Name.Space)
				}
				switch t.Name.Local {
				case "message", "presence", "iq":
				default:
					return nil, fmt.Errorf("%w: the root is <%s>, not message, presence or iq", ErrInvalidStanza, t.Name.Local)
				}
				root, startEnd = t.Copy(), d.InputOffset()
				tag := raw[before:startEnd]
				if n := len(t.Name.Local); !bytes.HasPrefix(tag, []byte("<"+t.Name.Local)) ||
					len(tag) <= n+1 || !strings.ContainsRune(" \t\r\n/>", rune(tag[n+1])) {
					return nil, fmt.Errorf("%w: the root element may not have a namespace prefix", ErrInvalidStanza)
				}
				selfClosed = bytes.HasSuffix(tag, []byte("/>"))
				out = &rawStanza{name: t.Name.Local}
			}
			if t.Name.Space == nsRegister {
				out.register = true
			}
			if len(t.Attr) > maxStanzaAttrs {
				return nil, fmt.Errorf("%w: an element has more than %d attributes", ErrInvalidStanza, maxStanzaAttrs)
			}
			for _, a := range t.Attr {
				// Namespaces in XML 1.0 (section 5, "Namespace
				// constraint: No Prefix Undeclaring") forbids
				// xmlns:p="". encoding/xml takes it, and an attribute
				// p:0 then loses its prefix and comes out as 0="", which
				// is no XML name (found by FuzzParseStanza).
				if a.Name.Space == "xmlns" && a.Value == "" {
					return nil, fmt.Errorf("%w: the prefix %q is bound to no namespace", ErrInvalidStanza, a.Name.Local)
				}
			}
			depth++
			if depth > maxStanzaDepth {
				return nil, fmt.Errorf("%w: nested deeper than %d elements", ErrInvalidStanza, maxStanzaDepth)
			}
		case xml.EndElement:
			depth--
			if depth == 0 {
				rootEnd = d.InputOffset()
			}
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return nil, fmt.Errorf("%w: text outside the root element", ErrInvalidStanza)
			}
		case xml.Directive:
			return nil, fmt.Errorf("%w: DTDs and other directives are not allowed", ErrInvalidStanza)
		case xml.ProcInst:
			return nil, fmt.Errorf("%w: processing instructions and XML declarations are not allowed", ErrInvalidStanza)
		case xml.Comment:
			return nil, fmt.Errorf("%w: comments are not allowed", ErrInvalidStanza)
		}
	}
	if out == nil {
		return nil, fmt.Errorf("%w: no element", ErrInvalidStanza)
	}
	if err := out.writeAgain(raw, root, startEnd, rootEnd, selfClosed); err != nil {
		return nil, err
	}
	if out.name == "iq" {
		switch out.typ {
		case "get", "set", "result", "error":
		default:
			return nil, fmt.Errorf("%w: an iq's type must be get, set, result or error", ErrInvalidStanza)
		}
	}
	return out, nil
}

// writeAgain sets st.xml: the root's start tag written again from root
// (without from, with an id on an IQ request that has none), then the
// bytes of raw between startEnd and rootEnd. It reads type, id and to on
// the way.
func (st *rawStanza) writeAgain(raw []byte, root xml.StartElement, startEnd, rootEnd int64, selfClosed bool) error {
	var b bytes.Buffer
	b.Grow(len(raw) + 64)
	b.WriteString("<" + root.Name.Local)
	for _, a := range root.Attr {
		var name string
		switch {
		case a.Name.Space == "" && a.Name.Local == "from":
			continue
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			// Only jabber:client gets here (parseStanza checked it).
			name = "xmlns"
		case a.Name.Space == "":
			name = a.Name.Local
			switch name {
			case "type":
				st.typ = a.Value
			case "id":
				st.id = a.Value
			case "to":
				st.to = a.Value
			}
		case a.Name.Space == "xmlns":
			name = "xmlns:" + a.Name.Local
		case a.Name.Space == nsXMLAttr:
			name = "xml:" + a.Name.Local
		default:
			return fmt.Errorf("%w: the root has a namespaced attribute %q", ErrInvalidStanza, a.Name.Local)
		}
		b.WriteString(" " + name + `="`)
		if err := xml.EscapeText(&b, []byte(a.Value)); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidStanza, err)
		}
		b.WriteByte('"')
	}
	if st.name == "iq" && st.id == "" && (st.typ == "get" || st.typ == "set") {
		// An IQ request needs an id for its reply to be matched.
		st.id = rand.Text()
		b.WriteString(` id="` + st.id + `"`)
	}
	if selfClosed {
		b.WriteString("/>")
	} else {
		b.WriteByte('>')
		b.Write(raw[startEnd:rootEnd])
	}
	st.xml = b.Bytes()
	return nil
}

// SendStanza sends one stanza a client wrote as XML text (the SparkWeb
// API's POST /xmpp). raw is untrusted: parseStanza checks it and writes
// its start tag again without from; a refusal wraps ErrInvalidStanza, and
// an IQ with an element in jabber:iq:register is ErrInBandRegistration.
//
// An IQ request (get or set) waits for its reply and returns it; the
// reply also reaches the user's event stream as chatapi.xmpp, as it did
// for clients that read replies there. An error reply is returned as the
// reply with a nil error: it is the addressee's answer, not a failure to
// send. Any other stanza is written and the reply is nil.
func (s *Session) SendStanza(ctx context.Context, raw []byte) (*Stanza, error) {
	st, err := parseStanza(raw)
	if err != nil {
		return nil, err
	}
	if st.name == "iq" && st.register {
		return nil, ErrInBandRegistration
	}
	c, err := s.usable()
	if err != nil {
		return nil, err
	}
	s.used()
	if st.name != "iq" || (st.typ != "get" && st.typ != "set") {
		return nil, c.write(ctx, st.xml)
	}
	reply, err := c.iq(ctx, st.id, st.to, st.xml)
	if reply.Raw == nil {
		return nil, err
	}
	s.deliver(chatapi.XMPP{XMPP: reply.Raw})
	return &reply, nil
}
