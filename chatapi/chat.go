package chatapi

import "encoding/json"

// Values of Chat.Type, as the catalogue uses them: the XMPP message type
// (RFC 6121 section 5.2.2). The reference treats "headline" as a system
// broadcast.
const (
	TypeChat     = "chat"
	TypeNormal   = "normal"
	TypeHeadline = "headline"
	TypeError    = "error"
)

// Chat is chatapi.chat, "one to one chat messages": a message that is not a
// groupchat and has a body.
//
// The catalogue's fields are Type, To, From, Data and Body; Data is the raw
// JSON of the message's "data" property, or JSON null when there is none
// (a nil Data encodes as null, as in the reference). Data must hold valid
// JSON or encoding fails.
//
// ID, StanzaID, Stamp and Thread are sparkgate additions so that clients can
// de-duplicate a message seen both live and through the archive, and tell
// history from live messages.
type Chat struct {
	Type string          `json:"type"`
	To   string          `json:"to"`
	From string          `json:"from"`
	Data json.RawMessage `json:"data"`
	Body string          `json:"body"`

	// ID is the message's own id attribute.
	ID string `json:"id,omitempty"`
	// StanzaID is the archive id the user's server assigned (XEP-0359
	// stanza-id, the id MAM (XEP-0313) queries page by).
	StanzaID string `json:"stanzaId,omitempty"`
	// Stamp is the original send time for delayed or archived messages
	// (XEP-0203), RFC 3339 in UTC; empty for live messages.
	Stamp string `json:"stamp,omitempty"`
	// Thread is the conversation thread (RFC 6121 section 5.2.5).
	Thread string `json:"thread,omitempty"`
	// Sent is true for a message the user sent from another tab or client
	// (reflected through XEP-0280 carbons or the gateway's own echo).
	Sent bool `json:"sent,omitempty"`
	// Replace, when set, is the id of the earlier message of the same
	// sender that this one corrects (XEP-0308): show Body in its place.
	Replace string `json:"replace,omitempty"`
	// Retract, when set, is the id of the earlier message of the same
	// sender that this one withdraws (XEP-0424); Body is then empty (the
	// fallback text for clients without retraction is not passed on).
	Retract string `json:"retract,omitempty"`
	// ReplyTo, when set, is the id of the message this one answers
	// (XEP-0461).
	ReplyTo string `json:"replyTo,omitempty"`
	// File, when set, is the file the message links to (XEP-0066); Body
	// then holds its URL too.
	File *File `json:"file,omitempty"`
}

// EventName returns "chatapi.chat".
func (Chat) EventName() string { return EventChat }

// TypeChatState is ChatState.Type.
const TypeChatState = "chatstate"

// Chat states (XEP-0085), the values of ChatState.State.
const (
	StateActive    = "active"
	StateComposing = "composing"
	StatePaused    = "paused"
	StateInactive  = "inactive"
	StateGone      = "gone"
)

// ChatState is the chat-state form of chatapi.chat: a message carrying an
// XEP-0085 chat state, sent as its own event (in addition to the Chat event
// when the message also has a body).
//
// The reference sets Type to the message type; sparkgate sets it to
// "chatstate" so that a client that renders every chatapi.chat of type
// "chat" as a message does not show an empty bubble. Clients written for the
// reference keep working because they key on State being present.
type ChatState struct {
	Type  string `json:"type"`
	To    string `json:"to"`
	From  string `json:"from"`
	State string `json:"state"`

	// Thread is the conversation thread, when the message names one.
	Thread string `json:"thread,omitempty"`
	// Room is true for an occupant's state in a room (it came as
	// groupchat, from room/nick); a private conversation's state from
	// room/nick has it false.
	Room bool `json:"room,omitempty"`
}

// EventName returns "chatapi.chat".
func (ChatState) EventName() string { return EventChat }
