package xmppconn

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/xml"
	"slices"
	"strings"

	"gosrc.io/xmpp/stanza"
)

// What the gateway's client says it is (XEP-0030) and announces in every
// presence (XEP-0115 entity capabilities). Servers and other clients read
// it before they send what a client may not understand: ejabberd's PEP
// sends a contact's avatar and nickname updates only to clients that list
// the node followed by "+notify" (XEP-0163 section 4), which a client
// without capabilities never gets.

// capsNode names the software in the caps element.
const capsNode = "https://github.com/sparkgate/sparkgate"

// clientFeatures are the features the session really handles.
var clientFeatures = func() []string {
	f := []string{
		"http://jabber.org/protocol/caps",
		"http://jabber.org/protocol/chatstates",
		nsDiscoInfo,
		"http://jabber.org/protocol/muc",
		"http://jabber.org/protocol/nick",
		"http://jabber.org/protocol/nick+notify",
		nsCarbons,
		nsJSON,
		nsPing,
		"urn:xmpp:avatar:metadata+notify",
		"urn:xmpp:sid:0",
		"urn:xmpp:bookmarks:1+notify",
		nsMucSub,
	}
	slices.Sort(f)
	return f
}()

// capsVer is the verification string of the identity and features
// (XEP-0115 section 5.1, SHA-1, no forms).
var capsVer = func() string {
	var b strings.Builder
	b.WriteString("client/web//sparkgate<")
	for _, f := range clientFeatures {
		b.WriteString(f)
		b.WriteByte('<')
	}
	sum := sha1.Sum([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(sum[:])
}()

// capsExtension is the <c/> element every presence of the session carries.
type capsExtension struct {
	stanza.PresExtension
	XMLName xml.Name `xml:"http://jabber.org/protocol/caps c"`
	Hash    string   `xml:"hash,attr"`
	Node    string   `xml:"node,attr"`
	Ver     string   `xml:"ver,attr"`
}

func newCaps() *capsExtension {
	return &capsExtension{Hash: "sha-1", Node: capsNode, Ver: capsVer}
}

// discoInfoReply answers a disco#info request for the client (no node, or
// the caps node#ver), or returns nil for any other node.
func discoInfoReply(s *Stanza, query xml.StartElement) []byte {
	node := ""
	for _, a := range query.Attr {
		if a.Name.Local == "node" && a.Name.Space == "" {
			node = a.Value
		}
	}
	if node != "" && node != capsNode+"#"+capsVer {
		return nil
	}
	var b bytes.Buffer
	b.WriteString("<query xmlns='" + nsDiscoInfo + "'")
	if node != "" {
		b.WriteString(" node='")
		xml.EscapeText(&b, []byte(node))
		b.WriteString("'")
	}
	b.WriteString("><identity category='client' type='web' name='sparkgate'/>")
	for _, f := range clientFeatures {
		b.WriteString("<feature var='")
		xml.EscapeText(&b, []byte(f))
		b.WriteString("'/>")
	}
	b.WriteString("</query>")
	return iqAnswer(s, b.String())
}

// iqAnswer is the answer to the iq request s: a result holding inner, or
// an error when inner is an <error/> element.
func iqAnswer(s *Stanza, inner string) []byte { return iqAnswerFrom(s.ID, "", s.From, inner) }

// iqAnswerFrom writes the answer with id to to, from from when set (a
// component names itself; a client's server fills it in), holding inner:
// a result, or an error when inner is an <error/> element.
func iqAnswerFrom(id, from, to, inner string) []byte {
	typ := "result"
	if strings.HasPrefix(inner, "<error") {
		typ = "error"
	}
	var b bytes.Buffer
	b.WriteString("<iq type='" + typ + "' id='")
	xml.EscapeText(&b, []byte(id))
	for _, a := range []struct{ name, value string }{{"from", from}, {"to", to}} {
		if a.value != "" {
			b.WriteString("' " + a.name + "='")
			xml.EscapeText(&b, []byte(a.value))
		}
	}
	if inner == "" {
		b.WriteString("'/>")
		return b.Bytes()
	}
	b.WriteString("'>")
	b.WriteString(inner)
	b.WriteString("</iq>")
	return b.Bytes()
}
