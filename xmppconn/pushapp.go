package xmppconn

import (
	"encoding/xml"
	"log/slog"
)

// The namespaces of XEP-0357 as ejabberd 23.01's mod_push speaks them.
const (
	nsPush        = "urn:xmpp:push:0"
	nsPushSummary = "urn:xmpp:push:summary"
)

// PushNotification is one XEP-0357 notification the user's server sent
// the push app server: the node and secret the user's session enabled push
// with, and the summary (ejabberd's include_sender and include_body).
type PushNotification struct {
	From   string // who published: the user's server (its bare domain)
	Node   string
	Secret string // the publish-options secret, to compare in constant time
	Sender string // last-message-sender, a JID; empty unless included
	Body   string // last-message-body; empty unless included
}

// componentIQStanza is an iq to the component, with the children it
// understands.
type componentIQStanza struct {
	Type  string `xml:"type,attr"`
	ID    string `xml:"id,attr"`
	From  string `xml:"from,attr"`
	To    string `xml:"to,attr"`
	Disco *struct {
		Node string `xml:"node,attr"`
	} `xml:"http://jabber.org/protocol/disco#info query"`
	PubSub *struct {
		Publish *struct {
			Node string `xml:"node,attr"`
			Item struct {
				Notification struct {
					Form *DataForm `xml:"jabber:x:data x"`
				} `xml:"urn:xmpp:push:0 notification"`
			} `xml:"item"`
		} `xml:"publish"`
		Options *struct {
			Form *DataForm `xml:"jabber:x:data x"`
		} `xml:"publish-options"`
	} `xml:"http://jabber.org/protocol/pubsub pubsub"`
}

// parsePushIQ reads an iq to the component. ok is false for bytes that are
// not an iq; n is set for a notification (an iq set publishing to a node).
func parsePushIQ(raw []byte) (iq componentIQStanza, n *PushNotification, ok bool) {
	if err := xml.Unmarshal(raw, &iq); err != nil {
		return componentIQStanza{}, nil, false
	}
	ps := iq.PubSub
	if iq.Type != "set" || ps == nil || ps.Publish == nil || ps.Publish.Node == "" {
		return iq, nil, true
	}
	n = &PushNotification{From: iq.From, Node: ps.Publish.Node}
	if f := ps.Publish.Item.Notification.Form; f != nil && formType(f) == nsPushSummary {
		n.Sender = formValue(f, "last-message-sender")
		n.Body = formValue(f, "last-message-body")
	}
	if ps.Options != nil && ps.Options.Form != nil {
		n.Secret = formValue(ps.Options.Form, "secret")
	}
	return iq, n, true
}

func formType(f *DataForm) string { return formValue(f, "FORM_TYPE") }

func formValue(f *DataForm, v string) string {
	for _, fl := range f.Fields {
		if fl.Var == v && len(fl.Values) > 0 {
			return fl.Values[0]
		}
	}
	return ""
}

// componentIQ answers an iq the component received, or returns nil when
// none is due (results and errors). A notification is answered with a
// result at once and queued; a full queue is answered with a wait error,
// which keeps the registration: ejabberd deletes it on any other error.
func componentIQ(raw []byte, domain string, queue chan<- PushNotification, log *slog.Logger) []byte {
	iq, n, ok := parsePushIQ(raw)
	if !ok || (iq.Type != "get" && iq.Type != "set") {
		return nil
	}
	switch {
	case n != nil:
		select {
		case queue <- *n:
			return iqAnswerFrom(iq.ID, domain, iq.From, "")
		default:
			log.Warn("push notifications queue full; the server is told to wait", "node", n.Node)
			return iqAnswerFrom(iq.ID, domain, iq.From, `<error type='wait'><resource-constraint xmlns='`+nsStanzas+`'/></error>`)
		}
	case iq.Type == "get" && iq.Disco != nil && iq.Disco.Node == "":
		return iqAnswerFrom(iq.ID, domain, iq.From, `<query xmlns='`+nsDiscoInfo+`'>`+
			`<identity category='pubsub' type='push' name='sparkgate'/>`+
			`<feature var='`+nsPush+`'/><feature var='`+nsDiscoInfo+`'/></query>`)
	}
	return iqAnswerFrom(iq.ID, domain, iq.From, `<error type='cancel'><service-unavailable xmlns='`+nsStanzas+`'/></error>`)
}
