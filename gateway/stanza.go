package gateway

import (
	"bytes"
	"crypto/rand"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/chatapi"
)

// Limits of a raw stanza (POST /xmpp). The size is the spec's; depth,
// attributes and tokens bound the work one request can cause.
const (
	maxStanzaChars = 256 << 10
	maxStanzaBytes = 4 * maxStanzaChars
	maxStanzaDepth = 32
	maxStanzaAttrs = 64
	maxStanzaToks  = 1 << 16
)

// errStanza is the reason a raw stanza is refused; its text goes to the
// client.
var errStanza = errors.New("gateway: invalid stanza")

const nsXMLAttr = "http://www.w3.org/XML/1998/namespace"

// rawStanza is a checked raw stanza, ready to send.
type rawStanza struct {
	Name, Type, ID, To string
	XML                []byte // re-serialized, without from
	// Register says an element is in jabber:iq:register (XEP-0077
	// in-band registration: account removal, password change).
	Register bool
}

// nsRegister is the namespace of XEP-0077 in-band registration.
const nsRegister = "jabber:iq:register"

// parseStanza checks that raw is exactly one message, presence or iq
// element in jabber:client, with no DTD, entity definitions, comments or
// processing instructions, within the size, depth, attribute and token
// limits; and re-serializes its start tag without a from attribute (the
// server then stamps the user's own full JID, RFC 6120 section 8.1.2.1).
// The children are kept byte for byte. Only the predefined XML entities and
// character references are understood (encoding/xml in strict mode with no
// Entity map).
func parseStanza(raw []byte) (*rawStanza, error) {
	if len(raw) > maxStanzaBytes || utf8.RuneCount(raw) > maxStanzaChars {
		return nil, fmt.Errorf("%w: larger than %d characters", errStanza, maxStanzaChars)
	}
	if !utf8.Valid(raw) {
		return nil, fmt.Errorf("%w: not valid UTF-8", errStanza)
	}
	d := xml.NewDecoder(bytes.NewReader(raw))
	d.Strict = true
	var (
		out        *rawStanza
		root       xml.StartElement
		startEnd   int64 // offset just after the root's start tag
		rootEnd    int64
		selfClosed bool
		depth      int
	)
	for toks := 0; ; toks++ {
		if toks > maxStanzaToks {
			return nil, fmt.Errorf("%w: too many XML tokens", errStanza)
		}
		before := d.InputOffset()
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errStanza, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				if out != nil {
					return nil, fmt.Errorf("%w: more than one root element", errStanza)
				}
				if t.Name.Space != "" && t.Name.Space != "jabber:client" {
					return nil, fmt.Errorf("%w: the root is in namespace %q, not jabber:client", errStanza, t.Name.Space)
				}
				switch t.Name.Local {
				case "message", "presence", "iq":
				default:
					return nil, fmt.Errorf("%w: the root is <%s>, not message, presence or iq", errStanza, t.Name.Local)
				}
				root, startEnd = t.Copy(), d.InputOffset()
				if tag := raw[before:startEnd]; !bytes.HasPrefix(tag, []byte("<"+t.Name.Local)) ||
					len(tag) <= len(t.Name.Local)+1 || !strings.ContainsRune(" \t\r\n/>", rune(tag[len(t.Name.Local)+1])) {
					return nil, fmt.Errorf("%w: the root element may not have a namespace prefix", errStanza)
				}
				selfClosed = bytes.HasSuffix(raw[before:startEnd], []byte("/>"))
				out = &rawStanza{Name: t.Name.Local}
			}
			if t.Name.Space == nsRegister {
				out.Register = true
			}
			if len(t.Attr) > maxStanzaAttrs {
				return nil, fmt.Errorf("%w: an element has more than %d attributes", errStanza, maxStanzaAttrs)
			}
			depth++
			if depth > maxStanzaDepth {
				return nil, fmt.Errorf("%w: nested deeper than %d elements", errStanza, maxStanzaDepth)
			}
		case xml.EndElement:
			depth--
			if depth == 0 {
				rootEnd = d.InputOffset()
			}
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return nil, fmt.Errorf("%w: text outside the root element", errStanza)
			}
		case xml.Directive:
			return nil, fmt.Errorf("%w: DTDs and other directives are not allowed", errStanza)
		case xml.ProcInst:
			return nil, fmt.Errorf("%w: processing instructions and XML declarations are not allowed", errStanza)
		case xml.Comment:
			return nil, fmt.Errorf("%w: comments are not allowed", errStanza)
		}
	}
	if out == nil {
		return nil, fmt.Errorf("%w: no element", errStanza)
	}

	var b bytes.Buffer
	b.Grow(len(raw) + 64)
	b.WriteString("<" + root.Name.Local)
	for _, a := range root.Attr {
		var name string
		switch {
		case a.Name.Space == "" && a.Name.Local == "from":
			continue
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			// Only jabber:client gets here (checked above).
			name = "xmlns"
		case a.Name.Space == "":
			name = a.Name.Local
			switch name {
			case "type":
				out.Type = a.Value
			case "id":
				out.ID = a.Value
			case "to":
				out.To = a.Value
			}
		case a.Name.Space == "xmlns":
			name = "xmlns:" + a.Name.Local
		case a.Name.Space == nsXMLAttr:
			name = "xml:" + a.Name.Local
		default:
			return nil, fmt.Errorf("%w: the root has a namespaced attribute %q", errStanza, a.Name.Local)
		}
		b.WriteString(" " + name + "=\"")
		if err := xml.EscapeText(&b, []byte(a.Value)); err != nil {
			return nil, fmt.Errorf("%w: %v", errStanza, err)
		}
		b.WriteString("\"")
	}
	if out.Name == "iq" && out.ID == "" && (out.Type == "get" || out.Type == "set") {
		// An IQ request needs an id for its reply to be matched.
		out.ID = rand.Text()
		b.WriteString(` id="` + out.ID + `"`)
	}
	if selfClosed {
		b.WriteString("/>")
	} else {
		b.WriteString(">")
		b.Write(raw[startEnd:rootEnd])
	}
	out.XML = b.Bytes()
	return out, nil
}

// SendStanza serves POST /xmpp: one raw stanza from the user's session.
// The reply to an IQ request reaches the user's event stream as
// chatapi.xmpp.
func (s *Server) SendStanza(c echo.Context) error {
	body, err := readText(c.Request(), maxStanzaBytes)
	if err != nil {
		return err
	}
	st, err := parseStanza([]byte(body))
	if err != nil {
		return wrap(http.StatusBadRequest, strings.TrimPrefix(err.Error(), "gateway: "), err)
	}
	if st.Name == "iq" && st.Type != "get" && st.Type != "set" && st.Type != "result" && st.Type != "error" {
		return errorf(http.StatusBadRequest, "invalid stanza: an iq's type must be get, set, result or error")
	}
	if st.Name == "iq" && st.Register {
		// Account changes go through the gateway, which keeps its own
		// state of the account in step (lifecycle.go).
		return errorf(http.StatusForbidden, "in-band registration (jabber:iq:register) is not allowed here: "+
			"change the password with PUT /user, remove the account with DELETE /user")
	}
	sess, ctx, cancel, err := s.xmppSession(c)
	if err != nil {
		return err
	}
	defer cancel()
	if st.Name == "iq" && (st.Type == "get" || st.Type == "set") {
		reply, err := sess.RawIQ(ctx, st.ID, st.To, st.XML)
		if reply.Raw != nil {
			// Error replies too: the client asked for the answer.
			s.deliver(sess.User(), chatapi.XMPP{XMPP: reply.Raw})
			return c.NoContent(http.StatusOK)
		}
		if err != nil {
			return err
		}
		return c.NoContent(http.StatusOK)
	}
	if err := sess.SendRaw(ctx, st.XML); err != nil {
		return err
	}
	return c.NoContent(http.StatusOK)
}
