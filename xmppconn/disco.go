package xmppconn

import (
	"context"
	"encoding/xml"
	"fmt"

	"gosrc.io/xmpp/stanza"
)

// Service discovery (XEP-0030) and data forms (XEP-0004) namespaces.
const (
	nsDiscoInfo  = "http://jabber.org/protocol/disco#info"
	nsDiscoItems = "http://jabber.org/protocol/disco#items"
	nsData       = "jabber:x:data"
)

// iqPayload is an IQ child given as an element name, attributes and inner
// XML; it lets this package send any query with Session.iq.
type iqPayload struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Inner   []byte     `xml:",innerxml"`
}

func (p *iqPayload) Namespace() string         { return p.XMLName.Space }
func (p *iqPayload) GetSet() *stanza.ResultSet { return nil }

// queryPayload is a <query xmlns=ns> with inner as its children.
func queryPayload(ns string, inner []byte) *iqPayload {
	return &iqPayload{XMLName: xml.Name{Space: ns, Local: "query"}, Inner: inner}
}

// iqGet and iqSet send an IQ get or set with payload p to to and wait for
// the reply.
func (s *Session) iqGet(ctx context.Context, to string, p *iqPayload) (Stanza, error) {
	return s.iq(ctx, &stanza.IQ{Attrs: stanza.Attrs{Type: stanza.IQTypeGet, To: to}, Payload: p})
}

func (s *Session) iqSet(ctx context.Context, to string, p *iqPayload) (Stanza, error) {
	return s.iq(ctx, &stanza.IQ{Attrs: stanza.Attrs{Type: stanza.IQTypeSet, To: to}, Payload: p})
}

// Identity is a disco#info identity.
type Identity struct {
	Category string `xml:"category,attr"`
	Type     string `xml:"type,attr"`
	Name     string `xml:"name,attr"`
}

// Form is a data form (XEP-0004) read as field var → values; FormType is
// the value of its FORM_TYPE field.
type Form struct {
	Type     string // form, submit, result, cancel
	FormType string
	Fields   map[string][]string
}

// Value returns the first value of field v, or "".
func (f Form) Value(v string) string {
	if vs := f.Fields[v]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

type formXML struct {
	Type   string `xml:"type,attr"`
	Fields []struct {
		Var    string   `xml:"var,attr"`
		Values []string `xml:"value"`
	} `xml:"field"`
}

func (x *formXML) form() Form {
	f := Form{Type: x.Type, Fields: make(map[string][]string, len(x.Fields))}
	for _, fl := range x.Fields {
		if fl.Var == "FORM_TYPE" && len(fl.Values) > 0 {
			f.FormType = fl.Values[0]
			continue
		}
		if fl.Var != "" {
			f.Fields[fl.Var] = fl.Values
		}
	}
	return f
}

// DiscoInfo is an entity's disco#info answer.
type DiscoInfo struct {
	Identities []Identity
	Features   []string
	// Forms are the extended information forms (XEP-0128), e.g. a room's
	// muc#roominfo.
	Forms []Form
}

// Has reports whether the entity announces feature.
func (d *DiscoInfo) Has(feature string) bool {
	for _, f := range d.Features {
		if f == feature {
			return true
		}
	}
	return false
}

// Form returns the extended form of FORM_TYPE typ, or an empty one.
func (d *DiscoInfo) Form(typ string) Form {
	for _, f := range d.Forms {
		if f.FormType == typ {
			return f
		}
	}
	return Form{Fields: map[string][]string{}}
}

type discoInfoXML struct {
	Query *struct {
		Identities []Identity `xml:"identity"`
		Features   []struct {
			Var string `xml:"var,attr"`
		} `xml:"feature"`
		Forms []formXML `xml:"jabber:x:data x"`
	} `xml:"http://jabber.org/protocol/disco#info query"`
}

// parseDiscoInfo reads the disco#info query of an IQ result.
func parseDiscoInfo(raw []byte) (*DiscoInfo, error) {
	var x discoInfoXML
	if err := xml.Unmarshal(raw, &x); err != nil || x.Query == nil {
		return nil, fmt.Errorf("%w: no disco#info in the reply", ErrProtocol)
	}
	d := &DiscoInfo{Identities: x.Query.Identities}
	for _, f := range x.Query.Features {
		d.Features = append(d.Features, f.Var)
	}
	for i := range x.Query.Forms {
		d.Forms = append(d.Forms, x.Query.Forms[i].form())
	}
	return d, nil
}

// DiscoInfo asks the entity to (and node, when not empty) for its
// identities and features (XEP-0030 section 3).
func (s *Session) DiscoInfo(ctx context.Context, to, node string) (*DiscoInfo, error) {
	p := queryPayload(nsDiscoInfo, nil)
	if node != "" {
		p.Attrs = []xml.Attr{{Name: xml.Name{Local: "node"}, Value: node}}
	}
	reply, err := s.iqGet(ctx, to, p)
	if err != nil {
		return nil, err
	}
	return parseDiscoInfo(reply.Raw)
}

// DiscoItem is one item of a disco#items answer.
type DiscoItem struct {
	JID  string `xml:"jid,attr"`
	Node string `xml:"node,attr"`
	Name string `xml:"name,attr"`
}

type discoItemsXML struct {
	Query *struct {
		Items []DiscoItem `xml:"item"`
	} `xml:"http://jabber.org/protocol/disco#items query"`
}

func parseDiscoItems(raw []byte) ([]DiscoItem, error) {
	var x discoItemsXML
	if err := xml.Unmarshal(raw, &x); err != nil || x.Query == nil {
		return nil, fmt.Errorf("%w: no disco#items in the reply", ErrProtocol)
	}
	return x.Query.Items, nil
}

// DiscoItems asks the entity to (and node, when not empty) for its items
// (XEP-0030 section 4): a MUC service's rooms, a room's occupants.
func (s *Session) DiscoItems(ctx context.Context, to, node string) ([]DiscoItem, error) {
	p := queryPayload(nsDiscoItems, nil)
	if node != "" {
		p.Attrs = []xml.Attr{{Name: xml.Name{Local: "node"}, Value: node}}
	}
	reply, err := s.iqGet(ctx, to, p)
	if err != nil {
		return nil, err
	}
	return parseDiscoItems(reply.Raw)
}
