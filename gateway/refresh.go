package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/chatapi"
)

// Refresh tokens (issue 17). Every login starts a refresh token family
// (auth.Refresh): the access token carries the family's id, and
// POST /token/refresh trades the family's current refresh token for a new
// pair. The XMPP session counts a family as one login (sessionKey), so a
// refresh keeps the session and a logout of the family ends it when it
// was the user's last login. An event stream lives as long as the access
// token it was opened with: it ends with chatapi.close "expired", and the
// client reopens it with the new token and Last-Event-ID, which replays
// what it missed from the user's event log.

// maxRefreshBody bounds the body of POST /token/refresh.
const maxRefreshBody = 1024

// RefreshToken serves POST /token/refresh.
func (s *Server) RefreshToken(c echo.Context) error {
	if s.refresh == nil {
		return errorf(http.StatusNotImplemented, "this gateway issues no refresh tokens")
	}
	// Refresh tokens cannot be guessed; the client address's attempts
	// still bound how fast anyone tries.
	if ok, d := s.authx.perIP.take(s.clientAddr(c)); !ok {
		s.log.Debug("refresh rate limited", "ip", c.RealIP())
		return tooManyAttempts(c, d)
	}
	raw, err := readBody(c.Request(), maxRefreshBody)
	if err != nil {
		return err
	}
	var body RefreshRequest
	if err := json.Unmarshal(raw, &body); err != nil {
		return errorf(http.StatusBadRequest, "the body must be {\"refreshToken\": \"...\"}")
	}
	ctx := c.Request().Context()
	g, err := s.refresh.Rotate(ctx, body.RefreshToken)
	var reuse *auth.ReuseError
	switch {
	case errors.As(err, &reuse):
		s.log.Warn("refresh token reused; its family is revoked", "user", reuse.User, "ip", c.RealIP())
		s.countRefresh("reused")
		s.endLogin(ctx, reuse.User, reuse.Family, familyKey(reuse.Family), chatapi.CloseLogout)
		return errorf(http.StatusUnauthorized, msgRefreshRefused)
	case errors.Is(err, auth.ErrInvalidToken):
		s.countRefresh("refused")
		return errorf(http.StatusUnauthorized, msgRefreshRefused)
	case err != nil:
		return err
	}
	cl := g.AccessClaims
	if sess, ok := s.sessions.Get(cl.Subject); ok {
		sess.AddToken(sessionKey(cl), cl.ExpiresAt)
	}
	if g.Retried {
		// A lost answer's retry, or a replayed copy: the next refresh of
		// the pair it replaced will tell (see auth.Refresh).
		s.log.Info("refresh retried with a spent token; the unused pair it answered is spent", "user", cl.Subject, "ip", c.RealIP())
		s.countRefresh("retried")
	} else {
		s.log.Debug("token refreshed", "user", cl.Subject)
		s.countRefresh("ok")
	}
	return c.JSON(http.StatusOK, grantEntity(g))
}

// restartFamily starts a new family for the caller of a password change,
// whose families were all revoked: with the login method and the "stay
// signed in" of the caller's own family, so the open tab stays signed in
// as it was.
func (s *Server) restartFamily(ctx context.Context, sess Session, cl auth.Claims) (UserUpdateEntity, error) {
	g, err := s.refresh.Start(ctx, cl.Subject, cl.Method, cl.Remember, "")
	if err != nil {
		return UserUpdateEntity{}, err
	}
	sess.AddToken(sessionKey(g.AccessClaims), g.AccessClaims.ExpiresAt)
	// The caller's push subscriptions go with its new login, so that
	// signing that one out elsewhere (DELETE /logins/{id}) takes them.
	if st := s.cfg.Push.Store; st != nil {
		if err := st.MoveLoginPushSubscriptions(ctx, cl.Subject, cl.Family, g.AccessClaims.Family); err != nil {
			s.log.Error("move the push subscriptions to the new login", "user", cl.Subject, "err", err)
		}
	}
	return UserUpdateEntity{Token: &g.Access, RefreshToken: &g.Refresh, RefreshExpiresAt: &g.RefreshExpiry}, nil
}

// msgRefreshRefused is the message of every refused refresh.
const msgRefreshRefused = "unknown, expired, used or revoked refresh token; log in again"

// grantEntity is the answer of a login or a refresh.
func grantEntity(g auth.Grant) TokenEntity {
	return TokenEntity{
		Token:            g.Access,
		ExpiresAt:        &g.AccessClaims.ExpiresAt,
		RefreshToken:     &g.Refresh,
		RefreshExpiresAt: &g.RefreshExpiry,
		Remember:         &g.Remember,
	}
}

// sessionKey is what keeps a user's XMPP session alive for the token
// with claims cl: its refresh token family, all of whose tokens are one
// login, or else the token itself.
func sessionKey(cl auth.Claims) string {
	if cl.Family != "" {
		return familyKey(cl.Family)
	}
	return cl.ID
}

// familyKey is a family's key among the token ids of a session and of the
// stream registry (token ids are base64url: no colon).
func familyKey(family string) string { return "family:" + family }

// isSet is an optional boolean parameter, false when absent.
func isSet(b *bool) bool { return b != nil && *b }
