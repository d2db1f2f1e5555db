package xmppconn

import (
	"encoding/xml"
	"strings"

	"github.com/sparkgate/sparkgate/chatapi"
)

// Contacts' avatars (XEP-0084) and nicknames (XEP-0172) arrive as PEP
// notifications, because the session's capabilities ask for them with
// +notify (caps.go). Besides the generic chatapi.pubsub, each becomes a
// typed event a client can use without parsing XML.

const (
	nsAvatarMetadata = "urn:xmpp:avatar:metadata"
	nsNick           = "http://jabber.org/protocol/nick"
)

// maxNick bounds a nickname passed on; XEP-0172 sets no limit, and a
// name longer than this is not one a client can show.
const maxNick = 1024

type avatarMetadataXML struct {
	XMLName xml.Name `xml:"urn:xmpp:avatar:metadata metadata"`
	Info    []struct {
		ID     string `xml:"id,attr"`
		Bytes  int    `xml:"bytes,attr"`
		Type   string `xml:"type,attr"`
		Width  int    `xml:"width,attr"`
		Height int    `xml:"height,attr"`
		URL    string `xml:"url,attr"`
	} `xml:"info"`
}

type nickXML struct {
	XMLName xml.Name `xml:"http://jabber.org/protocol/nick nick"`
	Text    string   `xml:",chardata"`
}

// profileEvent returns the typed event of a PEP item of node published by
// from, or nil when the node is neither avatar metadata nor a nickname,
// or the payload is not what the XEP says.
func profileEvent(node, from string, payload []byte) chatapi.Payload {
	switch node {
	case nsAvatarMetadata:
		var m avatarMetadataXML
		if xml.Unmarshal(payload, &m) != nil {
			return nil
		}
		a := chatapi.Avatar{JID: bareJID(from)}
		// The first info without a url is the PEP-hosted image
		// (XEP-0084 section 4.2.1); others point elsewhere.
		for _, in := range m.Info {
			if in.ID != "" && (a.ID == "" || a.URL != "" && in.URL == "") {
				a.ID, a.Type, a.Size, a.Width, a.Height, a.URL = in.ID, in.Type, in.Bytes, in.Width, in.Height, in.URL
			}
		}
		return a
	case nsNick:
		var n nickXML
		if xml.Unmarshal(payload, &n) != nil {
			return nil
		}
		nick := strings.TrimSpace(n.Text)
		if len(nick) > maxNick {
			return nil
		}
		return chatapi.Nick{JID: bareJID(from), Nick: nick}
	}
	return nil
}
