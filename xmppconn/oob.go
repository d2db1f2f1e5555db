package xmppconn

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"net/url"

	"gosrc.io/xmpp/stanza"

	"github.com/sparkgate/sparkgate/chatapi"
)

// Files (XEP-0066 out-of-band data): a client that shares an upload sends
// its URL as the body, for clients that know nothing else, and again in
// <x xmlns="jabber:x:oob"/>, which tells clients that do to show the file
// (inline for an image) rather than a link. The gateway reads the element
// into chatapi's File and writes it with SendFile.

// maxFileURL bounds a file URL; upload services hand out URLs of a few
// hundred bytes, and a longer one is not a link a client should render.
const maxFileURL = 2048

// maxFileDesc bounds a file's description.
const maxFileDesc = 1024

// fileOf returns the file m links to, or nil.
func fileOf(m *stanza.Message) *chatapi.File {
	for _, ext := range m.Extensions {
		var oob *stanza.OOB
		switch e := ext.(type) {
		case *stanza.OOB:
			oob = e
		case stanza.OOB:
			oob = &e
		default:
			continue
		}
		if oob.URL == "" || len(oob.URL) > maxFileURL {
			return nil
		}
		return &chatapi.File{URL: oob.URL, Desc: oob.Desc}
	}
	return nil
}

// SendFile sends the JID to a link to the file at rawURL (http or https),
// described by desc (may be empty): the URL as the body and as XEP-0066
// out-of-band data. Like SendChat it asks for a receipt, is kept for
// resending and echoed to the user's other tabs; it returns the id.
func (s *Session) SendFile(ctx context.Context, to, rawURL, desc string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(rawURL) > maxFileURL {
		return "", fmt.Errorf("%w: a file needs an http or https URL of at most %d bytes", ErrInvalidStanza, maxFileURL)
	}
	if len(desc) > maxFileDesc {
		return "", fmt.Errorf("%w: a file description has at most %d bytes", ErrInvalidStanza, maxFileDesc)
	}
	var ext bytes.Buffer
	ext.WriteString(`<x xmlns="jabber:x:oob"><url>`)
	xml.EscapeText(&ext, []byte(rawURL))
	ext.WriteString(`</url>`)
	if desc != "" {
		ext.WriteString(`<desc>`)
		xml.EscapeText(&ext, []byte(desc))
		ext.WriteString(`</desc>`)
	}
	ext.WriteString(`</x><request xmlns="urn:xmpp:receipts"></request><markable xmlns="urn:xmpp:chat-markers:0"></markable>`)
	return s.sendModern(ctx, to, rawURL, ext.Bytes(), chatapi.Chat{File: &chatapi.File{URL: rawURL, Desc: desc}})
}
