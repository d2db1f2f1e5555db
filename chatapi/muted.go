package chatapi

// Muted tells every tab and device of the user that a conversation was
// muted or unmuted (PUT or DELETE /chat/muted/{to}), so that each shows
// it and none notifies for it. JID is the conversation (a contact's or a
// room's bare JID, or room/nick); Until, set while muted for a time, is
// when the mute ends (RFC 3339).
type Muted struct {
	JID   string `json:"jid"`
	Muted bool   `json:"muted"`
	Until string `json:"until,omitempty"`
}

// EventName returns "chatapi.muted".
func (Muted) EventName() string { return EventMuted }

// Strangers tells every tab and device of the user that pushes from
// strangers (senders outside the user's roster) were muted or unmuted
// (PUT or DELETE /chat/strangers/muted), so that none notifies for a
// stranger's message while they are. Until, set while muted for a time,
// is when the mute ends (RFC 3339).
type Strangers struct {
	Muted bool   `json:"muted"`
	Until string `json:"until,omitempty"`
}

// EventName returns "chatapi.strangers".
func (Strangers) EventName() string { return EventStrangers }
