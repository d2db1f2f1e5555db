package chatapi

// Values of Receipt.Type.
const (
	TypeReceived  = "received"
	TypeDisplayed = "displayed"
)

// Receipt is chatapi.receipt, a sparkgate addition: a delivery receipt
// (XEP-0184, Type "received") or a displayed marker (XEP-0333, Type
// "displayed") for the message whose id attribute is ID.
type Receipt struct {
	Type string `json:"type"`
	To   string `json:"to"`
	From string `json:"from"`
	ID   string `json:"id"`
}

// EventName returns "chatapi.receipt".
func (Receipt) EventName() string { return EventReceipt }
