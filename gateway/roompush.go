package gateway

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/webpush"
)

// Rooms while away. A user who joins a room is subscribed to its messages
// with MucSub (xmppconn/mucsub.go), under the nick they joined with, so
// that once their session is gone the server's push notifications carry
// room messages too; each (user, room) has a policy, kept in
// PushConfig.Rooms: all messages, mentions of the nick (the default) or
// none. Leaving the room ends the subscription. Without the push app
// server none of this happens: a user with a session in the room hears of
// mentions from the gateway itself (push_notify.go).

// roomPushOn reports whether room subscriptions are kept.
func (s *Server) roomPushOn() bool { return s.pushAppOn() && s.cfg.Push.Rooms != nil }

// roomJoined subscribes the user to room's messages under nick and records
// the nick, keeping a policy already chosen. A room that refuses
// subscriptions is logged, not an error of the join.
func (s *Server) roomJoined(ctx context.Context, sess Session, room, nick string) {
	if !s.roomPushOn() {
		return
	}
	user := sess.User()
	if err := sess.SubscribeRoom(ctx, room, nick); err != nil {
		s.log.Info("room: no subscription for pushes while away", "user", user, "room", room, "err", err)
		return
	}
	rp := webpush.RoomPush{User: user, Room: room, Nick: nick, Policy: webpush.RoomPushMentions}
	if old, err := s.cfg.Push.Rooms.RoomPush(ctx, user, room); err == nil {
		rp.Policy = old.Policy
	}
	if err := s.cfg.Push.Rooms.PutRoomPush(ctx, rp); err != nil {
		s.log.Warn("room: push policy not stored", "user", user, "room", room, "err", err)
	}
}

// roomLeft ends the user's subscription to room and forgets its policy.
func (s *Server) roomLeft(ctx context.Context, sess Session, room string) {
	if !s.roomPushOn() {
		return
	}
	user := sess.User()
	if err := sess.UnsubscribeRoom(ctx, room); err != nil {
		s.log.Info("room: unsubscribe failed", "user", user, "room", room, "err", err)
	}
	if err := s.cfg.Push.Rooms.DeleteRoomPush(ctx, user, room); err != nil {
		s.log.Warn("room: push policy not deleted", "user", user, "room", room, "err", err)
	}
}

// roomSubscribed reports whether the user is subscribed to room while
// away (joined it through the gateway and has not left).
func (s *Server) roomSubscribed(ctx context.Context, user, room string) bool {
	if !s.roomPushOn() {
		return false
	}
	_, err := s.cfg.Push.Rooms.RoomPush(ctx, user, room)
	return err == nil
}

// roomNotification turns a room message the server pushed for a user
// without a session into a Web Push, as the user's policy for the room
// says: never the user's own messages, mentions of the user's nick under
// the default policy.
func (s *Server) roomNotification(ctx context.Context, user, room, nick, body string) error {
	if s.cfg.Push.Rooms == nil {
		return nil
	}
	rp, err := s.cfg.Push.Rooms.RoomPush(ctx, user, room)
	if errors.Is(err, webpush.ErrNotFound) {
		return nil // not a room the gateway subscribed the user to
	}
	if err != nil {
		return err
	}
	switch {
	case nick == rp.Nick, rp.Policy == webpush.RoomPushNone:
		return nil
	case rp.Policy != webpush.RoomPushAll && !mentions(body, rp.Nick):
		return nil
	}
	n := NotificationEntity{
		Subject: ptr(nick + " in " + localPart(room)),
		Body:    ptr(cutBody(body)),
		Actions: replyActions(),
	}
	s.queuePush(user, n, pushData{Type: pushGroupChat, From: room}, "muc "+room)
	return nil
}

// SetRoomNotifications serves PUT /groupchat/room/{roomName}/notifications:
// what the user hears of a room they joined while they have no session.
func (s *Server) SetRoomNotifications(c echo.Context, roomName RoomName, params SetRoomNotificationsParams) error {
	if !s.roomPushOn() {
		return errorf(http.StatusNotImplemented, "pushes while away are not configured on this gateway")
	}
	room, err := s.roomJID(string(roomName), params.ServiceName)
	if err != nil {
		return err
	}
	user := claimsOf(c).Subject
	ctx := c.Request().Context()
	rp, err := s.cfg.Push.Rooms.RoomPush(ctx, user, room)
	if errors.Is(err, webpush.ErrNotFound) {
		return wrap(http.StatusNotFound, "the user has not joined this room", err)
	}
	if err != nil {
		return err
	}
	rp.Policy = string(params.Policy)
	if err := s.cfg.Push.Rooms.PutRoomPush(ctx, rp); err != nil {
		return err
	}
	return c.NoContent(http.StatusOK)
}
