package xmppconn

import (
	"errors"
	"fmt"
)

var (
	// ErrNotAuthorized is returned by Dial when the server rejects the
	// credentials: wrong password, unknown user, bad or expired token, disabled
	// account. Retrying with the same credentials will not help.
	ErrNotAuthorized = errors.New("xmppconn: not authorized")

	// ErrTemporaryAuth is returned by Dial when the server reports a temporary
	// authentication failure; a later attempt may succeed.
	ErrTemporaryAuth = errors.New("xmppconn: temporary authentication failure")

	// ErrTLS wraps every failure to set up TLS: STARTTLS required but not
	// offered, a handshake failure, an untrusted certificate, an unreadable
	// CA file.
	ErrTLS = errors.New("xmppconn: tls")

	// ErrNetwork wraps network failures (refused, reset, timed out, closed by
	// the peer). The underlying *net.OpError stays reachable with errors.As.
	ErrNetwork = errors.New("xmppconn: network")

	// ErrProtocol wraps violations of the XMPP protocol by the server: bad XML,
	// restricted XML (DTD, comments, processing instructions), limits exceeded,
	// unexpected elements during negotiation.
	ErrProtocol = errors.New("xmppconn: protocol violation")

	// ErrStanzaTooLarge is returned (wrapped in ErrProtocol) when a stanza
	// exceeds Config.MaxStanzaSize.
	ErrStanzaTooLarge = errors.New("xmppconn: stanza too large")

	// ErrClosed is returned by operations on a Conn closed by Close, and by Err
	// after a Close.
	ErrClosed = errors.New("xmppconn: connection closed")

	// ErrStreamClosed is the end reason when the server closed the stream with
	// </stream:stream> without a stream error.
	ErrStreamClosed = errors.New("xmppconn: stream closed by server")

	// ErrPingTimeout is the end reason when a keepalive ping got no answer in
	// time. It is wrapped together with ErrNetwork.
	ErrPingTimeout = errors.New("xmppconn: ping timeout")

	// ErrInvalidStanza is returned by SendStanza and Conn.SendRaw for bytes
	// that are not exactly one well-formed message, presence or iq element
	// within the limits (the text after it says why, in words a client can
	// be shown), and by the verbs for an argument they cannot send.
	ErrInvalidStanza = errors.New("xmppconn: invalid stanza")

	// ErrConfig is returned by Dial for an incomplete or contradictory Config.
	ErrConfig = errors.New("xmppconn: bad config")
)

// AuthError is the SASL failure reported by the server. It matches
// ErrNotAuthorized or ErrTemporaryAuth with errors.Is, depending on the
// condition.
type AuthError struct {
	Condition string // e.g. "not-authorized", "temporary-auth-failure"
	Text      string
}

func (e *AuthError) Error() string {
	if e.Text != "" {
		return fmt.Sprintf("xmppconn: sasl failure: %s (%s)", e.Condition, e.Text)
	}
	return "xmppconn: sasl failure: " + e.Condition
}

// Is reports whether target is ErrTemporaryAuth (for temporary-auth-failure)
// or ErrNotAuthorized (for every other condition).
func (e *AuthError) Is(target error) bool {
	if e.Condition == "temporary-auth-failure" {
		return target == ErrTemporaryAuth
	}
	return target == ErrNotAuthorized
}

// StreamError is a stream-level error sent by the server (RFC 6120 4.9), for
// example conflict when the resource was taken over, or system-shutdown.
type StreamError struct {
	Condition string
	Text      string
}

func (e *StreamError) Error() string {
	if e.Text != "" {
		return fmt.Sprintf("xmppconn: stream error: %s (%s)", e.Condition, e.Text)
	}
	return "xmppconn: stream error: " + e.Condition
}

// Is matches another *StreamError with the same condition, or with an empty
// condition (any stream error).
func (e *StreamError) Is(target error) bool {
	t, ok := target.(*StreamError)
	return ok && (t.Condition == "" || t.Condition == e.Condition)
}

// StanzaError is an XMPP stanza error (RFC 6120 8.3) carried by an IQ reply
// of type error.
type StanzaError struct {
	Type      string // cancel, continue, modify, auth, wait
	Condition string // e.g. item-not-found
	Text      string
}

func (e *StanzaError) Error() string {
	s := "xmppconn: stanza error: " + e.Condition
	if e.Type != "" {
		s += " (" + e.Type + ")"
	}
	if e.Text != "" {
		s += ": " + e.Text
	}
	return s
}

// Is matches another *StanzaError by condition; the target's Type, when set,
// must match too. An empty target condition matches any stanza error.
func (e *StanzaError) Is(target error) bool {
	t, ok := target.(*StanzaError)
	if !ok {
		return false
	}
	return (t.Condition == "" || t.Condition == e.Condition) && (t.Type == "" || t.Type == e.Type)
}

// Stanza error conditions the HTTP layer branches on with errors.Is.
var (
	ErrItemNotFound          = &StanzaError{Condition: "item-not-found"}
	ErrForbidden             = &StanzaError{Condition: "forbidden"}
	ErrStanzaNotAuthorized   = &StanzaError{Condition: "not-authorized"}
	ErrConflict              = &StanzaError{Condition: "conflict"}
	ErrBadRequest            = &StanzaError{Condition: "bad-request"}
	ErrServiceUnavailable    = &StanzaError{Condition: "service-unavailable"}
	ErrRemoteServerTimeout   = &StanzaError{Condition: "remote-server-timeout"}
	ErrRemoteServerNotFound  = &StanzaError{Condition: "remote-server-not-found"}
	ErrFeatureNotImplemented = &StanzaError{Condition: "feature-not-implemented"}
	ErrSubscriptionRequired  = &StanzaError{Condition: "subscription-required"}
)

// Errors that say what a stanza error means for one verb, where XMPP gives
// a condition a meaning of its own. Each is returned together with the
// *StanzaError (both match with errors.Is).
var (
	// ErrRoomFull: EnterRoom was refused because the room has as many
	// occupants as it takes (XEP-0045 section 7.2.10, service-unavailable).
	ErrRoomFull = errors.New("xmppconn: the room is full")

	// ErrNicknameInUse: EnterRoom was refused because another occupant
	// has the nickname (XEP-0045 section 7.2.9, conflict).
	ErrNicknameInUse = errors.New("xmppconn: the nickname is in use in the room")

	// ErrFileNotAccepted: RequestUploadSlot was refused because the
	// service will not take the file, too large or of a type it refuses
	// (XEP-0363 section 4.1, not-acceptable).
	ErrFileNotAccepted = errors.New("xmppconn: the upload service does not accept the file")

	// ErrRoomOptionUnsupported: ConfigureRoom (or EnterRoom creating a
	// room) was asked for a field the room's configuration form does
	// not offer; the text names the fields. Nothing was submitted.
	ErrRoomOptionUnsupported = errors.New("xmppconn: the room's configuration form has no field")

	// ErrUnknownArchiveID: QueryArchive was asked for the page after or
	// before an archive id the archive does not have (XEP-0313 section
	// 5.3 with XEP-0059, item-not-found).
	ErrUnknownArchiveID = errors.New("xmppconn: no message with this archive id")
)

// meaning returns err as the sentinel want when it is a *StanzaError
// with the condition cond, keeping both reachable; else err as it is.
func meaning(err error, cond string, want error) error {
	var se *StanzaError
	if errors.As(err, &se) && se.Condition == cond {
		return fmt.Errorf("%w: %w", want, err)
	}
	return err
}

// netErr wraps a network failure so that it matches ErrNetwork and still
// unwraps to the underlying error (*net.OpError and the like).
func netErr(err error) error {
	if err == nil || errors.Is(err, ErrNetwork) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrNetwork, err)
}

func protoErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrProtocol}, args...)...)
}
