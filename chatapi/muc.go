package chatapi

import "encoding/json"

// Values of the Type field of chatapi.muc events.
const (
	TypeGroupchat          = "groupchat"
	TypeInvitationReceived = "invitationReceived"
)

// GroupChat is chatapi.muc, "multi-user groupchat messages": a groupchat
// message with a body (XEP-0045). From is room@service/nick.
//
// The catalogue's fields are Type ("groupchat"), To, From, Data (JSON null
// when absent) and Body. ID, StanzaID, Stamp and Subject are additions; Stamp
// is set for room history replayed on join, which the reference could not
// tell apart from live messages.
type GroupChat struct {
	Type string          `json:"type"`
	To   string          `json:"to"`
	From string          `json:"from"`
	Data json.RawMessage `json:"data"`
	Body string          `json:"body"`

	// ID is the message's own id attribute.
	ID string `json:"id,omitempty"`
	// StanzaID is the archive id assigned by the room (XEP-0359 stanza-id
	// with by= the room), the id a room MAM query pages by.
	StanzaID string `json:"stanzaId,omitempty"`
	// Stamp is the original send time of delayed or archived messages
	// (XEP-0203), RFC 3339 in UTC; empty for live messages.
	Stamp string `json:"stamp,omitempty"`
	// Subject is the room's new subject when the message sets it (XEP-0045
	// section 8.1), "" when it clears it; absent (nil) otherwise.
	Subject *string `json:"subject,omitempty"`
	// File, when set, is the file the message links to (XEP-0066).
	File *File `json:"file,omitempty"`
	// Replace, when set, is the id of the sender's earlier message in the
	// room that this one corrects (XEP-0308): show Body in its place.
	Replace string `json:"replace,omitempty"`
	// Retract, when set, is the id of the sender's earlier message in the
	// room that this one withdraws (XEP-0424); Body is then empty.
	Retract string `json:"retract,omitempty"`
	// ReplyTo, when set, is the id of the message this one answers
	// (XEP-0461; in a room, the room's stanza-id of it).
	ReplyTo string `json:"replyTo,omitempty"`
}

// EventName returns "chatapi.muc".
func (GroupChat) EventName() string { return EventMUC }

// Invitation is the invitation form of chatapi.muc: an invitation to a room,
// either mediated by the room (XEP-0045 section 7.8.2) or direct (XEP-0249).
//
// The catalogue's fields are Type ("invitationReceived"), Password, Room
// (the room JID), Inviter, To, From, URL (a meeting link for the room) and
// Reason. All are always present, empty when unknown (the reference wrote the
// string "null" for a missing reason; sparkgate writes "").
type Invitation struct {
	Type     string `json:"type"`
	Password string `json:"password"`
	Room     string `json:"room"`
	Inviter  string `json:"inviter"`
	To       string `json:"to"`
	From     string `json:"from"`
	URL      string `json:"url"`
	Reason   string `json:"reason"`

	// Direct is true for an XEP-0249 direct invitation, false for a
	// mediated one.
	Direct bool `json:"direct,omitempty"`
	// Stamp, set on an invitation delivered late (XEP-0203: from offline
	// storage or the archive), is when it was sent (RFC 3339); such a
	// one is history, not news, and pushes nothing.
	Stamp string `json:"stamp,omitempty"`
}

// EventName returns "chatapi.muc".
func (Invitation) EventName() string { return EventMUC }

// TypeOccupants is the Type of the occupant-list form of chatapi.muc.
const TypeOccupants = "occupants"

// Occupants is the occupant-list form of chatapi.muc, a sparkgate
// addition: on entering a room, one event lists everyone already in it,
// instead of one chatapi.presence per occupant (a room of a thousand
// would fill the user's event log). Later arrivals and departures are
// chatapi.presence events as before, and the user's own presence in the
// room follows this event.
type Occupants struct {
	Type string `json:"type"` // "occupants"
	To   string `json:"to"`
	// Room is the room's bare JID.
	Room string `json:"room"`
	// Occupants are the occupants' presences (nick, role, affiliation,
	// jid when the room shows it), the user's own included, by from.
	Occupants []Presence `json:"occupants"`
}

// EventName returns "chatapi.muc".
func (Occupants) EventName() string { return EventMUC }
