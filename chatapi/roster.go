package chatapi

// Roster is chatapi.roster, a sparkgate addition: one item of the user's
// roster changed on the server (an RFC 6121 section 2.1.6 roster push),
// whether through the API, another client of the account, or a
// subscription the contact answered. Clients update their contact list
// from it without reading XML.
//
// JID is the contact's bare JID. Subscription is "none", "to", "from" or
// "both" (RFC 6121 section 2.1.2.5); Ask is "subscribe" while the user's
// own subscription request waits for the contact's answer. Groups is never
// null. Removed is true when the item left the roster (the push said
// subscription="remove"); Subscription is then "remove" too, and the other
// fields may be empty.
type Roster struct {
	JID          string   `json:"jid"`
	Name         string   `json:"name"`
	Subscription string   `json:"subscription"`
	Ask          string   `json:"ask,omitempty"`
	Groups       []string `json:"groups"`
	Removed      bool     `json:"removed"`
}

// EventName returns "chatapi.roster".
func (Roster) EventName() string { return EventRoster }
