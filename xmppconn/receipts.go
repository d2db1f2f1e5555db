package xmppconn

import (
	"bytes"
	"crypto/rand"
	"encoding/xml"

	"gosrc.io/xmpp/stanza"
)

// Delivery receipts (XEP-0184). The messages the user sends ask for one
// (chatStanza), and the session answers for the messages it receives: a
// message has reached the user once it is in the user's event log, where
// every tab and the push path take it. Not answered: room messages (the
// XEP forbids it), archive results and carbons (another resource of the
// user received those and answers itself), the user's own messages, and
// messages without an id (nothing to name in the receipt).

// wantsReceipt reports whether st, a message the session is about to
// deliver, asks for a receipt the session must answer.
func (s *Session) wantsReceipt(st *Stanza) bool {
	if st.Name != "message" || st.ID == "" || st.MAM != nil || st.Carbon != nil || st.Message == nil {
		return false
	}
	if st.Type != "chat" && st.Type != "normal" && st.Type != "" {
		return false
	}
	if bareJID(st.From) == s.user || st.From == "" {
		return false
	}
	for _, ext := range st.Message.Extensions {
		if _, ok := ext.(*stanza.ReceiptRequest); ok {
			return true
		}
	}
	return false
}

// receiptFor is the receipt answering st.
func receiptFor(st *Stanza) []byte {
	var b bytes.Buffer
	b.WriteString(`<message id="`)
	b.WriteString(rand.Text())
	b.WriteString(`" to="`)
	xml.EscapeText(&b, []byte(st.From))
	b.WriteString(`"><received xmlns="urn:xmpp:receipts" id="`)
	xml.EscapeText(&b, []byte(st.ID))
	b.WriteString(`"/></message>`)
	return b.Bytes()
}
