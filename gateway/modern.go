package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/xmppconn"
)

// Corrections, retractions and reactions (xmppconn/modern.go): decode,
// call the session's verb, answer the new message's id.

// maxReactionsBody bounds the JSON array of PUT /chat/reactions (32
// emoji of at most 64 bytes, quoted and separated).
const maxReactionsBody = 4096

// CorrectChatMessage serves PUT /chat/message/{to}/{id}.
func (s *Server) CorrectChatMessage(c echo.Context, to To, id string) error {
	body, err := readMessageText(c)
	if err != nil {
		return err
	}
	jid, sess, err := s.peer(c, to)
	if err != nil {
		return err
	}
	return sent(c)(sess.SendCorrection(c.Request().Context(), jid, id, body))
}

// RetractChatMessage serves DELETE /chat/message/{to}/{id}.
func (s *Server) RetractChatMessage(c echo.Context, to To, id string) error {
	jid, sess, err := s.peer(c, to)
	if err != nil {
		return err
	}
	return sent(c)(sess.SendRetraction(c.Request().Context(), jid, id))
}

// ReactToChatMessage serves PUT /chat/reactions/{to}/{id}.
func (s *Server) ReactToChatMessage(c echo.Context, to To, id string) error {
	reactions, err := readReactions(c)
	if err != nil {
		return err
	}
	jid, sess, err := s.peer(c, to)
	if err != nil {
		return err
	}
	return sent(c)(sess.SendReactions(c.Request().Context(), jid, id, reactions))
}

// readMessageText reads a message's text: 400 when it is empty.
func readMessageText(c echo.Context) (string, error) {
	body, err := readText(c.Request(), maxMessage)
	if err != nil {
		return "", err
	}
	if body == "" {
		return "", errorf(http.StatusBadRequest, "the message is empty")
	}
	return body, nil
}

// readReactions reads a reactions set: a JSON array of emoji.
func readReactions(c echo.Context) ([]string, error) {
	raw, err := readBody(c.Request(), maxReactionsBody)
	if err != nil {
		return nil, err
	}
	var reactions []string
	if err := json.Unmarshal(raw, &reactions); err != nil {
		return nil, errorf(http.StatusBadRequest, "the body must be a JSON array of emoji")
	}
	return reactions, nil
}

// peer reads the path's to (400 when it names no one) and opens the
// request's session.
func (s *Server) peer(c echo.Context, to To) (string, Session, error) {
	jid, err := toJID(string(to), s.cfg.Domain)
	if err != nil {
		return "", nil, errorf(http.StatusBadRequest, err.Error())
	}
	sess, err := s.session(c)
	if err != nil {
		return "", nil, err
	}
	return jid, sess, nil
}

// sent answers a verb's new message id, or its error (a refused
// argument is the client's).
func sent(c echo.Context) func(id string, err error) error {
	return func(id string, err error) error {
		if errors.Is(err, xmppconn.ErrInvalidStanza) {
			return wrap(http.StatusBadRequest, "the message id, text or reactions are not valid", err)
		}
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, SentMessage{Id: id})
	}
}

// In a room the same verbs go to the room as groupchat messages
// (xmppconn's SendRoom*): the room's JID from the path, the user in it.

// CorrectRoomMessage serves PUT /groupchat/room/{roomName}/message/{id}.
func (s *Server) CorrectRoomMessage(c echo.Context, roomName RoomName, id string, params CorrectRoomMessageParams) error {
	room, err := s.roomJID(string(roomName), params.ServiceName)
	if err != nil {
		return err
	}
	body, err := readMessageText(c)
	if err != nil {
		return err
	}
	return s.inRoom(c, room, func(ctx context.Context, sess Session) (string, error) {
		return sess.SendRoomCorrection(ctx, room, id, body)
	})
}

// RetractRoomMessage serves DELETE /groupchat/room/{roomName}/message/{id}.
func (s *Server) RetractRoomMessage(c echo.Context, roomName RoomName, id string, params RetractRoomMessageParams) error {
	room, err := s.roomJID(string(roomName), params.ServiceName)
	if err != nil {
		return err
	}
	return s.inRoom(c, room, func(ctx context.Context, sess Session) (string, error) {
		return sess.SendRoomRetraction(ctx, room, id)
	})
}

// ReactToRoomMessage serves PUT /groupchat/room/{roomName}/reactions/{id}.
func (s *Server) ReactToRoomMessage(c echo.Context, roomName RoomName, id string, params ReactToRoomMessageParams) error {
	room, err := s.roomJID(string(roomName), params.ServiceName)
	if err != nil {
		return err
	}
	reactions, err := readReactions(c)
	if err != nil {
		return err
	}
	return s.inRoom(c, room, func(ctx context.Context, sess Session) (string, error) {
		return sess.SendRoomReactions(ctx, room, id, reactions)
	})
}

// inRoom opens the request's session, checks that the user is in room
// (403, or 404 when the room does not exist) and answers what verb sends.
func (s *Server) inRoom(c echo.Context, room string, verb func(context.Context, Session) (string, error)) error {
	sess, ctx, cancel, err := s.xmppSession(c)
	if err != nil {
		return err
	}
	defer cancel()
	if err := requireInRoom(ctx, sess, room); err != nil {
		return err
	}
	return sent(c)(verb(ctx, sess))
}
