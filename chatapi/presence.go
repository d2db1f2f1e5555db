package chatapi

// TypePresence is Presence.Type.
const TypePresence = "presence"

// Presence types (RFC 6121 section 4.7.1), the values of
// Presence.PresenceType. An available presence has no type attribute in XMPP;
// sparkgate names it.
const (
	PresenceAvailable    = "available"
	PresenceUnavailable  = "unavailable"
	PresenceSubscribe    = "subscribe"
	PresenceSubscribed   = "subscribed"
	PresenceUnsubscribe  = "unsubscribe"
	PresenceUnsubscribed = "unsubscribed"
	PresenceProbe        = "probe"
	PresenceError        = "error"
)

// Presence is chatapi.presence, "presence broadcasts": any presence stanza,
// from contacts and from room occupants alike.
//
// The catalogue's fields are Type (always "presence"), To, From (the full
// JID), Status and Show (RFC 6121: "away", "chat", "dnd", "xa", or
// "available" when there is no show element, as in the reference).
//
// PresenceType and Priority are additions: the reference dropped the presence
// type, so an unavailable presence looked like an available one. Nick, Role,
// Affiliation and JID describe a room occupant (XEP-0045 muc#user item) and
// are empty for contacts.
type Presence struct {
	Type   string `json:"type"`
	To     string `json:"to"`
	From   string `json:"from"`
	Status string `json:"status"`
	Show   string `json:"show"`

	// PresenceType is the presence type: one of the Presence* constants.
	PresenceType string `json:"presenceType"`
	// Priority is the resource priority (-128..127).
	Priority int `json:"priority"`

	// Room occupant details (XEP-0045), empty outside rooms.
	Nick        string `json:"nick,omitempty"`
	Role        string `json:"role,omitempty"`
	Affiliation string `json:"affiliation,omitempty"`
	JID         string `json:"jid,omitempty"`

	// Codes are the room's status codes (XEP-0045 section 15.6.2) on an
	// occupant's presence, sparkgate addition: "110" the user's own
	// occupant, "307" kicked, "301" banned, "321" removed as no longer a
	// member, "201" the room was created. Reason is the reason the room
	// gave (a kick's, a ban's or the destruction's).
	Codes  []string `json:"codes,omitempty"`
	Reason string   `json:"reason,omitempty"`
	// Destroyed is true when the room was destroyed (XEP-0045 section
	// 10.9); Alternate is then the room its owner named instead, if any.
	Destroyed bool   `json:"destroyed,omitempty"`
	Alternate string `json:"alternate,omitempty"`
}

// EventName returns "chatapi.presence".
func (Presence) EventName() string { return EventPresence }
