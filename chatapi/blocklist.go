package chatapi

// Blocklist actions.
const (
	BlocklistBlock   = "block"
	BlocklistUnblock = "unblock"
)

// Blocklist is chatapi.blocklist, a sparkgate addition: the user's
// blocklist changed on the server (a XEP-0191 block or unblock push),
// through the API on any tab or device, or through another client of the
// account. Action is "block" or "unblock"; JIDs are the addresses added
// to or taken off the list, never null. An unblock with no JIDs took
// everyone off the list (XEP-0191 section 3.5).
type Blocklist struct {
	Action string   `json:"action"`
	JIDs   []string `json:"jids"`
}

// EventName returns "chatapi.blocklist".
func (Blocklist) EventName() string { return EventBlocklist }
