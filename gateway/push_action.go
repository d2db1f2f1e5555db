package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/chatapi"
)

// maxActionBody bounds a NotificationActionEntity body (a reply is at most
// one message).
const maxActionBody = maxMessage + 16<<10

// HandleNotificationAction serves POST /webpush/action. The operation has
// no security scheme in the spec because its credential is not an access
// token: the Authorization header carries the notification's action token,
// which this handler checks. The token is bound to the notification's
// conversation (its purpose names it) and is consumed by its first use.
func (s *Server) HandleNotificationAction(c echo.Context) error {
	if err := s.pushEnabled(); err != nil {
		return err
	}
	tok, ok := auth.ParseAuthorization(c.Request().Header.Get("Authorization"))
	if !ok {
		return unauthorized()
	}
	raw, err := io.ReadAll(io.LimitReader(c.Request().Body, maxActionBody+1))
	if err != nil {
		return errorf(http.StatusBadRequest, "the request body could not be read")
	}
	if len(raw) > maxActionBody {
		return errorf(http.StatusRequestEntityTooLarge, "the action is too large")
	}
	var a NotificationActionEntity
	if err := json.Unmarshal(raw, &a); err != nil {
		return errorf(http.StatusBadRequest, "the action is not valid JSON")
	}
	var d pushData
	if a.Data == nil || json.Unmarshal([]byte(*a.Data), &d) != nil || d.Type == "" || d.From == "" {
		return errorf(http.StatusBadRequest, "data is not the notification's data")
	}
	action, value := deref(a.Action), deref(a.Value)
	switch action {
	case actionOpen:
	case actionReply, actionReference:
		if d.Type == pushInvitation {
			return errorf(http.StatusBadRequest, "an invitation cannot be answered")
		}
		if value == "" {
			return errorf(http.StatusBadRequest, "the reply is empty")
		}
		if len(value) > maxMessage {
			return errorf(http.StatusBadRequest, "the reply is too long")
		}
	default:
		return errorf(http.StatusBadRequest, "unknown action")
	}

	ctx := c.Request().Context()
	cl, err := s.consumeActionToken(ctx, tok, actionPurpose(d.Type, d.From))
	if err != nil {
		return err
	}
	if action == actionOpen {
		return c.NoContent(http.StatusOK)
	}
	_, had := s.sessions.Get(cl.Subject)
	sess, err := s.sessionFor(ctx, cl)
	if err != nil {
		return err
	}
	// The reply must outlive a service worker that stops waiting.
	ctx = context.WithoutCancel(ctx)
	if !had {
		// A session opened for this reply alone (the user was signed out)
		// closes once the reply is written, unless a login joined it
		// meanwhile: the user's server goes on pushing (push_app.go).
		defer func() {
			if sess.RemoveToken(cl.ID) == 0 {
				s.sessions.End(ctx, sess.User(), chatapi.CloseEnded)
			}
		}()
	}
	if d.Type == pushGroupChat {
		if _, in := sess.Rooms()[d.From]; !in {
			return errorf(http.StatusConflict, "you are not in the room any more")
		}
		if _, err := sess.SendGroupChat(ctx, d.From, value); err != nil {
			return err
		}
		return c.NoContent(http.StatusOK)
	}
	if _, err := sess.SendChat(ctx, d.From, value, nil); err != nil {
		return err
	}
	s.log.Info("push reply sent", "user", sess.User())
	return c.NoContent(http.StatusOK)
}

// consumeActionToken verifies an action token for purpose and revokes it,
// atomically within this gateway, so that it works once. Every rejection
// is 401.
func (s *Server) consumeActionToken(ctx context.Context, tok, purpose string) (auth.Claims, error) {
	s.push.actions.Lock()
	defer s.push.actions.Unlock()
	cl, err := s.tokens.VerifyPurpose(ctx, tok, purpose)
	if err == nil {
		err = s.tokens.Revoke(ctx, cl)
	}
	if errors.Is(err, auth.ErrInvalidToken) || errors.Is(err, auth.ErrExpired) {
		return auth.Claims{}, unauthorized()
	}
	if err != nil {
		return auth.Claims{}, err
	}
	return cl, nil
}
