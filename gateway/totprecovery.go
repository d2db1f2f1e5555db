package gateway

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/auth"
)

// TOTP's state and recovery codes (auth/recovery.go). A recovery code
// goes where the authenticator's code goes (TotpAuthenticate, TotpRemove;
// validCode takes both): a person who lost the phone signs in with the
// password and a code, then turns TOTP off with another, or makes new
// codes.

// TotpStatus serves GET /totp: whether the user's TOTP is on or waiting
// for its first code, and the recovery codes left.
func (s *Server) TotpStatus(c echo.Context) error {
	t := s.authx.totp
	if t == nil {
		return errTOTPOff()
	}
	st, err := t.Status(c.Request().Context(), claimsOf(c).Subject)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, TOTPStatus{Active: st.Active, Pending: st.Pending, RecoveryCodes: st.RecoveryCodes})
}

// TotpRecoveryCodes serves POST /totp/recovery: new recovery codes,
// answered once, replacing those left. A change of the account's
// factors: the token of a login that passed every factor, and the
// password again (as TotpRegister).
func (s *Server) TotpRecoveryCodes(c echo.Context) error {
	t := s.authx.totp
	if t == nil {
		return errTOTPOff()
	}
	jid := claimsOf(c).Subject
	if err := s.throttle(c, jid); err != nil {
		return err
	}
	if err := s.changeFactors(c, jid, "make recovery codes"); err != nil {
		return err
	}
	codes, err := t.NewRecoveryCodes(c.Request().Context(), jid)
	if errors.Is(err, auth.ErrNotEnrolled) {
		return errorf(http.StatusNotFound, "TOTP is not on for this user: turn it on first")
	}
	if err != nil {
		return err
	}
	s.log.Info("totp recovery codes made", "user", jid, "count", len(codes))
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, RecoveryCodes{Codes: codes})
}

// usedRecoveryCode logs a sign-in or a removal that spent a recovery
// code, with what is left: the user's phone may be gone.
func (s *Server) usedRecoveryCode(c echo.Context, jid, code, what string) {
	if _, ok := auth.RecoveryCode(code); !ok {
		return
	}
	left := -1
	if st, err := s.authx.totp.Status(c.Request().Context(), jid); err == nil {
		left = st.RecoveryCodes
	}
	s.log.Warn("totp recovery code used", "user", jid, "for", what, "left", left, "ip", c.RealIP())
}
