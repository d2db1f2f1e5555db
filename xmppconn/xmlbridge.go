package xmppconn

import (
	"encoding/xml"
	"errors"
	"io"
	"reflect"
	"slices"
	"sync"

	"gosrc.io/xmpp/stanza"
)

// bridge hands the tokens of one element, read by the stream's tokenizer,
// to an encoding/xml Decoder: gosrc.io/xmpp's stanza types (IQ payloads,
// stanza errors, registered extensions) decode themselves by reflection
// from a Decoder. The Decoder is fed the tokens as written (prefixes, not
// namespaces) after a copy of the element's start tag that declares every
// namespace in scope, so it resolves names as a Decoder reading the whole
// stream would. One bridge serves an elemReader for all its elements; a
// decode that fails leaves the Decoder inside the element, so the bridge is
// then dropped and the next decode makes a new one. An idle reader gives
// its bridge to bridgePool (elemReader.dropBridge).
type bridge struct {
	t     *tokenizer
	first xml.StartElement // the namespace declarations, handed out first
	sent  bool             // first was handed out
	depth int              // the tokenizer's depth inside the element
	dec   *xml.Decoder
}

var errBridgeToken = errors.New("xmppconn: XML declaration inside an element")

// bridgePool holds the bridges of idle readers. A used Decoder with its
// state is about 3 KiB (TestIntegrationSessionIdleCost), and nearly every session decodes by reflection at its
// start (the roster, disco, a presence's show), then rarely again; an idle
// connection need not keep one. Sharing is safe because a bridge is only
// kept after a decode that succeeded: the Decoder then read the element's
// end tag, so its element stack is empty and its namespace map is back to
// what it was before the element (encoding/xml restores the bindings an
// element declared at its end). DefaultSpace and the tokenizer are set by
// each decode.
var bridgePool sync.Pool

// dropBridge gives er's bridge, if any, to bridgePool.
func (er *elemReader) dropBridge() {
	b := er.br
	if b == nil {
		return
	}
	er.br = nil
	b.t, b.first = nil, xml.StartElement{} // nothing of this stream stays reachable
	bridgePool.Put(b)
}

// Token implements xml.TokenReader.
func (b *bridge) Token() (xml.Token, error) {
	if !b.sent {
		b.sent = true
		return b.first, nil
	}
	t := b.t
	if t.depth < b.depth {
		return nil, io.EOF // the element is over; the Decoder does not ask
	}
	tok, err := t.next()
	if err != nil {
		return nil, err
	}
	switch tok.kind {
	case tokStart:
		attr := make([]xml.Attr, len(tok.attr))
		for i, a := range tok.attr {
			attr[i] = xml.Attr{Name: xml.Name{Space: t.raw[i].prefix, Local: a.Name.Local}, Value: a.Value}
		}
		return xml.StartElement{Name: xml.Name{Space: tok.prefix, Local: tok.name.Local}, Attr: attr}, nil
	case tokEnd:
		return xml.EndElement{Name: xml.Name{Space: tok.prefix, Local: tok.name.Local}}, nil
	case tokText:
		return xml.CharData(tok.text), nil
	}
	return nil, errBridgeToken
}

// decodeReflect decodes the element whose start tag (start, resolved) the
// tokenizer read last into v with encoding/xml, consuming the element.
func (er *elemReader) decodeReflect(v any, start xml.StartElement) error {
	t := er.tok
	b := er.br
	if b == nil {
		b, _ = bridgePool.Get().(*bridge)
		if b == nil {
			b = &bridge{}
			b.dec = xml.NewTokenDecoder(b)
		}
		b.t = t
		er.br = b
	}
	b.dec.DefaultSpace = t.defaultSpace
	decls := make([]xml.Attr, len(t.ns))
	for i, n := range t.ns {
		if n.prefix == "" {
			decls[i] = xml.Attr{Name: xml.Name{Local: "xmlns"}, Value: n.uri}
		} else {
			decls[i] = xml.Attr{Name: xml.Name{Space: "xmlns", Local: n.prefix}, Value: n.uri}
		}
	}
	top := t.open[len(t.open)-1]
	b.first = xml.StartElement{Name: xml.Name{Space: top.prefix, Local: top.local}, Attr: decls}
	b.sent, b.depth = false, t.depth
	_, err := b.dec.Token()
	if err == nil {
		// The attributes are the tokenizer's (xmlattrs.go); an
		// UnmarshalXML method may keep them.
		start.Attr = slices.Clone(start.Attr)
		err = b.dec.DecodeElement(v, &start)
	}
	if err != nil {
		er.br = nil
	}
	return err
}

// decodeNode decodes the element whose start tag the tokenizer read last
// into n, as stanza.Node's UnmarshalXML would (attributes but the default
// namespace declaration, the element's own text, its children as Nodes),
// without reflection: every unknown child of a stanza becomes one.
func (er *elemReader) decodeNode(start xml.StartElement, n *stanza.Node) error {
	n.XMLName = start.Name
	keep := 0
	for _, a := range start.Attr {
		if a.Name.Local != "xmlns" {
			keep++
		}
	}
	if keep > 0 {
		// Not the tokenizer's arena (xmlattrs.go): n is part of the
		// decoded stanza.
		n.Attrs = make([]xml.Attr, 0, keep)
		for _, a := range start.Attr {
			if a.Name.Local != "xmlns" {
				n.Attrs = append(n.Attrs, a)
			}
		}
	}
	var err error
	n.Content, err = er.ownText(func(c xml.StartElement) error {
		n.Nodes = append(n.Nodes, stanza.Node{})
		return er.decodeNode(c, &n.Nodes[len(n.Nodes)-1])
	})
	return err
}

// ownText reads the rest of the element whose start tag the tokenizer read
// last and returns its own text (what encoding/xml gathers into a
// ",chardata" field); child, which must consume the child, is called for
// each child element.
func (er *elemReader) ownText(child func(c xml.StartElement) error) (string, error) {
	text := textAcc{t: er.tok}
	for {
		tok, err := er.tok.next()
		if err != nil {
			return "", err
		}
		switch tok.kind {
		case tokText:
			text.add(tok.text)
		case tokStart:
			if err := child(xml.StartElement{Name: tok.name, Attr: tok.attr}); err != nil {
				return "", err
			}
		case tokEnd:
			return text.String(), nil
		}
	}
}

// textAcc gathers text that may come in several tokens; the common single
// token is cut from the element's string chunk (xmlstrings.go).
type textAcc struct {
	t    *tokenizer
	s    string
	more []byte
}

func (a *textAcc) add(p []byte) {
	switch {
	case a.more != nil:
		a.more = append(a.more, p...)
	case a.s == "":
		a.s = a.t.str(p)
	default:
		a.more = append([]byte(a.s), p...)
	}
}

func (a *textAcc) String() string {
	if a.more != nil {
		return string(a.more)
	}
	return a.s
}

// plainExt builds a message extension of gosrc.io/xmpp whose decoding sets
// nothing but its name and, for some, its id attribute; built here, it
// costs no reflection. Chat states (XEP-0085), receipts (XEP-0184) and
// chat markers (XEP-0333) ride on most messages.
type plainExt struct {
	name xml.Name // the name its XMLName tag demands
	make func(start xml.StartElement) stanza.MsgExtension
}

var plainMsgExts = map[reflect.Type]plainExt{
	reflect.TypeFor[stanza.StateActive](): {xml.Name{Space: stanza.NSMsgChatStateNotifications, Local: "active"},
		func(s xml.StartElement) stanza.MsgExtension { return &stanza.StateActive{XMLName: s.Name} }},
	reflect.TypeFor[stanza.StateComposing](): {xml.Name{Space: stanza.NSMsgChatStateNotifications, Local: "composing"},
		func(s xml.StartElement) stanza.MsgExtension { return &stanza.StateComposing{XMLName: s.Name} }},
	reflect.TypeFor[stanza.StateGone](): {xml.Name{Space: stanza.NSMsgChatStateNotifications, Local: "gone"},
		func(s xml.StartElement) stanza.MsgExtension { return &stanza.StateGone{XMLName: s.Name} }},
	reflect.TypeFor[stanza.StateInactive](): {xml.Name{Space: stanza.NSMsgChatStateNotifications, Local: "inactive"},
		func(s xml.StartElement) stanza.MsgExtension { return &stanza.StateInactive{XMLName: s.Name} }},
	reflect.TypeFor[stanza.StatePaused](): {xml.Name{Space: stanza.NSMsgChatStateNotifications, Local: "paused"},
		func(s xml.StartElement) stanza.MsgExtension { return &stanza.StatePaused{XMLName: s.Name} }},
	reflect.TypeFor[stanza.ReceiptRequest](): {xml.Name{Space: stanza.NSMsgReceipts, Local: "request"},
		func(s xml.StartElement) stanza.MsgExtension { return &stanza.ReceiptRequest{XMLName: s.Name} }},
	reflect.TypeFor[stanza.ReceiptReceived](): {xml.Name{Space: stanza.NSMsgReceipts, Local: "received"},
		func(s xml.StartElement) stanza.MsgExtension {
			return &stanza.ReceiptReceived{XMLName: s.Name, ID: lastAttr(s, "id")}
		}},
	reflect.TypeFor[stanza.Markable](): {xml.Name{Space: stanza.NSMsgChatMarkers, Local: "markable"},
		func(s xml.StartElement) stanza.MsgExtension { return &stanza.Markable{XMLName: s.Name} }},
	reflect.TypeFor[stanza.MarkReceived](): {xml.Name{Space: stanza.NSMsgChatMarkers, Local: "received"},
		func(s xml.StartElement) stanza.MsgExtension {
			return &stanza.MarkReceived{XMLName: s.Name, ID: lastAttr(s, "id")}
		}},
	reflect.TypeFor[stanza.MarkDisplayed](): {xml.Name{Space: stanza.NSMsgChatMarkers, Local: "displayed"},
		func(s xml.StartElement) stanza.MsgExtension {
			return &stanza.MarkDisplayed{XMLName: s.Name, ID: lastAttr(s, "id")}
		}},
	reflect.TypeFor[stanza.MarkAcknowledged](): {xml.Name{Space: stanza.NSMsgChatMarkers, Local: "acknowledged"},
		func(s xml.StartElement) stanza.MsgExtension {
			return &stanza.MarkAcknowledged{XMLName: s.Name, ID: lastAttr(s, "id")}
		}},
}

// lastAttr is the value encoding/xml gives a field tagged `xml:"local,attr"`:
// that of the last attribute with that local name, in any namespace.
func lastAttr(s xml.StartElement, local string) string {
	v := ""
	for _, a := range s.Attr {
		if a.Name.Local == local {
			v = a.Value
		}
	}
	return v
}

// decodeMsgExt decodes a child of a message that this package does not
// decode itself, as gosrc.io/xmpp would: into the extension type its
// registry maps the name to, else into a *stanza.Node.
func (er *elemReader) decodeMsgExt(c xml.StartElement) (stanza.MsgExtension, error) {
	typ := stanza.TypeRegistry.GetExtensionType(stanza.PKTMessage, c.Name)
	if typ != nil {
		if p, ok := plainMsgExts[typ]; ok && p.name == c.Name {
			return p.make(c), er.tok.skip()
		}
		if ext, ok := reflect.New(typ).Interface().(stanza.MsgExtension); ok {
			return ext, er.decodeReflect(ext, c)
		}
	}
	n := new(stanza.Node)
	return n, er.decodeNode(c, n)
}

// decodePresExt is decodeMsgExt for a child of a presence.
func (er *elemReader) decodePresExt(c xml.StartElement) (stanza.PresExtension, error) {
	if typ := stanza.TypeRegistry.GetExtensionType(stanza.PKTPresence, c.Name); typ != nil {
		if ext, ok := reflect.New(typ).Interface().(stanza.PresExtension); ok {
			return ext, er.decodeReflect(ext, c)
		}
	}
	n := new(stanza.Node)
	return n, er.decodeNode(c, n)
}
