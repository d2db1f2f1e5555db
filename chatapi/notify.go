package chatapi

import "encoding/json"

// TypeNotify is Notify.Type.
const TypeNotify = "notify"

// Notify is chatapi.notify: a message without a body that carries a "data"
// property, emitted by the reference though not in its documentation. Data
// is the raw JSON of the property (JSON null when absent) and must be valid
// JSON.
type Notify struct {
	Type string          `json:"type"`
	To   string          `json:"to"`
	From string          `json:"from"`
	Data json.RawMessage `json:"data"`
}

// EventName returns "chatapi.notify".
func (Notify) EventName() string { return EventNotify }
