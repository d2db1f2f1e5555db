package chatapi

// XMPP is chatapi.xmpp, "raw xmpp messages": every inbound stanza, with the
// XML "encoded as a base64 string" (standard encoding with padding, which is
// how encoding/json writes a []byte).
type XMPP struct {
	XMPP []byte `json:"xmpp"`
}

// EventName returns "chatapi.xmpp".
func (XMPP) EventName() string { return EventXMPP }
