package xmppconn

import (
	"bytes"
	"encoding/xml"
	"reflect"
	"strings"
	"testing"

	"gosrc.io/xmpp/stanza"
)

// readFirst returns an elemReader over in that has read in's first start
// tag, as the stanza decoder is when it meets a child.
func readFirst(t testing.TB, in string) (*elemReader, xml.StartElement, bool) {
	t.Helper()
	er := newElemReader(strings.NewReader(in), len(in)+1)
	tok, err := er.tok.next()
	if err != nil || tok.kind != tokStart {
		return nil, xml.StartElement{}, false
	}
	return er, xml.StartElement{Name: tok.name, Attr: tok.attr}, true
}

// FuzzDecodeNode: decodeNode builds the stanza.Node that encoding/xml
// builds through Node's UnmarshalXML, wherever both read the input.
func FuzzDecodeNode(f *testing.F) {
	for _, seed := range []string{
		`<archived by='alice@localhost' id='1795466568188565' xmlns='urn:xmpp:mam:tmp'/>`,
		`<x xmlns='urn:x' xmlns:p='urn:p' a='1' p:b='2'>text<y c='3'>inner</y>more<p:z/><![CDATA[<c>]]></x>`,
		`<a><b><c><d/></c></b></a>`,
		`<a xml:lang='en'>&lt;&#x263A;</a>`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var want stanza.Node
		d := xml.NewDecoder(bytes.NewReader(data))
		if err := d.Decode(&want); err != nil {
			return
		}
		er, start, ok := readFirst(t, string(data))
		if !ok {
			return // restricted XML before the element
		}
		var got stanza.Node
		if err := er.decodeNode(start, &got); err != nil {
			return // restricted XML inside it
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decodeNode\n got %#v\nwant %#v", got, want)
		}
	})
}

// TestPlainMsgExts: the extensions built without reflection are the ones
// encoding/xml decodes, and a name the type does not accept goes the
// reflection way.
func TestPlainMsgExts(t *testing.T) {
	tests := []string{
		`<active xmlns='http://jabber.org/protocol/chatstates'/>`,
		`<composing xmlns='http://jabber.org/protocol/chatstates'><ignored>x</ignored></composing>`,
		`<gone xmlns='http://jabber.org/protocol/chatstates'/>`,
		`<inactive xmlns='http://jabber.org/protocol/chatstates'/>`,
		`<paused xmlns='http://jabber.org/protocol/chatstates'/>`,
		`<request xmlns='urn:xmpp:receipts'/>`,
		`<received xmlns='urn:xmpp:receipts' id='r1'/>`,
		`<received xmlns='urn:xmpp:receipts' xmlns:p='urn:p' id='r1' p:id='r2'/>`,
		`<markable xmlns='urn:xmpp:chat-markers:0'/>`,
		`<received xmlns='urn:xmpp:chat-markers:0' id='m1'/>`,
		`<displayed xmlns='urn:xmpp:chat-markers:0' id='m2'/>`,
		`<acknowledged xmlns='urn:xmpp:chat-markers:0' id='m3'/>`,
		`<x xmlns='jabber:x:oob'><url>https://example.org/a</url></x>`,
		`<unknown xmlns='urn:nobody'>t</unknown>`,
	}
	for _, in := range tests {
		er, start, ok := readFirst(t, in+"<after/>")
		if !ok {
			t.Fatalf("%s: no start tag", in)
		}
		got, err := er.decodeMsgExt(start)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		want := stanza.TypeRegistry.GetMsgExtension(start.Name)
		if want == nil {
			want = new(stanza.Node)
		}
		if err := xml.Unmarshal([]byte(in), want); err != nil {
			t.Fatalf("%s: reference: %v", in, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %#v\nwant %#v", in, got, want)
		}
		if next, err := er.tok.next(); err != nil || next.name.Local != "after" {
			t.Errorf("%s: the element was not consumed (%v)", in, err)
		}
	}
}
