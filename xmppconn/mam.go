package xmppconn

import (
	"encoding/xml"
	"time"

	"gosrc.io/xmpp/stanza"
)

// MAMQuery is a XEP-0313 (Message Archive Management, urn:xmpp:mam:2)
// query, the payload of an IQ set sent to the user's archive (no to) or to
// a room's. Results arrive as messages carrying a MAMResult with QueryID;
// the IQ's reply carries the Fin.
type MAMQuery struct {
	XMLName xml.Name          `xml:"urn:xmpp:mam:2 query"`
	QueryID string            `xml:"queryid,attr,omitempty"`
	Form    *stanza.Form      `xml:"jabber:x:data x,omitempty"`
	Set     *stanza.ResultSet `xml:"http://jabber.org/protocol/rsm set,omitempty"`
}

// Namespace returns urn:xmpp:mam:2.
func (*MAMQuery) Namespace() string { return nsMAM }

// GetSet returns the query's paging set.
func (q *MAMQuery) GetSet() *stanza.ResultSet { return q.Set }

// ArchiveFilter narrows a MAMQuery (XEP-0313 section 4.1.1). Zero fields
// do not filter.
type ArchiveFilter struct {
	With       string // a bare or full JID: only the conversation with it
	Start, End time.Time
	FullText   string // ejabberd's full-text search field, "{urn:xmpp:fulltext:0}fulltext"
}

// Filter sets the query's data form from f.
func (q *MAMQuery) Filter(f ArchiveFilter) {
	fields := []*stanza.Field{{Var: "FORM_TYPE", Type: "hidden", ValuesList: []string{nsMAM}}}
	if f.With != "" {
		fields = append(fields, &stanza.Field{Var: "with", ValuesList: []string{f.With}})
	}
	if !f.Start.IsZero() {
		fields = append(fields, &stanza.Field{Var: "start", ValuesList: []string{f.Start.UTC().Format(time.RFC3339)}})
	}
	if !f.End.IsZero() {
		fields = append(fields, &stanza.Field{Var: "end", ValuesList: []string{f.End.UTC().Format(time.RFC3339)}})
	}
	if f.FullText != "" {
		fields = append(fields, &stanza.Field{Var: "{urn:xmpp:fulltext:0}fulltext", ValuesList: []string{f.FullText}})
	}
	q.Form = &stanza.Form{Type: stanza.FormTypeSubmit, Fields: fields}
}

// Fin is the end of a MAM query's answer: whether the last page was
// reached and the paging ids of this page.
type Fin struct {
	Complete    bool
	First, Last string
	Count       int
}

type finXML struct {
	Fin *struct {
		Complete string `xml:"complete,attr"`
		Set      struct {
			First string `xml:"first"`
			Last  string `xml:"last"`
			Count int    `xml:"count"`
		} `xml:"http://jabber.org/protocol/rsm set"`
	} `xml:"urn:xmpp:mam:2 fin"`
}

// ParseFin reads the <fin/> of a MAM query's IQ result. A reply without
// one yields a complete, empty Fin.
func ParseFin(reply *Stanza) Fin {
	if reply == nil || len(reply.Raw) == 0 {
		return Fin{Complete: true}
	}
	var f finXML
	if err := xml.Unmarshal(reply.Raw, &f); err != nil || f.Fin == nil {
		return Fin{Complete: true}
	}
	return Fin{
		Complete: f.Fin.Complete == "true" || f.Fin.Complete == "1",
		First:    f.Fin.Set.First,
		Last:     f.Fin.Set.Last,
		Count:    f.Fin.Set.Count,
	}
}

func ptr[T any](v T) *T { return &v }
