package chatapi

import "encoding/json"

// Values of PubSub.Type.
const (
	TypePubSubItem    = "item"
	TypePubSubRetract = "retract"
	TypePubSubPurge   = "purge"
	TypePubSubDelete  = "delete"
)

// PubSub is chatapi.pubsub, a sparkgate addition: a publish-subscribe or
// PEP event notification (XEP-0060 section 7.1.2, XEP-0163). The reference
// meant to emit pubsub.item but never did; its pubsub notifications only
// reached clients as chatapi.xmpp.
//
// Type says what happened to the node: "item" (published), "retract",
// "purge" or "delete". From is the pubsub service, or the PEP owner's bare
// JID. Payload is the item's payload as XML. Data holds the payload as JSON
// when the item is an XEP-0335 JSON container (what the SparkWeb pubsub
// publish endpoint stores), and is omitted otherwise; it must be valid JSON.
type PubSub struct {
	Type    string          `json:"type"`
	To      string          `json:"to"`
	From    string          `json:"from"`
	Node    string          `json:"node"`
	ItemID  string          `json:"itemId,omitempty"`
	Payload string          `json:"payload,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
	// Stamp is the publish time for items delivered late (XEP-0203),
	// RFC 3339 in UTC.
	Stamp string `json:"stamp,omitempty"`
}

// EventName returns "chatapi.pubsub".
func (PubSub) EventName() string { return EventPubSub }
