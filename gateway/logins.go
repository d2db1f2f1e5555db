package gateway

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/chatapi"
)

// Signed-in devices. Every login starts a refresh token family
// (refresh.go), and a family is what a user knows as a device that is
// signed in: GET /logins lists them (auth.Refresh.Logins), DELETE
// /logins/{id} signs one out and leaves the others, which is what a user
// who lost a phone or left a shared computer signed in needs, short of
// signing out everywhere. The device's label is its User-Agent at the
// login, as the user would recognise it.

// errNoRefresh answers the operations that need refresh tokens on a
// gateway that issues none.
func errNoRefresh() error {
	return errorf(http.StatusNotImplemented, "this gateway issues no refresh tokens")
}

// ListLogins serves GET /logins.
func (s *Server) ListLogins(c echo.Context) error {
	if s.refresh == nil {
		return errNoRefresh()
	}
	cl := claimsOf(c)
	ls, err := s.refresh.Logins(c.Request().Context(), cl.Subject)
	if err != nil {
		return err
	}
	out := Logins{Logins: make([]Login, 0, len(ls))}
	for _, l := range ls {
		e := Login{Id: l.Family, Method: LoginMethod(l.Method), Remember: l.Remember, StartedAt: l.StartedAt,
			LastUsedAt: l.LastUsedAt, ExpiresAt: l.ExpiresAt, Current: l.Family == cl.Family}
		if l.Device != "" {
			e.Device = &l.Device
		}
		out.Logins = append(out.Logins, e)
	}
	return c.JSON(http.StatusOK, out)
}

// DeleteLogin serves DELETE /logins/{loginId}. It runs to the end even if
// the client leaves: a revoked family whose streams and push
// subscriptions stayed would be half signed out.
func (s *Server) DeleteLogin(c echo.Context, loginID string) error {
	if s.refresh == nil {
		return errNoRefresh()
	}
	cl := claimsOf(c)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), purgeTimeout)
	defer cancel()
	l, err := s.refresh.EndLogin(ctx, cl.Subject, loginID)
	if errors.Is(err, auth.ErrNotFound) {
		return wrap(http.StatusNotFound, "no signed-in device with this id", err)
	}
	if err != nil {
		return err
	}
	// Its streams end and its key leaves the XMPP session (which closes
	// if it was the last login), on whichever node holds them.
	s.endLogin(ctx, cl.Subject, loginID, familyKey(loginID), chatapi.CloseLogout)
	if st := s.cfg.Push.Store; st != nil {
		n, err := st.DeleteLoginPushSubscriptions(ctx, cl.Subject, loginID)
		if err != nil {
			s.log.Error("forget a signed-out device's push subscriptions", "user", cl.Subject, "err", err)
		} else if n > 0 {
			s.updatePushApp(ctx, cl.Subject)
		}
	}
	s.log.Info("device signed out", "user", cl.Subject, "method", l.Method, "current", loginID == cl.Family)
	return c.NoContent(http.StatusOK)
}
