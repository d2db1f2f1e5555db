package gateway

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// msgWrongCredentials is the one answer to a wrong username or password,
// so that a failed login does not tell which it was.
const msgWrongCredentials = "wrong username or password"

func errTOTPOff() error {
	return errorf(http.StatusNotImplemented, "TOTP is not enabled on this gateway")
}

// bareJID is the bare JID of a (normalized) username.
func (s *Server) bareJID(local string) string { return local + "@" + s.cfg.Domain }

// readPassword reads the password in the body of a login-like request
// and checks it with checkPassword, for operations that need the password
// before they do their own step.
func (s *Server) readPassword(c echo.Context, local, method string) error {
	password, err := readText(c.Request(), maxPassword)
	if err != nil {
		return err
	}
	return s.checkPassword(c, local, password, method)
}

// checkPassword asks the XMPP server whether password is local's, without
// opening a session. A wrong password is 401 and counts as a failed login.
func (s *Server) checkPassword(c echo.Context, local, password, method string) error {
	if password == "" {
		return errorf(http.StatusBadRequest, "the password is empty")
	}
	err := s.sessions.Verify(c.Request().Context(), local, password)
	if errors.Is(err, xmppconn.ErrNotAuthorized) {
		s.loginFailed(c, s.bareJID(local), method)
		return errorf(http.StatusUnauthorized, msgWrongCredentials)
	}
	return err
}

// mfaChallenge answers a right password of a user with active TOTP: 401
// mfa_required with a single-use ticket for the second step.
func (s *Server) mfaChallenge(c echo.Context, local, password string) error {
	if err := s.checkPassword(c, local, password, auth.MethodPassword); err != nil {
		return err
	}
	jid := s.bareJID(local)
	ticket, _, err := s.tokens.IssuePurpose(c.Request().Context(), jid, mfaPurpose, s.authx.ticketTTL)
	if err != nil {
		return err
	}
	s.log.Info("password accepted; second factor required", "user", jid, "factor", "totp")
	return &Error{
		Status:      http.StatusUnauthorized,
		Code:        codeMFARequired,
		Message:     "a second factor is required: send the TOTP code with the ticket",
		MFARequired: string(ErrorMfaRequiredTotp),
		Ticket:      ticket,
	}
}

// TotpRegister serves POST /totp/register/{username}: the signed-in
// user starts a pending TOTP enrolment. It takes the user's own token from
// a login that passed every factor (mayChangeFactors) and the password
// again (recheckPassword), as adding a passkey does: knowing the password
// must not be enough to put a second factor of one's own on the account.
// The enrolment becomes active with the first right code
// (TotpAuthenticate), which only the holder of the new secret can give.
func (s *Server) TotpRegister(c echo.Context, username Username) error {
	t := s.authx.totp
	if t == nil {
		return errTOTPOff()
	}
	_, jid, err := s.guardLogin(c, username)
	if err != nil {
		return err
	}
	if err := s.changeFactors(c, jid, "set up TOTP"); err != nil {
		return err
	}
	en, err := t.Enroll(c.Request().Context(), jid)
	if errors.Is(err, auth.ErrAlreadyEnabled) {
		return errorf(http.StatusConflict, "TOTP is already active for this user; remove it first")
	}
	if err != nil {
		return err
	}
	s.log.Info("totp enrolment started", "user", jid)
	return c.JSON(http.StatusOK, TOTPEntity{Url: en.URL, Qr: &en.QR})
}

// TotpAuthenticate serves POST /totp/authenticate/{username}/{code}: the
// code plus a login ticket or the password (or, where configured, the code
// alone) logs the user in.
func (s *Server) TotpAuthenticate(c echo.Context, username Username, code string, params TotpAuthenticateParams) error {
	t := s.authx.totp
	if t == nil {
		return errTOTPOff()
	}
	local, jid, err := s.guardLogin(c, username)
	if err != nil {
		return err
	}
	if !validCode(code) {
		return errorf(http.StatusBadRequest, "the code must be 6 to 8 digits, or a recovery code")
	}
	body, err := readText(c.Request(), maxPassword)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	ticket, err := s.firstFactor(c, local, body)
	if err != nil {
		return err
	}
	if err := t.Validate(ctx, jid, code); err != nil {
		return s.totpRefused(c, jid, err)
	}
	if ticket != nil {
		if err := s.consumeTicket(ctx, *ticket); err != nil {
			if errors.Is(err, auth.ErrRevoked) {
				s.loginFailed(c, jid, auth.MethodTOTP)
				return errorf(http.StatusUnauthorized, "the login ticket expired or was already used")
			}
			return err
		}
	}
	s.usedRecoveryCode(c, jid, code, "sign-in")
	return s.logIn(c, local, xmppconn.Credentials{Verified: true}, auth.MethodTOTP, isSet(params.Remember))
}

// firstFactor checks what the body of a TOTP login proves: a login ticket
// of this user (returned, to be consumed once the code is right), the
// password, or nothing where TOTP-only login is allowed. A ticket-shaped
// body that is not a valid ticket is tried as a password.
func (s *Server) firstFactor(c echo.Context, local, body string) (*auth.Claims, error) {
	jid := s.bareJID(local)
	switch bodyKind(body) {
	case bodyEmpty:
		if s.authx.totpOnly {
			return nil, nil
		}
		s.loginFailed(c, jid, auth.MethodTOTP)
		return nil, errorf(http.StatusUnauthorized, "the login ticket or the password is required with the code")
	case bodyTicket:
		cl, err := s.tokens.VerifyPurpose(c.Request().Context(), body, mfaPurpose)
		switch {
		case err == nil && cl.Subject == jid:
			return &cl, nil
		case errors.Is(err, auth.ErrRevoked), errors.Is(err, auth.ErrExpired):
			// Signed by us, so a ticket and not a password.
			s.loginFailed(c, jid, auth.MethodTOTP)
			return nil, errorf(http.StatusUnauthorized, "the login ticket expired or was already used")
		case err != nil && !errors.Is(err, auth.ErrInvalidToken):
			return nil, err
		}
	}
	return nil, s.checkPassword(c, local, body, auth.MethodTOTP)
}

// totpRefused turns a failed TOTP validation into the answer: 403 with
// Retry-After while the user is locked out, 401 otherwise.
func (s *Server) totpRefused(c echo.Context, jid string, err error) error {
	var le *auth.LockedError
	switch {
	case errors.As(err, &le):
		s.log.Warn("totp locked after failed codes", "user", jid, "until", le.Until.UTC(), "ip", c.RealIP())
		return s.lockedOut(c, le.Until)
	case errors.Is(err, auth.ErrInvalidCode), errors.Is(err, auth.ErrCodeUsed), errors.Is(err, auth.ErrNotEnrolled):
		s.loginFailed(c, jid, auth.MethodTOTP)
		return errorf(http.StatusUnauthorized, "wrong, expired or already used code")
	}
	return err
}

// TotpRemove serves DELETE /totp/{code}: the user's own token from a
// login that passed every factor, the password and a valid code remove
// the user's TOTP enrolment. Like an enrolment it is a change of the
// account's factors (mayChangeFactors): a token from before TOTP was
// switched on, or a stolen token with a code seen over a shoulder, must
// not switch the second factor off.
func (s *Server) TotpRemove(c echo.Context, code string) error {
	t := s.authx.totp
	if t == nil {
		return errTOTPOff()
	}
	jid := claimsOf(c).Subject
	if err := s.throttle(c, jid); err != nil {
		return err
	}
	if !validCode(code) {
		return errorf(http.StatusBadRequest, "the code must be 6 to 8 digits, or a recovery code")
	}
	if err := s.changeFactors(c, jid, "remove TOTP"); err != nil {
		return err
	}
	ctx := c.Request().Context()
	err := t.Validate(ctx, jid, code)
	var le *auth.LockedError
	switch {
	case errors.Is(err, auth.ErrNotEnrolled):
		return errorf(http.StatusNotFound, "TOTP is not set up for this user")
	case errors.As(err, &le):
		return s.lockedOut(c, le.Until)
	case errors.Is(err, auth.ErrInvalidCode), errors.Is(err, auth.ErrCodeUsed):
		return errorf(http.StatusForbidden, "wrong, expired or already used code")
	case err != nil:
		return err
	}
	s.usedRecoveryCode(c, jid, code, "turning totp off")
	if err := t.Disable(ctx, jid); err != nil {
		if errors.Is(err, auth.ErrNotEnrolled) {
			return errorf(http.StatusNotFound, "TOTP is not set up for this user")
		}
		return err
	}
	s.log.Info("totp removed", "user", jid)
	return c.NoContent(http.StatusOK)
}

// consumeTicket makes a login ticket single-use: the first call for its id
// wins within the process, and the store decides between gateways (and
// across a restart): the id is revoked there, and a second use anywhere
// is ErrRevoked.
func (s *Server) consumeTicket(ctx context.Context, cl auth.Claims) error {
	if !s.authx.tickets.use(cl.ID, cl.ExpiresAt) {
		return auth.ErrRevoked
	}
	return s.tokens.Consume(ctx, cl)
}

// validCode reports whether code looks like a TOTP code, 6 to 8 ASCII
// digits, or a recovery code (the spec's pattern, checked again here).
func validCode(code string) bool {
	if _, ok := auth.RecoveryCode(code); ok {
		return true
	}
	if len(code) < 6 || len(code) > 8 {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

type proofBody int

const (
	bodyEmpty proofBody = iota
	bodyTicket
	bodyPassword
)

// bodyKind tells what the body of a TOTP login holds: nothing, something
// shaped like a ticket (a compact JWT: three base64url parts, a JSON
// header), or a password.
func bodyKind(body string) proofBody {
	if body == "" {
		return bodyEmpty
	}
	if !strings.HasPrefix(body, "eyJ") || strings.Count(body, ".") != 2 {
		return bodyPassword
	}
	for _, part := range strings.Split(body, ".") {
		if part == "" {
			return bodyPassword
		}
		for i := 0; i < len(part); i++ {
			b := part[i]
			if !(b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '-' || b == '_') {
				return bodyPassword
			}
		}
	}
	return bodyTicket
}

// maxUsedTickets bounds the ids of used tickets kept in memory; expired
// ones are dropped first, and past the bound a ticket is refused.
const maxUsedTickets = 100_000

// usedTickets remembers the ids of login tickets already used, until they
// expire. It is safe for concurrent use.
type usedTickets struct {
	now func() time.Time

	mu  sync.Mutex
	ids map[string]time.Time
}

func newUsedTickets(now func() time.Time) *usedTickets {
	return &usedTickets{now: now, ids: make(map[string]time.Time)}
}

// use records id and reports whether it was unused.
func (u *usedTickets) use(id string, expires time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, ok := u.ids[id]; ok {
		return false
	}
	if len(u.ids) >= maxUsedTickets/2 {
		now := u.now()
		for k, exp := range u.ids {
			if !now.Before(exp) {
				delete(u.ids, k)
			}
		}
		if len(u.ids) >= maxUsedTickets {
			return false
		}
	}
	u.ids[id] = expires
	return true
}
