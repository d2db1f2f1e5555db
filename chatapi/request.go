package chatapi

// RequestDeclined is Request's Answer when the user declined.
const RequestDeclined = "declined"

// Request is chatapi.request, a sparkgate addition: the user answered a
// contact's request to see the user's presence (RFC 6121 section 3.1) on
// one tab or device, so every tab drops it from its pending requests.
// JID is the contact's bare JID; Answer is "declined" (an accepted
// request shows as the chatapi.roster event of the contact instead).
type Request struct {
	JID    string `json:"jid"`
	Answer string `json:"answer"`
}

// EventName returns "chatapi.request".
func (Request) EventName() string { return EventRequest }
