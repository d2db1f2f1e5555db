package gateway

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/xmppconn"
)

// maxMessage bounds a message body (the spec says the same).
const maxMessage = 64 << 10

// SendChatMessage serves POST /chat/message/{to}: a one-to-one message
// from the user's session (xmppconn.Session.SendChat), which also reaches
// the user's other tabs as a chatapi.chat event with sent set.
func (s *Server) SendChatMessage(c echo.Context, to To, params SendChatMessageParams) error {
	jid, err := toJID(string(to), s.cfg.Domain)
	if err != nil {
		return errorf(http.StatusBadRequest, err.Error())
	}
	raw, err := readBody(c.Request(), maxMessage)
	if err != nil {
		return err
	}
	body, data, err := decodeChat(c.Request().Header.Get("Content-Type"), raw)
	if err != nil {
		return err
	}
	sess, err := s.session(c)
	if err != nil {
		return err
	}
	if params.File != nil {
		// The body, if any, describes the file (XEP-0066 desc).
		if data != nil || params.ReplyTo != nil {
			return errorf(http.StatusBadRequest, "a file carries a text description only, no data and no replyTo")
		}
		return sent(c)(sess.SendFile(c.Request().Context(), jid, *params.File, body))
	}
	if params.ReplyTo != nil {
		if data != nil {
			return errorf(http.StatusBadRequest, "a reply carries text only, no data")
		}
		return sent(c)(sess.SendReply(c.Request().Context(), jid, *params.ReplyTo, body))
	}
	return sent(c)(sess.SendChat(c.Request().Context(), jid, body, data))
}

// PostChatState serves POST /chat/chatstate/{state}/{to}: an XEP-0085 chat
// state notification.
func (s *Server) PostChatState(c echo.Context, state PostChatStateParamsState, to To) error {
	jid, sess, err := s.peer(c, to)
	if err != nil {
		return err
	}
	if err := sess.SendChatState(c.Request().Context(), jid, string(state)); err != nil {
		if errors.Is(err, xmppconn.ErrInvalidStanza) {
			return errorf(http.StatusBadRequest, "unknown chat state")
		}
		return err
	}
	return c.NoContent(http.StatusOK)
}

// SetPresence serves POST /presence.
func (s *Server) SetPresence(c echo.Context, params SetPresenceParams) error {
	show, status := "", ""
	if params.Show != nil {
		show = string(*params.Show)
		switch show {
		case "chat", "away", "xa", "dnd":
		default:
			return errorf(http.StatusBadRequest, "show must be chat, away, xa or dnd")
		}
	}
	if params.Status != nil {
		status = *params.Status
	}
	sess, err := s.session(c)
	if err != nil {
		return err
	}
	if err := sess.SetPresence(c.Request().Context(), show, status); err != nil {
		return err
	}
	return c.NoContent(http.StatusOK)
}

// PostDisplayed serves POST /chat/displayed/{to}: an XEP-0333 displayed
// marker for the message id and all before it.
func (s *Server) PostDisplayed(c echo.Context, to To, params PostDisplayedParams) error {
	jid, sess, err := s.peer(c, to)
	if err != nil {
		return err
	}
	// A room gets no marker (every occupant would receive it); only the
	// user's read state changes (unread.go).
	// An occupant's private conversation (room/nick) gets its marker.
	room := s.isRoomAddress(jid)
	if !room {
		if err := sess.SendDisplayed(c.Request().Context(), jid, params.Id); err != nil {
			return err
		}
	}
	if s.msg.unread != nil {
		if err := s.msg.unread.Read(c.Request().Context(), claimsOf(c).Subject, s.chatPeer(jid), room, params.Id); err != nil {
			return err
		}
	}
	return c.NoContent(http.StatusOK)
}
