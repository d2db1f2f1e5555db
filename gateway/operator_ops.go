package gateway

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/xmppadmin"
)

// The operations of the operator API (operator.go). Each is logged once
// with who called it (the word "token" or the admin's JID, never the
// token itself).

// maxBroadcastBody bounds a broadcast's JSON body (the spec bounds its
// fields: 10,000 characters of body, 1,000 of subject).
const maxBroadcastBody = 64 << 10

// OperatorSessions serves GET /operator/sessions.
func (s *Server) OperatorSessions(c echo.Context) error {
	out := OperatorSessions{Gateway: []OperatorGatewaySession{}}
	for _, u := range s.sessions.Users() {
		gs := OperatorGatewaySession{User: u, Streams: s.hub.Streams(u)}
		if sess, ok := s.sessions.Get(u); ok {
			gs.Jid = ptrOrNil(sess.FullJID())
		}
		out.Gateway = append(out.Gateway, gs)
	}
	if sa, ok := s.dir.(xmppadmin.Sessions); ok {
		list, err := sa.ServerSessions(c.Request().Context())
		if err != nil {
			return err
		}
		server := make([]OperatorServerSession, 0, len(list))
		for _, ss := range list {
			e := OperatorServerSession{Jid: ss.JID, Priority: ptr(ss.Priority), Ip: ptrOrNil(ss.IP), Node: ptrOrNil(ss.Node),
				Status: ptrOrNil(ss.Status)}
			if !ss.Since.IsZero() {
				e.Since = ptr(ss.Since.UTC())
			}
			server = append(server, e)
		}
		out.Server = &server
	}
	return c.JSON(http.StatusOK, out)
}

// OperatorKick serves DELETE /operator/sessions/{username}.
func (s *Server) OperatorKick(c echo.Context, username Username) error {
	local, err := s.operatorUser(c, username)
	if err != nil {
		return err
	}
	n, err := s.kick(c.Request().Context(), local)
	if err != nil {
		return err
	}
	s.log.Info("operator kicked a user", "user", s.bareJID(local), "by", operatorOf(c), "server_sessions", n)
	return c.JSON(http.StatusOK, OperatorKick{User: s.bareJID(local), ServerSessions: n})
}

// OperatorBroadcast serves POST /operator/broadcast.
func (s *Server) OperatorBroadcast(c echo.Context) error {
	var body OperatorBroadcast
	if err := decodeUsersJSON(c, maxBroadcastBody, &body); err != nil {
		return err
	}
	b, ok := s.dir.(xmppadmin.Broadcaster)
	if !ok {
		return errorf(http.StatusNotImplemented, "the XMPP server's admin API cannot send messages")
	}
	m := xmppadmin.Broadcast{Type: string(OperatorBroadcastTypeHeadline), Body: body.Body}
	if body.Type != nil {
		m.Type = string(*body.Type)
	}
	if body.Subject != nil {
		m.Subject = *body.Subject
	}
	n, err := b.Broadcast(c.Request().Context(), m)
	if err != nil {
		return err
	}
	s.log.Info("operator broadcast a message", "by", operatorOf(c), "type", m.Type, "recipients", n)
	return c.JSON(http.StatusOK, OperatorBroadcastResult{Recipients: n})
}

// OperatorLockOut serves PUT /operator/lockouts/{username}: the lockout is
// recorded first, so that no login slips in between the kick and it.
func (s *Server) OperatorLockOut(c echo.Context, username Username) error {
	local, err := s.operatorUser(c, username)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	user := s.bareJID(local)
	if err := s.op.lockouts.LockUser(ctx, user, time.Now()); err != nil {
		return err
	}
	server := false
	if l, ok := s.dir.(xmppadmin.Lockouts); ok {
		if err := l.LockOut(ctx, local); err != nil {
			return err
		}
		server = true
	}
	if _, err := s.kick(ctx, local); err != nil {
		return err
	}
	s.log.Info("operator locked a user out", "user", user, "by", operatorOf(c), "server", server)
	return c.JSON(http.StatusOK, OperatorLockout{User: user, Locked: true, Server: server})
}

// OperatorUnlock serves DELETE /operator/lockouts/{username}.
func (s *Server) OperatorUnlock(c echo.Context, username Username) error {
	local, err := s.operatorUser(c, username)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	user := s.bareJID(local)
	server := false
	if l, ok := s.dir.(xmppadmin.Lockouts); ok {
		if err := l.Unlock(ctx, local); err != nil {
			return err
		}
		server = true
	}
	if err := s.op.lockouts.UnlockUser(ctx, user); err != nil {
		return err
	}
	s.log.Info("operator unlocked a user", "user", user, "by", operatorOf(c), "server", server)
	return c.JSON(http.StatusOK, OperatorLockout{User: user, Locked: false, Server: server})
}

// operatorUser is the canonical localpart of username, or a 404 when the
// XMPP server has no such account.
func (s *Server) operatorUser(c echo.Context, username Username) (string, error) {
	local, err := s.username(string(username))
	if err != nil {
		return "", err
	}
	ok, err := s.dir.Exists(c.Request().Context(), local)
	switch {
	case err != nil:
		return "", err
	case !ok:
		return "", errorf(http.StatusNotFound, "no such user")
	}
	return local, nil
}

// kick signs the user out everywhere, as POST /logout/all does (tokens and
// refresh families revoked, streams ended on every node, the gateway's
// session closed), and then has the XMPP server end the user's other
// client sessions when the admin backend can (-1 when it cannot). The
// gateway's own session is closed first, so that it does not take the
// server's kick for a dropped connection and log in again.
func (s *Server) kick(ctx context.Context, local string) (int, error) {
	user := s.bareJID(local)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), purgeTimeout)
	defer cancel()
	if _, err := s.revokeAll(ctx, user); err != nil {
		return 0, err
	}
	s.hub.EndUser(user, chatapi.CloseEnded)
	s.endElsewhere(ctx, streamsEnd{User: user, All: true, EndSession: true, Reason: chatapi.CloseEnded})
	s.sessions.End(ctx, user, chatapi.CloseEnded)
	// As after signing out everywhere, no browser of the user goes on
	// getting the user's messages as pushes; each subscribes again when
	// it signs in.
	if err := s.forgetPushSubscriptions(ctx, user); err != nil {
		s.log.Error("forget push subscriptions", "user", user, "err", err)
	}
	sa, ok := s.dir.(xmppadmin.Sessions)
	if !ok {
		return -1, nil
	}
	n, err := sa.Kick(ctx, local)
	if errors.Is(err, xmppadmin.ErrUnsupported) {
		return -1, nil
	}
	return n, err
}
