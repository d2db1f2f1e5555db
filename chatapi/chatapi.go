// Package chatapi is the vocabulary of the SparkWeb Server-Sent Events
// stream: the event names and the JSON payload of each event.
//
// Field names follow the SparkWeb event catalogue (the sseListener section of
// the SparkWeb API, and what the reference server really emits) so that
// existing SparkWeb clients keep working. Fields the reference lacks but
// clients need, such as the archive id and the delay stamp of a message, are
// additions: they are omitted when empty and never rename a catalogue field.
//
// Events of the reference that sparkgate does not produce have no type
// here: pubsub.item (never emitted in practice; see PubSub), onAction
// (nothing triggers it), and the Openfire-only chatapi.openlink,
// chatapi.fastpath, chatapi.ask and chatapi.assist.
//
// Every payload is a plain struct encoded with encoding/json, once per event,
// by the gateway; the sse package then moves the bytes without looking at
// them. This package imports only the standard library and nothing of
// sparkgate, so that producers (xmppconn), the gateway, test clients and a
// later multi-node transport can share it.
package chatapi

// Payload is implemented by every event payload. EventName returns the SSE
// event name ("chatapi.chat", "onConnect", …) under which the payload is sent;
// it depends only on the type, never on field values.
type Payload interface {
	EventName() string
}

// Event names. The first group is the SparkWeb catalogue; the second group
// is added by sparkgate.
const (
	EventConnect  = "onConnect"
	EventXMPP     = "chatapi.xmpp"
	EventPresence = "chatapi.presence"
	EventChat     = "chatapi.chat"
	EventMUC      = "chatapi.muc"
	EventNotify   = "chatapi.notify"

	EventPubSub     = "chatapi.pubsub"
	EventReceipt    = "chatapi.receipt"
	EventReset      = "chatapi.reset"
	EventClose      = "chatapi.close"
	EventError      = "chatapi.error"
	EventSession    = "chatapi.session"
	EventRoster     = "chatapi.roster"
	EventReaction   = "chatapi.reaction"
	EventUnread     = "chatapi.unread"
	EventAvatar     = "chatapi.avatar"
	EventNick       = "chatapi.nick"
	EventRequest    = "chatapi.request"
	EventBlocklist  = "chatapi.blocklist"
	EventMuted      = "chatapi.muted"
	EventStrangers  = "chatapi.strangers"
	EventProperties = "chatapi.properties"
)
