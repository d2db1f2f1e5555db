package chatapi

// TypeReactions is Reactions.Type.
const TypeReactions = "reactions"

// Reactions is chatapi.reaction, a sparkgate addition: the sender's whole
// set of reactions (XEP-0444) to the message whose id is ID. Each new set
// replaces the sender's previous one; an empty set withdraws them.
type Reactions struct {
	Type      string   `json:"type"`
	To        string   `json:"to"`
	From      string   `json:"from"`
	ID        string   `json:"id"`
	Reactions []string `json:"reactions"` // never null
	// Sent is true for the user's own reactions from another client.
	Sent bool `json:"sent,omitempty"`
}

// EventName returns "chatapi.reaction".
func (Reactions) EventName() string { return EventReaction }
