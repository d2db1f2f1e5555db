package xmppconn

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"

	"gosrc.io/xmpp/stanza"
)

// nsVCard is XEP-0054's namespace (vcard-temp).
const nsVCard = "vcard-temp"

// VCard is a XEP-0054 vCard, the payload of an IQ get (to read one) or set
// (to store the user's own). The fields the gateway uses are typed; every
// other element is kept in Other, so a read-modify-write round trip
// preserves what other clients stored (photo, address, ...).
type VCard struct {
	XMLName  xml.Name       `xml:"vcard-temp vCard"`
	FN       string         `xml:"FN,omitempty"`
	Nickname string         `xml:"NICKNAME,omitempty"`
	Emails   []VCardEmail   `xml:"EMAIL"`
	Other    []VCardElement `xml:",any"`
}

// VCardEmail is one EMAIL of a vCard: the address in USERID, and type
// flags (INTERNET, PREF, HOME, WORK, ...) as empty elements in Flags.
type VCardEmail struct {
	UserID string         `xml:"USERID"`
	Flags  []VCardElement `xml:",any"`
}

// VCardElement is a vCard element kept as is.
type VCardElement struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Inner   []byte     `xml:",innerxml"`
}

// Namespace returns vcard-temp.
func (*VCard) Namespace() string { return nsVCard }

// GetSet returns nil: a vCard has no paging.
func (*VCard) GetSet() *stanza.ResultSet { return nil }

// Email returns the preferred email address (the first one marked PREF,
// else the first one), or "".
func (v *VCard) Email() string {
	for _, e := range v.Emails {
		for _, f := range e.Flags {
			if f.XMLName.Local == "PREF" {
				return e.UserID
			}
		}
	}
	if len(v.Emails) > 0 {
		return v.Emails[0].UserID
	}
	return ""
}

// SetEmail makes addr the only email address (marked INTERNET and PREF);
// "" removes every address.
func (v *VCard) SetEmail(addr string) {
	if addr == "" {
		v.Emails = nil
		return
	}
	v.Emails = []VCardEmail{{UserID: addr, Flags: []VCardElement{
		{XMLName: xml.Name{Local: "INTERNET"}}, {XMLName: xml.Name{Local: "PREF"}},
	}}}
}

// Marshal returns the vCard as XML.
func (v *VCard) Marshal() ([]byte, error) {
	b, err := xml.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("xmppconn: marshal vcard: %w", err)
	}
	return b, nil
}

// ParseVCard reads a vCard element (as stored by a client, or the payload
// of an IQ result). The element must be a vCard in the vcard-temp
// namespace; anything else is ErrInvalidStanza.
func ParseVCard(raw []byte) (*VCard, error) {
	var v VCard
	d := xml.NewDecoder(bytes.NewReader(raw))
	d.Strict = true
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("xmppconn: vcard: %w: %v", ErrInvalidStanza, err)
	}
	if v.XMLName.Space != nsVCard || v.XMLName.Local != "vCard" {
		return nil, fmt.Errorf("xmppconn: vcard: %w: not a vcard-temp vCard", ErrInvalidStanza)
	}
	return &v, nil
}

// VCardOf reads the vCard in the reply to a vCard IQ get. A reply without
// one (the server's answer for a user who never stored a vCard) yields an
// empty VCard.
func VCardOf(reply *Stanza) (*VCard, error) {
	var iq struct {
		VCard *VCard `xml:"vcard-temp vCard"`
	}
	if reply == nil || len(reply.Raw) == 0 {
		return &VCard{}, nil
	}
	if err := xml.Unmarshal(reply.Raw, &iq); err != nil {
		return nil, fmt.Errorf("xmppconn: vcard: %w: %v", ErrInvalidStanza, err)
	}
	if iq.VCard == nil {
		return &VCard{}, nil
	}
	return iq.VCard, nil
}

// VCard reads the vCard of jid, "" for the user's own (XEP-0054 sections
// 3.1 and 3.3). A user who never stored one has an empty VCard.
func (s *Session) VCard(ctx context.Context, jid string) (*VCard, error) {
	reply, err := s.iq(ctx, newIQ(stanza.IQTypeGet, jid, &VCard{}))
	if err != nil {
		return nil, err
	}
	return VCardOf(&reply)
}

// SetVCard stores v as the user's vCard (XEP-0054 section 3.2): it
// replaces the whole stored vCard, so a change of one field reads the
// vCard first and sends it back with the change.
func (s *Session) SetVCard(ctx context.Context, v *VCard) error {
	c := *v
	c.XMLName = xml.Name{Space: nsVCard, Local: "vCard"}
	if _, err := s.iq(ctx, newIQ(stanza.IQTypeSet, "", &c)); err != nil {
		return err
	}
	s.keepProfile(&c) // ownprofile.go
	return nil
}
