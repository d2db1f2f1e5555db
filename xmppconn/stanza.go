package xmppconn

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"time"

	"gosrc.io/xmpp/stanza"
)

// Namespaces the decoder understands itself.
const (
	nsClient  = "jabber:client"
	nsSID     = "urn:xmpp:sid:0"
	nsDelay   = "urn:xmpp:delay"
	nsMAM     = "urn:xmpp:mam:2"
	nsCarbons = "urn:xmpp:carbons:2"
	nsForward = "urn:xmpp:forward:0"
	nsStanzas = "urn:ietf:params:xml:ns:xmpp-stanzas"
	nsPing    = "urn:xmpp:ping"
)

// maxForwardDepth bounds how deep forwarded messages (a carbon inside a MAM
// result, ...) are decoded; deeper ones are kept as *stanza.Node.
const maxForwardDepth = 3

// Stanza is one top-level stanza as received.
//
// Raw is the exact bytes the server sent, start tag to end tag. It inherits
// the stream's default namespace (jabber:client) and declares nothing else.
// Exactly one of Message, Presence and IQ is set, matching Name.
type Stanza struct {
	Name string // "message", "presence" or "iq"
	Raw  []byte

	// Attributes of the stanza element.
	Type, ID, From, To string

	Message  *stanza.Message
	Presence *stanza.Presence
	IQ       *stanza.IQ

	// XEP-0359 identifiers and XEP-0203 delay of a message or presence.
	StanzaIDs []StanzaID
	OriginID  string
	Delay     *Delay

	// MAM is set for a XEP-0313 result message, Carbon for a XEP-0280
	// carbon copy.
	MAM    *MAMResult
	Carbon *Carbon

	rawFrom, rawTo int64 // input offsets of a forwarded message
}

// StanzaID is a XEP-0359 <stanza-id/>, e.g. the MAM archive id.
type StanzaID struct {
	ID, By string
}

// Delay is a XEP-0203 delayed-delivery stamp.
type Delay struct {
	From  string
	Stamp time.Time
}

// Forwarded is a XEP-0297 forwarded message. Message.Raw aliases the bytes
// of the enclosing stanza's Raw.
type Forwarded struct {
	Delay   *Delay
	Message *Stanza
}

// MAMResult is one XEP-0313 archived message.
type MAMResult struct {
	QueryID, ID string
	Forwarded   Forwarded
}

// Carbon is a XEP-0280 carbon copy; Sent is true for <sent/>, false for
// <received/>.
type Carbon struct {
	Sent      bool
	Forwarded Forwarded
}

// decodeStanza decodes the raw bytes of one stanza outside a stream, with
// the limits of the stream reader. It keeps every child it does not know as
// a *stanza.Node extension.
func decodeStanza(raw []byte) (Stanza, error) {
	er := newElemReader(bytes.NewReader(raw), len(raw)+1)
	er.tok.depth = 1 // as if inside a stream root
	er.tok.defaultSpace = nsClient
	el, err := er.next(true)
	if err != nil {
		return Stanza{}, err
	}
	if el.decodeErr != nil {
		return Stanza{}, el.decodeErr
	}
	if el.stanza == nil {
		return Stanza{}, fmt.Errorf("%w: <%s xmlns=%q> is not a stanza", ErrProtocol, el.name.Local, el.name.Space)
	}
	return *el.stanza, nil
}

// setRaw sets the raw bytes of s, which started at offset base of the
// input, and of the forwarded messages within it.
func (s *Stanza) setRaw(raw []byte, base int64) {
	s.Raw = raw
	for _, f := range []*Forwarded{mamFwd(s.MAM), carbonFwd(s.Carbon)} {
		if f == nil || f.Message == nil {
			continue
		}
		m := f.Message
		from, to := m.rawFrom-base, m.rawTo-base
		if 0 <= from && from <= to && to <= int64(len(raw)) {
			m.setRaw(raw[from:to:to], base+from)
		}
	}
}

func mamFwd(m *MAMResult) *Forwarded {
	if m == nil {
		return nil
	}
	return &m.Forwarded
}

func carbonFwd(c *Carbon) *Forwarded {
	if c == nil {
		return nil
	}
	return &c.Forwarded
}

// decodeElement decodes the stanza whose start tag the tokenizer read last.
// depth counts the forwarded messages it is nested in. After an error, the
// stanza returned is incomplete.
func (er *elemReader) decodeElement(depth int, start xml.StartElement) (*Stanza, error) {
	var attrs stanza.Attrs
	for _, a := range start.Attr {
		switch {
		case a.Name.Space == "" && a.Name.Local == "type":
			attrs.Type = stanza.StanzaType(a.Value)
		case a.Name.Space == "" && a.Name.Local == "id":
			attrs.Id = a.Value
		case a.Name.Space == "" && a.Name.Local == "from":
			attrs.From = a.Value
		case a.Name.Space == "" && a.Name.Local == "to":
			attrs.To = a.Value
		case a.Name.Local == "lang" && (a.Name.Space == "xml" || a.Name.Space == xmlURL):
			attrs.Lang = a.Value
		}
	}
	var s *Stanza
	if start.Name.Local == "message" {
		s = newMessageStanza(start.Name, attrs)
	} else {
		s = new(Stanza)
	}
	s.Name = start.Name.Local
	s.Type, s.ID, s.From, s.To = string(attrs.Type), attrs.Id, attrs.From, attrs.To
	switch s.Name {
	case "iq":
		iq := new(stanza.IQ)
		if err := er.decodeReflect(iq, start); err != nil {
			return s, err
		}
		iq.Lang = attrs.Lang
		s.IQ = iq
		return s, nil
	case "message":
		m := s.Message
		err := er.eachChild(func(c xml.StartElement, at int64) error {
			if ok, err := er.decodeCommon(depth, c, s); ok || err != nil {
				return err
			}
			if isClient(c.Name) {
				switch c.Name.Local {
				case "body":
					return er.decodeFirstText(&m.Body)
				case "subject":
					return er.decodeFirstText(&m.Subject)
				case "thread":
					return er.decodeFirstText(&m.Thread)
				case "error":
					return er.decodeReflect(&m.Error, c)
				}
			}
			ext, err := er.decodeMsgExt(c)
			if err != nil {
				return err
			}
			m.Extensions = append(m.Extensions, ext)
			return nil
		})
		trimMessage(s)
		return s, err
	case "presence":
		p := &stanza.Presence{XMLName: start.Name, Attrs: attrs}
		s.Presence = p
		return s, er.eachChild(func(c xml.StartElement, at int64) error {
			if ok, err := er.decodeCommon(depth, c, s); ok || err != nil {
				return err
			}
			if isClient(c.Name) {
				switch c.Name.Local {
				case "show":
					return er.decodeReflect(&p.Show, c)
				case "status":
					return er.decodeFirstText(&p.Status)
				case "priority":
					return er.decodeReflect(&p.Priority, c)
				case "error":
					return er.decodeReflect(&p.Error, c)
				}
			}
			ext, err := er.decodePresExt(c)
			if err != nil {
				return err
			}
			p.Extensions = append(p.Extensions, ext)
			return nil
		})
	}
	return s, fmt.Errorf("unknown stanza <%s>", start.Name.Local)
}

func isClient(n xml.Name) bool { return n.Space == "" || n.Space == nsClient }

// decodeFirstText keeps the first occurrence of a text child (several
// bodies in different languages are allowed) and skips the others. It
// reads the element's own text, nested elements skipped, as DecodeElement
// into a string would.
func (er *elemReader) decodeFirstText(dst *string) error {
	if *dst != "" {
		return er.tok.skip()
	}
	text, err := er.ownText(func(xml.StartElement) error { return er.tok.skip() })
	if err != nil {
		return err
	}
	*dst = text
	return nil
}

// eachChild calls fn for every child element of the element whose start tag
// was just read; fn must consume the child entirely. at is the offset of the
// child's start tag in the input.
func (er *elemReader) eachChild(fn func(c xml.StartElement, at int64) error) error {
	for {
		at := er.tok.offset()
		tok, err := er.tok.next()
		if err != nil {
			return err
		}
		switch tok.kind {
		case tokStart:
			if err := fn(xml.StartElement{Name: tok.name, Attr: tok.attr}, at); err != nil {
				return err
			}
		case tokEnd:
			return nil
		}
	}
}

// decodeCommon handles the children shared by messages and presences that
// this package decodes itself. It reports whether it consumed the child.
func (er *elemReader) decodeCommon(depth int, c xml.StartElement, s *Stanza) (bool, error) {
	switch c.Name.Space {
	case nsSID:
		switch c.Name.Local {
		case "stanza-id":
			s.StanzaIDs = append(s.StanzaIDs, StanzaID{ID: attr(c, "id"), By: attr(c, "by")})
			return true, er.tok.skip()
		case "origin-id":
			s.OriginID = attr(c, "id")
			return true, er.tok.skip()
		}
	case nsDelay:
		if c.Name.Local == "delay" {
			s.Delay = parseDelay(c)
			return true, er.tok.skip()
		}
	case nsMAM:
		if c.Name.Local == "result" && depth < maxForwardDepth {
			r := &MAMResult{QueryID: attr(c, "queryid"), ID: attr(c, "id")}
			s.MAM = r
			return true, er.decodeForwardedIn(depth, &r.Forwarded)
		}
	case nsCarbons:
		if (c.Name.Local == "sent" || c.Name.Local == "received") && depth < maxForwardDepth {
			cb := &Carbon{Sent: c.Name.Local == "sent"}
			s.Carbon = cb
			return true, er.decodeForwardedIn(depth, &cb.Forwarded)
		}
	}
	return false, nil
}

// decodeForwardedIn decodes the <forwarded/> child of a MAM result or carbon.
func (er *elemReader) decodeForwardedIn(depth int, f *Forwarded) error {
	return er.eachChild(func(c xml.StartElement, _ int64) error {
		if c.Name.Space != nsForward || c.Name.Local != "forwarded" {
			return er.tok.skip()
		}
		return er.eachChild(func(c xml.StartElement, at int64) error {
			switch {
			case c.Name.Space == nsDelay && c.Name.Local == "delay":
				f.Delay = parseDelay(c)
				return er.tok.skip()
			case c.Name.Space == nsClient && c.Name.Local == "message" && f.Message == nil:
				inner, err := er.decodeElement(depth+1, c)
				if err != nil {
					return err
				}
				inner.rawFrom, inner.rawTo = at, er.tok.offset()
				f.Message = inner
				return nil
			}
			return er.tok.skip()
		})
	})
}

func parseDelay(c xml.StartElement) *Delay {
	dl := &Delay{From: attr(c, "from")}
	if t, err := time.Parse(time.RFC3339Nano, attr(c, "stamp")); err == nil {
		dl.Stamp = t
	}
	return dl
}

func attr(c xml.StartElement, local string) string {
	for _, a := range c.Attr {
		if a.Name.Space == "" && a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// stanzaError extracts the stanza error of an IQ reply of type error.
func stanzaError(s *Stanza) error {
	e := &StanzaError{Condition: "undefined-condition"}
	if s.IQ != nil && s.IQ.Error != nil {
		e.Type = string(s.IQ.Error.Type)
		if s.IQ.Error.Reason != "" {
			e.Condition = s.IQ.Error.Reason
		}
		e.Text = s.IQ.Error.Text
	}
	return e
}

// xmlUnmarshal decodes one element from r into v with a strict decoder.
func xmlUnmarshal(r io.Reader, v any) error {
	d := xml.NewDecoder(r)
	d.Strict = true
	return d.Decode(v)
}
