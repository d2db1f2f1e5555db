package gateway

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/auth"
)

// vcardTimeout bounds the look-up of the user's name and email for a
// meeting token; without an answer the token names the user by username.
const vcardTimeout = 3 * time.Second

// GetMeetingURL serves GET /meet/{service}/{id}: the URL of the Jitsi room
// or Galene group id on the configured server, with a signed token when
// the service has a secret.
func (s *Server) GetMeetingURL(c echo.Context, service GetMeetingURLParamsService, id string) error {
	if id == "" || id == "." || id == ".." || strings.ContainsAny(id, "/\\?#%&<>\"' ") {
		return errorf(http.StatusBadRequest, "the meeting id may not contain / \\ ? # % & < > quotes or spaces")
	}
	m := s.collab.meet
	user := claimsOf(c).Subject
	switch service {
	case Jitsi:
		if m.JitsiURL == "" {
			return errorf(http.StatusNotImplemented, "no Jitsi server is configured")
		}
		u := m.JitsiURL + "/" + url.PathEscape(id)
		if m.JitsiAppID != "" && len(m.JitsiSecret) > 0 {
			name, email := s.profile(c, user)
			// Jitsi compares room names in lower case.
			tok, err := auth.JitsiToken(m.JitsiAppID, m.JitsiSecret, strings.ToLower(id), name, email, m.TokenTTL, time.Now())
			if err != nil {
				return wrap(http.StatusInternalServerError, "could not sign the meeting token", err)
			}
			u += "?jwt=" + url.QueryEscape(tok)
		}
		return c.JSON(http.StatusOK, OnlineMeetingEntity{Url: u})
	case Galene:
		if m.GaleneURL == "" {
			return errorf(http.StatusNotImplemented, "no Galene server is configured")
		}
		group := m.GaleneURL + "/group/" + url.PathEscape(id) + "/"
		u := group
		if len(m.GaleneSecret) > 0 {
			local := localPart(user)
			tok, err := auth.GaleneToken(m.GaleneSecret, m.GaleneKeyID, m.Issuer, group, local, m.GalenePermissions, m.TokenTTL, time.Now())
			if err != nil {
				return wrap(http.StatusInternalServerError, "could not sign the meeting token", err)
			}
			u += "?token=" + url.QueryEscape(tok)
		}
		return c.JSON(http.StatusOK, OnlineMeetingEntity{Url: u})
	}
	return errorf(http.StatusBadRequest, "the meeting service must be jitsi or galene")
}

// profile returns the display name and email address of the user (a bare
// JID) from their vCard, best effort: the username and "" when the vCard
// cannot be read in time.
func (s *Server) profile(c echo.Context, user string) (name, email string) {
	name = localPart(user)
	sess, err := s.session(c)
	if err != nil {
		return name, ""
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), vcardTimeout)
	defer cancel()
	v, err := sess.VCard(ctx, user)
	if err != nil {
		s.log.Debug("vcard for a meeting token", "user", user, "err", err)
		return name, ""
	}
	switch {
	case strings.TrimSpace(v.FN) != "":
		name = strings.TrimSpace(v.FN)
	case strings.TrimSpace(v.Nickname) != "":
		name = strings.TrimSpace(v.Nickname)
	}
	return name, strings.TrimSpace(v.Email())
}
