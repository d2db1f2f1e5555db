package gateway

import (
	"context"
	"errors"

	"github.com/sparkgate/sparkgate/xmppadmin"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// A verb's error crosses from the owner node as a wireError: its text, the
// sentinels it matched there (by name, from wireSentinels) and the stanza
// or stream error it carried. Here it becomes an error that matches the
// same sentinels and carries the same *xmppconn.StanzaError and
// *xmppconn.StreamError, so classify gives the same status on either node.

// wireSentinels are the errors a verb's error is matched against on the
// owner, by a name that is part of the nodes' wire (rename none; add at
// will: an older node that does not know a name ignores it).
var wireSentinels = map[string]error{
	"not-here":               errNotHere,
	"not-remote":             errNotRemote,
	"deadline":               context.DeadlineExceeded,
	"canceled":               context.Canceled,
	"not-authorized":         xmppconn.ErrNotAuthorized,
	"temporary-auth":         xmppconn.ErrTemporaryAuth,
	"tls":                    xmppconn.ErrTLS,
	"network":                xmppconn.ErrNetwork,
	"protocol":               xmppconn.ErrProtocol,
	"closed":                 xmppconn.ErrClosed,
	"stream-closed":          xmppconn.ErrStreamClosed,
	"invalid-stanza":         xmppconn.ErrInvalidStanza,
	"in-band-registration":   xmppconn.ErrInBandRegistration,
	"room-full":              xmppconn.ErrRoomFull,
	"nickname-in-use":        xmppconn.ErrNicknameInUse,
	"file-not-accepted":      xmppconn.ErrFileNotAccepted,
	"no-avatar":              xmppconn.ErrNoAvatar,
	"unknown-archive-id":     xmppconn.ErrUnknownArchiveID,
	"room-option":            xmppconn.ErrRoomOptionUnsupported,
	"too-many-sessions":      xmppconn.ErrTooManySessions,
	"offline":                xmppconn.ErrOffline,
	"session-ended":          xmppconn.ErrSessionEnded,
	"admin-unavailable":      xmppadmin.ErrUnavailable,
	"admin-unsupported":      xmppadmin.ErrUnsupported,
	"admin-user-not-found":   xmppadmin.ErrUserNotFound,
	"admin-user-exists":      xmppadmin.ErrUserExists,
	"admin-invalid-user":     xmppadmin.ErrInvalidUser,
	"admin-invalid-password": xmppadmin.ErrInvalidPassword,
	"gateway-service-error":  errGatewayService,
}

// wireError is an error as it crosses between nodes.
type wireError struct {
	Text   string                `json:"text"`
	Is     []string              `json:"is,omitempty"`
	Stanza *xmppconn.StanzaError `json:"stanza,omitempty"`
	Stream *xmppconn.StreamError `json:"stream,omitempty"`
}

func encodeError(err error) *wireError {
	w := &wireError{Text: err.Error()}
	for name, s := range wireSentinels {
		if errors.Is(err, s) {
			w.Is = append(w.Is, name)
		}
	}
	var se *xmppconn.StanzaError
	if errors.As(err, &se) {
		w.Stanza = se
	}
	var st *xmppconn.StreamError
	if errors.As(err, &st) {
		w.Stream = st
	}
	return w
}

// remoteError is a wireError received: its text, and the errors it
// matches.
type remoteError struct {
	text string
	errs []error
}

func (e *remoteError) Error() string   { return e.text }
func (e *remoteError) Unwrap() []error { return e.errs }

func (w *wireError) err() error {
	e := &remoteError{text: w.Text}
	for _, name := range w.Is {
		if s, ok := wireSentinels[name]; ok {
			e.errs = append(e.errs, s)
		}
	}
	if w.Stanza != nil {
		e.errs = append(e.errs, w.Stanza)
	}
	if w.Stream != nil {
		e.errs = append(e.errs, w.Stream)
	}
	return e
}
