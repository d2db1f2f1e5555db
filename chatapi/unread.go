package chatapi

// Unread is chatapi.unread, a sparkgate addition: the read state of one
// conversation changed (a message from someone else arrived, or the user
// read it on some tab or XMPP client). Every tab of the user gets it.
type Unread struct {
	// JID is the conversation: the contact's or the room's bare JID.
	JID string `json:"jid"`
	// Room is true for a group chat.
	Room bool `json:"room"`
	// Count is the number of messages from others since the last read.
	Count int `json:"count"`
	// LastRead is the id of the message last read up to; empty when never
	// read.
	LastRead string `json:"lastRead"`
}

// EventName returns "chatapi.unread".
func (Unread) EventName() string { return EventUnread }
