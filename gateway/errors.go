package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/xmppadmin"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// Codes are the stable, machine-readable values of the error body's code
// field. They are part of the contract (openapi.yaml, schema Error).
const (
	codeBadRequest      = "bad_request"
	codeUnauthorized    = "unauthorized"
	codeMFARequired     = "mfa_required"
	codeForbidden       = "forbidden"
	codeNotFound        = "not_found"
	codeMethod          = "method_not_allowed"
	codeConflict        = "conflict"
	codeTooLarge        = "payload_too_large"
	codeUnsupported     = "unsupported_media_type"
	codeRateLimited     = "rate_limited"
	codeNotImplemented  = "not_implemented"
	codeXMPPUnavailable = "xmpp_unavailable"
	codeTimeout         = "timeout"
	codeStoreFull       = "store_full"
	codeInternal        = "internal"
)

// apiError is the JSON body of every error response. Resource, Message and
// Exception keep the field names of the SparkWeb reference's ErrorResponse
// so existing clients can read them; Code and Status are sparkgate's.
type apiError struct {
	Status    int    `json:"status"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	Resource  string `json:"resource,omitempty"`
	Exception string `json:"exception,omitempty"`
	// MFARequired and Ticket are set only with code mfa_required.
	MFARequired string `json:"mfaRequired,omitempty"`
	Ticket      string `json:"ticket,omitempty"`
}

// Error is an error a handler returns to choose the response: Status and
// Message are what the client sees, Err is what the log sees.
type Error struct {
	Status  int
	Code    string
	Message string
	Err     error
	// MFARequired names the second factor a login needs (code
	// mfa_required) and Ticket is the ticket that continues it.
	MFARequired string
	Ticket      string
	// RetryAfter, when positive, is sent as the Retry-After header.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// errorf builds an *Error with the code that belongs to status.
func errorf(status int, msg string) *Error {
	return &Error{Status: status, Code: codeFor(status), Message: msg}
}

func codeFor(status int) string {
	switch status {
	case http.StatusBadRequest:
		return codeBadRequest
	case http.StatusUnauthorized:
		return codeUnauthorized
	case http.StatusForbidden:
		return codeForbidden
	case http.StatusNotFound:
		return codeNotFound
	case http.StatusMethodNotAllowed:
		return codeMethod
	case http.StatusConflict:
		return codeConflict
	case http.StatusRequestEntityTooLarge:
		return codeTooLarge
	case http.StatusUnsupportedMediaType:
		return codeUnsupported
	case http.StatusTooManyRequests:
		return codeRateLimited
	case http.StatusNotImplemented:
		return codeNotImplemented
	case http.StatusBadGateway, http.StatusServiceUnavailable:
		return codeXMPPUnavailable
	case http.StatusGatewayTimeout:
		return codeTimeout
	case http.StatusInsufficientStorage:
		return codeStoreFull
	}
	if status >= 500 {
		return codeInternal
	}
	return codeBadRequest
}

// classify turns any error a handler or middleware returned into the
// response the client gets. It is the one place where errors become HTTP
// statuses; packages add their sentinels here as they land.
func classify(err error) *Error {
	var e *Error
	var he *echo.HTTPError
	switch {
	case errors.As(err, &e):
		if e.Code == "" {
			e.Code = codeFor(e.Status)
		}
		return e
	case errors.As(err, &he):
		msg := http.StatusText(he.Code)
		if s, ok := he.Message.(string); ok && s != "" {
			msg = s
		}
		if he.Code >= 500 {
			// Never show a client the text of an internal failure.
			msg = http.StatusText(he.Code)
		}
		return &Error{Status: he.Code, Code: codeFor(he.Code), Message: msg, Err: err}
	case isStorageFull(err):
		return wrap(http.StatusInsufficientStorage, "the gateway's storage is full: nothing was saved, try again later", err)
	case errors.Is(err, auth.ErrInvalidToken), errors.Is(err, auth.ErrExpired), errors.Is(err, auth.ErrRevoked):
		return wrap(http.StatusUnauthorized, "missing, invalid, expired or revoked token", err)
	case errors.Is(err, xmppadmin.ErrUnsupported):
		return wrap(http.StatusNotImplemented, "the XMPP server cannot issue login tokens (needed for TOTP and passkey sessions)", err)
	case errors.Is(err, xmppconn.ErrNotAuthorized):
		return wrap(http.StatusUnauthorized, "the XMPP server refused the credentials", err)
	case errors.Is(err, xmppconn.ErrTooManySessions):
		return wrap(http.StatusServiceUnavailable, "the gateway holds as many sessions as it may", err)
	case errors.Is(err, errGatewayService) && errors.Is(err, xmppconn.ErrRemoteServerNotFound):
		return wrap(http.StatusBadGateway, "the XMPP service the gateway is set up to use does not exist", err)
	// What a stanza error means for one verb (xmppconn says which).
	case errors.Is(err, xmppconn.ErrRoomFull):
		return wrap(http.StatusForbidden, "the room is full", err)
	case errors.Is(err, xmppconn.ErrNicknameInUse):
		return wrap(http.StatusConflict, "the nickname is in use in the room", err)
	case errors.Is(err, xmppconn.ErrFileNotAccepted):
		return wrap(http.StatusRequestEntityTooLarge, "the upload service does not accept this file", err)
	case errors.Is(err, xmppconn.ErrNoAvatar):
		return wrap(http.StatusNotFound, "the contact shows no avatar", err)
	case errors.Is(err, xmppconn.ErrRoomOptionUnsupported):
		// The text names the fields; a room being created was destroyed
		// again.
		msg := err.Error()
		if i := strings.Index(msg, "the room's configuration form"); i >= 0 {
			msg = msg[i:]
		}
		return wrap(http.StatusBadRequest, msg+" (this XMPP server's rooms do not offer the option; nothing was changed)", err)
	case errors.Is(err, xmppconn.ErrUnknownArchiveID):
		return wrap(http.StatusBadRequest, "no message with this archive id", err)
	case errors.Is(err, xmppconn.ErrInvalidStanza):
		// The text says what is wrong with what the client sent.
		msg := err.Error()
		if i := strings.Index(msg, "invalid stanza"); i >= 0 {
			msg = msg[i:]
		}
		return wrap(http.StatusBadRequest, msg, err)
	case errors.Is(err, xmppconn.ErrInBandRegistration):
		// Account changes go through the gateway, which keeps its own
		// state of the account in step (lifecycle.go).
		return wrap(http.StatusForbidden, "in-band registration (jabber:iq:register) is not allowed here: "+
			"change the password with PUT /user, remove the account with DELETE /user", err)
	// The XMPP server cannot be reached, or the user's connection to it is
	// being re-established.
	case errors.Is(err, xmppconn.ErrOffline), errors.Is(err, xmppconn.ErrNetwork), errors.Is(err, xmppconn.ErrClosed),
		errors.Is(err, xmppconn.ErrStreamClosed), errors.Is(err, xmppconn.ErrTLS), errors.Is(err, xmppconn.ErrTemporaryAuth),
		errors.Is(err, xmppconn.ErrProtocol), errors.Is(err, xmppconn.ErrSessionEnded), errors.Is(err, xmppadmin.ErrUnavailable):
		return wrap(http.StatusBadGateway, "the XMPP server cannot be reached", err)
	case errors.Is(err, xmppadmin.ErrUserExists):
		return wrap(http.StatusConflict, "the user exists", err)
	case errors.Is(err, xmppadmin.ErrUserNotFound):
		return wrap(http.StatusNotFound, "no such user", err)
	case errors.Is(err, xmppadmin.ErrInvalidUser):
		return wrap(http.StatusBadRequest, "invalid user name", err)
	case errors.Is(err, xmppadmin.ErrInvalidPassword):
		return wrap(http.StatusBadRequest, "the XMPP server cannot take this password (no line breaks)", err)
	case errors.Is(err, context.DeadlineExceeded):
		return wrap(http.StatusGatewayTimeout, "the XMPP server did not answer in time", err)
	case errors.Is(err, context.Canceled):
		// The client left; nobody reads this answer.
		return wrap(499, "the client closed the request", err)
	}
	var se *xmppconn.StreamError
	if errors.As(err, &se) {
		return wrap(http.StatusBadGateway, "the XMPP server ended the connection", err)
	}
	var ste *xmppconn.StanzaError
	if errors.As(err, &ste) {
		return stanzaStatus(ste, err)
	}
	return &Error{Status: http.StatusInternalServerError, Code: codeInternal, Message: "internal error", Err: err}
}

// errGatewayService marks an error from a service the gateway chose (its
// configured pubsub service, the upload service), not the client: when
// that service does not exist, the gateway is set up wrong, which is
// 502, not the client's 404.
var errGatewayService = errors.New("gateway: from a service the gateway chose")

// ofGatewayService marks err with errGatewayService; nil stays nil.
func ofGatewayService(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %w", errGatewayService, err)
}

// stanzaStatuses are the statuses of the stanza error conditions (RFC
// 6120 section 8.3.3, and RFC 3920's payment-required): the XMPP server's
// answer, never the gateway's failure. A condition means the same for
// every operation; where one verb gives a condition a meaning of its own,
// xmppconn returns a sentinel of its own (ErrRoomFull and the like,
// above). not-authorized is 403, never 401: the token is good, and a
// client must not sign out.
var stanzaStatuses = map[string]struct {
	status int
	msg    string
}{
	"bad-request":             {http.StatusBadRequest, "the XMPP server refused the request as malformed"},
	"jid-malformed":           {http.StatusBadRequest, "the XMPP server refused the address as malformed"},
	"not-acceptable":          {http.StatusBadRequest, "the XMPP server does not accept the request as it is"},
	"unexpected-request":      {http.StatusBadRequest, "the XMPP server did not expect this request now"},
	"forbidden":               {http.StatusForbidden, "the XMPP server does not allow this"},
	"not-authorized":          {http.StatusForbidden, "the XMPP server does not allow this"},
	"not-allowed":             {http.StatusForbidden, "the XMPP server allows this to nobody"},
	"policy-violation":        {http.StatusForbidden, "the XMPP server's policy does not allow this"},
	"registration-required":   {http.StatusForbidden, "the XMPP service needs the user registered (a member) first"},
	"subscription-required":   {http.StatusForbidden, "the XMPP service needs a subscription first"},
	"payment-required":        {http.StatusForbidden, "the XMPP service needs a payment first"},
	"item-not-found":          {http.StatusNotFound, "not found"},
	"gone":                    {http.StatusNotFound, "the address is gone"},
	"recipient-unavailable":   {http.StatusNotFound, "the recipient is not available"},
	"remote-server-not-found": {http.StatusNotFound, "no such XMPP server or service"},
	"conflict":                {http.StatusConflict, "conflict"},
	"resource-constraint":     {http.StatusServiceUnavailable, "the XMPP server is out of resources for this: try again later"},
	"remote-server-timeout":   {http.StatusGatewayTimeout, "a remote XMPP server did not answer in time"},
	"service-unavailable":     {http.StatusBadGateway, "the XMPP server does not offer this service"},
	"feature-not-implemented": {http.StatusBadGateway, "the XMPP server does not offer this service"},
	"internal-server-error":   {http.StatusBadGateway, "the XMPP server failed"},
	"redirect":                {http.StatusBadGateway, "the XMPP server redirects the request elsewhere"},
	"undefined-condition":     {http.StatusBadGateway, "the XMPP server refused the request"},
}

// stanzaStatus is the response to the stanza error se, which err carries.
// A condition outside the table is 502.
func stanzaStatus(se *xmppconn.StanzaError, err error) *Error {
	st, ok := stanzaStatuses[se.Condition]
	if !ok {
		st = stanzaStatuses["undefined-condition"]
	}
	return wrap(st.status, st.msg+" ("+se.Condition+")", err)
}

// isStorageFull reports whether err says the gateway's own storage is full
// (store.ErrFull, found by its behaviour so that gateway does not import
// store): a write was refused, reads and messages still work.
func isStorageFull(err error) bool {
	var sf interface{ StorageFull() bool }
	return errors.As(err, &sf) && sf.StorageFull()
}

func wrap(status int, msg string, err error) *Error {
	return &Error{Status: status, Code: codeFor(status), Message: msg, Err: err}
}

// handleError is echo's HTTPErrorHandler: it writes the JSON error body.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	e := classify(err)
	if s.overtaken(c, err) {
		e = classify(unauthorized())
	}
	// A limit's refusals were logged, once, by limits.hit (limits.go).
	if e.RetryAfter > 0 {
		setRetryAfter(c, e.RetryAfter)
	}
	if e.Status >= 500 && e.Status != http.StatusNotImplemented && !isLimit(err) && !errors.Is(err, ErrOwnedElsewhere) {
		s.log.Error("request failed", "method", c.Request().Method, "path", c.Path(), "status", e.Status, "err", err)
	} else if e.Err != nil {
		s.log.Debug("request refused", "method", c.Request().Method, "path", c.Path(), "status", e.Status, "err", e.Err)
	}
	body := apiError{Status: e.Status, Code: e.Code, Message: e.Message, Resource: c.Request().URL.Path,
		MFARequired: e.MFARequired, Ticket: e.Ticket}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(e.Status)
		return
	}
	_ = c.JSON(e.Status, body)
}

// overtaken reports whether err is the user's XMPP session ending under
// the request because its token was revoked or expired meanwhile (a
// logout, "sign out everywhere" from another device): the client must
// sign in again (401), not hear that the XMPP server is down (502).
func (s *Server) overtaken(c echo.Context, err error) bool {
	if !errors.Is(err, xmppconn.ErrSessionEnded) && !errors.Is(err, xmppconn.ErrClosed) && !errors.Is(err, xmppconn.ErrStreamClosed) {
		return false
	}
	cl, ok := c.Get(claimsKey).(auth.Claims)
	if !ok || s.tokens == nil {
		return false
	}
	return errors.Is(s.tokens.Recheck(c.Request().Context(), cl), auth.ErrInvalidToken)
}
