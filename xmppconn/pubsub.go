package xmppconn

import (
	"context"
	"encoding/xml"
	"fmt"

	"gosrc.io/xmpp/stanza"
)

// Namespaces of publish-subscribe (XEP-0060) and data forms (XEP-0004).
const (
	NSPubSub      = "http://jabber.org/protocol/pubsub"
	NSPubSubOwner = "http://jabber.org/protocol/pubsub#owner"
	NSDataForm    = "jabber:x:data"
	// NSJSON is the XEP-0335 JSON container.
	NSJSON = nsJSON
)

// DataForm is a XEP-0004 data form, as sent and as read back.
type DataForm struct {
	XMLName xml.Name    `xml:"jabber:x:data x"`
	Type    string      `xml:"type,attr,omitempty"`
	Fields  []FormField `xml:"field"`
}

// FormField is one field of a DataForm.
type FormField struct {
	Var    string   `xml:"var,attr,omitempty"`
	Type   string   `xml:"type,attr,omitempty"`
	Values []string `xml:"value"`
}

// Value returns the first value of the field named v, or "".
func (f *DataForm) Value(v string) string {
	for _, fl := range f.Fields {
		if fl.Var == v && len(fl.Values) > 0 {
			return fl.Values[0]
		}
	}
	return ""
}

// Values returns every value of the field named v.
func (f *DataForm) Values(v string) []string {
	for _, fl := range f.Fields {
		if fl.Var == v {
			return fl.Values
		}
	}
	return nil
}

// SubmitForm builds a form of type submit with FORM_TYPE formType and the
// given single-valued fields, in the order of keys.
func SubmitForm(formType string, keys []string, values map[string]string) *DataForm {
	f := &DataForm{Type: "submit", Fields: []FormField{{Var: "FORM_TYPE", Type: "hidden", Values: []string{formType}}}}
	for _, k := range keys {
		f.Fields = append(f.Fields, FormField{Var: k, Values: []string{values[k]}})
	}
	return f
}

// newIQ builds a request to to with payload.
func newIQ(typ stanza.StanzaType, to string, payload stanza.IQPayload) *stanza.IQ {
	return &stanza.IQ{Attrs: stanza.Attrs{Type: typ, To: to}, Payload: payload}
}

// decodeReply reads the child of an IQ reply into v.
func decodeReply(reply Stanza, v any) error {
	if err := xml.Unmarshal(reply.Raw, v); err != nil {
		return fmt.Errorf("xmppconn: unreadable reply from %s: %w: %w", reply.From, ErrProtocol, err)
	}
	return nil
}

// pubsubRequest is the <pubsub/> payload of the XEP-0060 requests the
// gateway makes. Exactly one of the operations is set.
type pubsubRequest struct {
	XMLName        xml.Name        `xml:"http://jabber.org/protocol/pubsub pubsub"`
	Create         *nodeRef        `xml:"create"`
	Configure      *formWrap       `xml:"configure"`
	Subscribe      *subscribeReq   `xml:"subscribe"`
	Unsubscribe    *subscribeReq   `xml:"unsubscribe"`
	Publish        *publishReq     `xml:"publish"`
	PublishOptions *formWrap       `xml:"publish-options"`
	Retract        *retractReq     `xml:"retract"`
	Items          *itemsReq       `xml:"items"`
	Subscriptions  *subscriptionsR `xml:"subscriptions"`
}

func (*pubsubRequest) Namespace() string         { return NSPubSub }
func (*pubsubRequest) GetSet() *stanza.ResultSet { return nil }

type pubsubOwnerRequest struct {
	XMLName       xml.Name        `xml:"http://jabber.org/protocol/pubsub#owner pubsub"`
	Subscriptions *subscriptionsR `xml:"subscriptions"`
	Delete        *nodeRef        `xml:"delete"`
}

func (*pubsubOwnerRequest) Namespace() string         { return NSPubSubOwner }
func (*pubsubOwnerRequest) GetSet() *stanza.ResultSet { return nil }

type nodeRef struct {
	Node string `xml:"node,attr"`
}

type formWrap struct {
	Form *DataForm `xml:"jabber:x:data x"`
}

type subscribeReq struct {
	Node string `xml:"node,attr"`
	JID  string `xml:"jid,attr"`
}

type publishReq struct {
	Node  string `xml:"node,attr"`
	Items []Item `xml:"item"`
}

type retractReq struct {
	Node   string `xml:"node,attr"`
	Notify string `xml:"notify,attr,omitempty"`
	Items  []Item `xml:"item"`
}

type itemsReq struct {
	Node     string `xml:"node,attr"`
	MaxItems int    `xml:"max_items,attr,omitempty"`
	Items    []Item `xml:"item"`
}

type subscriptionsR struct {
	Node          string         `xml:"node,attr"`
	Subscriptions []Subscription `xml:"subscription"`
}

// Item is a pubsub item: its id and its payload, one XML element (sent and
// read verbatim).
type Item struct {
	ID      string `xml:"id,attr,omitempty"`
	Payload []byte `xml:",innerxml"`
}

// Subscription is one subscription of a node, as its owner sees it.
type Subscription struct {
	JID          string `xml:"jid,attr"`
	Subscription string `xml:"subscription,attr"` // subscribed, pending, unconfigured, none
	SubID        string `xml:"subid,attr,omitempty"`
}

// CreateNode creates node on the pubsub service with the service's
// default configuration, or with the fields of config (a node_config form)
// when it is not nil (XEP-0060 section 8.1). An existing node is a
// *StanzaError matching ErrConflict.
func (s *Session) CreateNode(ctx context.Context, service, node string, config *DataForm) error {
	req := &pubsubRequest{Create: &nodeRef{Node: node}}
	if config != nil {
		req.Configure = &formWrap{Form: config}
	}
	_, err := s.iq(ctx, newIQ(stanza.IQTypeSet, service, req))
	return err
}

// Publish publishes one item to node on service (empty service: the
// user's own PEP service), with publish-options when options is not nil
// (XEP-0060 section 7.1, 7.1.5). It returns the item id the service kept
// (the service assigns one when item.ID is empty).
func (s *Session) Publish(ctx context.Context, service, node string, item Item, options *DataForm) (string, error) {
	req := &pubsubRequest{Publish: &publishReq{Node: node, Items: []Item{item}}}
	if options != nil {
		req.PublishOptions = &formWrap{Form: options}
	}
	reply, err := s.iq(ctx, newIQ(stanza.IQTypeSet, service, req))
	if err != nil {
		return "", err
	}
	var r struct {
		PubSub struct {
			Publish publishReq `xml:"publish"`
		} `xml:"http://jabber.org/protocol/pubsub pubsub"`
	}
	if xml.Unmarshal(reply.Raw, &r) == nil && len(r.PubSub.Publish.Items) > 0 && r.PubSub.Publish.Items[0].ID != "" {
		return r.PubSub.Publish.Items[0].ID, nil
	}
	return item.ID, nil
}

// Retract removes the item id from node (XEP-0060 section 7.2), notifying
// the subscribers when notify is set.
func (s *Session) Retract(ctx context.Context, service, node, id string, notify bool) error {
	req := &pubsubRequest{Retract: &retractReq{Node: node, Items: []Item{{ID: id}}}}
	if notify {
		req.Retract.Notify = "true"
	}
	_, err := s.iq(ctx, newIQ(stanza.IQTypeSet, service, req))
	return err
}

// Items returns the items of node (XEP-0060 section 6.5), at most max
// when max > 0.
func (s *Session) Items(ctx context.Context, service, node string, max int) ([]Item, error) {
	return s.items(ctx, service, &itemsReq{Node: node, MaxItems: max})
}

// items sends the items request req (all items, the last max, or the
// items named in req.Items) and returns the items of the answer.
func (s *Session) items(ctx context.Context, service string, req0 *itemsReq) ([]Item, error) {
	req := &pubsubRequest{Items: req0}
	reply, err := s.iq(ctx, newIQ(stanza.IQTypeGet, service, req))
	if err != nil {
		return nil, err
	}
	var r struct {
		PubSub struct {
			Items itemsReq `xml:"items"`
		} `xml:"http://jabber.org/protocol/pubsub pubsub"`
	}
	if err := decodeReply(reply, &r); err != nil {
		return nil, err
	}
	return r.PubSub.Items.Items, nil
}

// Subscribe subscribes jid (normally the user's bare JID) to node
// (XEP-0060 section 6.1) and returns the subscription state the service
// reports ("subscribed", or "pending" for nodes that need approval).
func (s *Session) Subscribe(ctx context.Context, service, node, jid string) (string, error) {
	reply, err := s.iq(ctx, newIQ(stanza.IQTypeSet, service, &pubsubRequest{Subscribe: &subscribeReq{Node: node, JID: jid}}))
	if err != nil {
		return "", err
	}
	var r struct {
		PubSub struct {
			Subscription *Subscription `xml:"subscription"`
		} `xml:"http://jabber.org/protocol/pubsub pubsub"`
	}
	if xml.Unmarshal(reply.Raw, &r) == nil && r.PubSub.Subscription != nil && r.PubSub.Subscription.Subscription != "" {
		return r.PubSub.Subscription.Subscription, nil
	}
	return "subscribed", nil
}

// Unsubscribe ends jid's subscription to node (XEP-0060 section 6.2). A
// jid with no subscription is an error from the service (unexpected-request,
// matching no sentinel of this package beyond *StanzaError).
func (s *Session) Unsubscribe(ctx context.Context, service, node, jid string) error {
	_, err := s.iq(ctx, newIQ(stanza.IQTypeSet, service, &pubsubRequest{Unsubscribe: &subscribeReq{Node: node, JID: jid}}))
	return err
}

// Subscriptions lists the subscriptions of node as its owner (XEP-0060
// section 8.8.1). The service refuses anyone else with a *StanzaError
// matching ErrForbidden.
func (s *Session) Subscriptions(ctx context.Context, service, node string) ([]Subscription, error) {
	req := &pubsubOwnerRequest{Subscriptions: &subscriptionsR{Node: node}}
	reply, err := s.iq(ctx, newIQ(stanza.IQTypeGet, service, req))
	if err != nil {
		return nil, err
	}
	var r struct {
		PubSub struct {
			Subscriptions subscriptionsR `xml:"subscriptions"`
		} `xml:"http://jabber.org/protocol/pubsub#owner pubsub"`
	}
	if err := decodeReply(reply, &r); err != nil {
		return nil, err
	}
	return r.PubSub.Subscriptions.Subscriptions, nil
}

// DeleteNode deletes node as its owner (XEP-0060 section 8.4).
func (s *Session) DeleteNode(ctx context.Context, service, node string) error {
	_, err := s.iq(ctx, newIQ(stanza.IQTypeSet, service, &pubsubOwnerRequest{Delete: &nodeRef{Node: node}}))
	return err
}

// jsonContainer is the XEP-0335 element.
type jsonContainer struct {
	XMLName xml.Name `xml:"urn:xmpp:json:0 json"`
	Text    string   `xml:",chardata"`
}

// JSONPayload wraps JSON text (which the caller has validated) in an
// XEP-0335 <json xmlns='urn:xmpp:json:0'/> element, escaped for XML.
func JSONPayload(js []byte) ([]byte, error) {
	b, err := xml.Marshal(jsonContainer{Text: string(js)})
	if err != nil {
		return nil, fmt.Errorf("xmppconn: json container: %w", err)
	}
	return b, nil
}

// ParseJSONPayload returns the JSON text of an XEP-0335 container element
// (as read from an item), or false when payload is not one.
func ParseJSONPayload(payload []byte) (string, bool) {
	var c jsonContainer
	if err := xml.Unmarshal(payload, &c); err != nil || c.XMLName.Space != nsJSON {
		return "", false
	}
	return c.Text, true
}
