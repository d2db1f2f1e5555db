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

// GetMeetingURL serves GET /meet/{service}/{id}: the URL of the meeting
// id names for the user (meetingScope) on the configured Jitsi or Galene
// server, with a signed token when the service has a secret.
//
// The meeting's name on the service is not id but a name the gateway
// derives from the meeting's scope with a key of its own
// (MeetingsConfig.Names), so that the two people of a conversation, or the
// occupants of a room, meet in the same place, and a token for a meeting
// the user is not part of cannot be had: before, any signed-in user got a
// signed token for any id, and the web client's ids (a conversation's two
// usernames, a room's name) were easy to guess.
func (s *Server) GetMeetingURL(c echo.Context, service GetMeetingURLParamsService, id string) error {
	if id == "" || id == "." || id == ".." || strings.ContainsAny(id, "/\\?#%&<>\"' ") {
		return errorf(http.StatusBadRequest, "the meeting id may not contain / \\ ? # % & < > quotes or spaces")
	}
	m := s.collab.meet
	switch service {
	case Jitsi:
		if m.JitsiURL == "" {
			return errorf(http.StatusNotImplemented, "no Jitsi server is configured")
		}
	case Galene:
		if m.GaleneURL == "" {
			return errorf(http.StatusNotImplemented, "no Galene server is configured")
		}
	default:
		return errorf(http.StatusBadRequest, "the meeting service must be jitsi or galene")
	}
	user := claimsOf(c).Subject
	scope, err := s.meetingScope(c, user, id)
	if err != nil {
		return err
	}
	name := m.Names(scope)
	if service == Jitsi {
		u := m.JitsiURL + "/" + name
		if m.JitsiAppID != "" && len(m.JitsiSecret) > 0 {
			display, email := s.profile(c, user)
			tok, err := auth.JitsiToken(m.JitsiAppID, m.JitsiSecret, name, display, email, m.TokenTTL, time.Now())
			if err != nil {
				return wrap(http.StatusInternalServerError, "could not sign the meeting token", err)
			}
			u += "?jwt=" + url.QueryEscape(tok)
		}
		return c.JSON(http.StatusOK, OnlineMeetingEntity{Url: u})
	}
	group := m.GaleneURL + "/group/" + m.GaleneGroup + "/" + name + "/"
	u := group
	if len(m.GaleneSecret) > 0 {
		tok, err := auth.GaleneToken(m.GaleneSecret, m.GaleneKeyID, m.Issuer, group, localPart(user), m.GalenePermissions, m.TokenTTL, time.Now())
		if err != nil {
			return wrap(http.StatusInternalServerError, "could not sign the meeting token", err)
		}
		u += "?token=" + url.QueryEscape(tok)
	}
	return c.JSON(http.StatusOK, OnlineMeetingEntity{Url: u})
}

// meetingScope says whose meeting id names for user, as the scope that
// names it: a room the user is in (its JID on the group chat service, or
// its name there) is the room's meeting, the same for all its occupants; a
// room they are not in is 403; anything else names a person (a JID, or a
// username on this server), whose meeting with the user is the two's
// alone. Every scope includes the user.
func (s *Server) meetingScope(c echo.Context, user, id string) (string, error) {
	sess, err := s.session(c)
	if err != nil {
		return "", err
	}
	room := strings.ToLower(id)
	if !strings.Contains(room, "@") {
		room += "@" + s.cfg.MUCService
	}
	if sess.RoomNick(room) != "" {
		return "room\x00" + room, nil
	}
	if strings.Contains(id, "@") && s.onMUCService(id) {
		return "", errorf(http.StatusForbidden, "the user is not in this room")
	}
	peer, err := s.bareContact(id)
	if err != nil {
		return "", err
	}
	a, b := user, peer
	if b < a {
		a, b = b, a
	}
	return "pair\x00" + a + "\x00" + b, nil
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
