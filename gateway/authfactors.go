package gateway

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/auth"
)

// Changing an account's factors (issue 24, item 2). Adding a credential
// (a passkey, a TOTP authenticator) or removing the TOTP second factor is
// an authenticated request of the user's own, from a login that passed
// every factor the account has now (mayChangeFactors), with the password
// again (recheckPassword): someone who knows the password alone cannot
// add a factor of their own and lock the owner out, and a stolen token
// alone cannot add a credential that outlives it.

// mayChangeFactors checks that the request's token may change jid's
// factors (what names the change in the refusal, e.g. "add a passkey"):
// it is jid's own token, and its login passed every factor the account
// has now (factorsCovered). Both refusals are 403: the token is valid, it
// is just not enough.
func (s *Server) mayChangeFactors(c echo.Context, jid, what string) error {
	cl := claimsOf(c)
	if cl.Subject != jid {
		return errorf(http.StatusForbidden, "the token is another user's: only the account's owner may "+what)
	}
	totpOn := false
	if t := s.authx.totp; t != nil {
		on, err := t.Enabled(c.Request().Context(), jid)
		if err != nil {
			return err
		}
		totpOn = on
	}
	hasPasskey := false
	if p := s.authx.passkeys; p != nil && cl.Method == auth.MethodPassword {
		keys, err := p.List(c.Request().Context(), jid)
		if err != nil {
			return err
		}
		hasPasskey = len(keys) > 0
	}
	if !factorsCovered(cl.Method, totpOn, hasPasskey) {
		s.log.Info("factor change refused: the token lacks a factor", "user", jid, "method", cl.Method, "change", what)
		return errorf(http.StatusForbidden, "sign in again with a passkey, or with the password and the TOTP code, to "+what)
	}
	return nil
}

// factorsCovered reports whether a token issued for a login by method
// passed every factor of an account that has, or has not, an active TOTP
// secret and a passkey. A TOTP login passed the password (or the ticket of
// one) and the code; a passkey login stands for every factor, as it logs
// in alone. A password login covers only an account with neither: a token
// issued before TOTP was switched on never saw a code, and on an account
// with a passkey, someone who knows the password alone must not add a
// TOTP authenticator the owner (who signs in with the passkey) cannot
// remove.
func factorsCovered(method string, totpActive, hasPasskey bool) bool {
	switch method {
	case auth.MethodTOTP, auth.MethodWebAuthn:
		return true
	case auth.MethodPassword:
		return !totpActive && !hasPasskey
	}
	return false
}

// changeFactors is what every change of jid's factors checks first:
// mayChangeFactors, then the password in the body (recheckPassword).
func (s *Server) changeFactors(c echo.Context, jid, what string) error {
	if err := s.mayChangeFactors(c, jid, what); err != nil {
		return err
	}
	local, _, _ := cutJID(jid)
	return s.recheckPassword(c, local)
}

// recheckPassword reads the password in the body of a request that
// already carries the user's token and checks it. A wrong password counts
// as a failed login but is 403, not 401: a 401 would tell the client its
// token is bad, and it is not.
func (s *Server) recheckPassword(c echo.Context, local string) error {
	err := s.readPassword(c, local, auth.MethodPassword)
	var e *Error
	if errors.As(err, &e) && e.Status == http.StatusUnauthorized {
		return errorf(http.StatusForbidden, "wrong password")
	}
	return err
}
