package chatapi

// Properties tells every tab and device of the user which of their stored
// properties changed (POST /config/properties), so that a client keeping
// its settings there (the web client's pinned conversations) reads them
// again: Names are the changed properties' names, sorted. The values are
// not sent: they may be large, and GET /config/properties has them.
type Properties struct {
	Names []string `json:"names"`
}

// EventName returns "chatapi.properties".
func (Properties) EventName() string { return EventProperties }
