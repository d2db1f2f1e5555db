package chatapi

// Connect is onConnect, the first event of every stream, as SparkWeb
// clients expect: it says the stream is up and who it belongs to.
//
// The catalogue's fields are Email, Name and Username. JID and Resumed are
// additions: Resumed is true when the client reconnected with a
// Last-Event-ID.
type Connect struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Username string `json:"username"`

	JID     string `json:"jid,omitempty"`
	Resumed bool   `json:"resumed,omitempty"`
}

// EventName returns "onConnect".
func (Connect) EventName() string { return EventConnect }

// Values of Reset.Reason.
const (
	// ResetExpired: the requested id is older than what the gateway keeps.
	ResetExpired = "expired"
	// ResetUnknown: the id does not belong to the current event log (the
	// gateway restarted, the session was closed, or the id is malformed).
	ResetUnknown = "unknown"
)

// Reset is chatapi.reset, a sparkgate addition: a stream resumed with a
// Last-Event-ID that cannot be replayed without a gap. It comes before any
// other event of the stream except onConnect, and tells the client to reload
// its state (conversations from the archive (XEP-0313), roster, presence)
// instead of trusting that it saw everything. Live events follow it.
//
// LastEventID echoes the id the client asked for, when it was well formed.
type Reset struct {
	Reason      string `json:"reason"`
	LastEventID string `json:"lastEventId,omitempty"`
}

// EventName returns "chatapi.reset".
func (Reset) EventName() string { return EventReset }

// Values of Close.Reason.
const (
	CloseSlow     = "slow"     // the stream could not keep up; resume
	CloseMaxAge   = "max-age"  // the stream reached its maximum age; resume
	CloseShutdown = "shutdown" // the gateway is shutting down; resume later
	CloseLogout   = "logout"   // the user logged out; sign in again
	CloseExpired  = "expired"  // the token expired or was revoked; sign in again
	CloseEnded    = "ended"    // the user's session ended; sign in again
)

// Close is chatapi.close, a sparkgate addition: the last event of a stream
// that the gateway ends on its own. Resume says whether the client should
// reconnect with its Last-Event-ID (true) or sign in again (false).
type Close struct {
	Reason string `json:"reason"`
	Resume bool   `json:"resume"`
}

// EventName returns "chatapi.close".
func (Close) EventName() string { return EventClose }

// Error is chatapi.error, a sparkgate addition: an error that arrived
// asynchronously, such as an error reply to a message the user sent
// (RFC 6120 section 8.3). ID is the id of the stanza that failed; Condition
// is the defined condition ("service-unavailable", …), Text the optional
// human-readable text.
type Error struct {
	Type      string `json:"type"`
	To        string `json:"to"`
	From      string `json:"from"`
	ID        string `json:"id,omitempty"`
	Condition string `json:"condition"`
	Text      string `json:"text,omitempty"`
}

// EventName returns "chatapi.error".
func (Error) EventName() string { return EventError }

// Values of Session.State.
const (
	SessionConnected    = "connected"
	SessionReconnecting = "reconnecting"
	SessionDisconnected = "disconnected"
)

// Session is chatapi.session, a sparkgate addition: the state of the user's
// XMPP connection held by the gateway. While it is "reconnecting", messages
// sent through the API may fail; after "connected" the gateway has caught
// up through the archive. Reason explains a loss.
type Session struct {
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
}

// EventName returns "chatapi.session".
func (Session) EventName() string { return EventSession }
