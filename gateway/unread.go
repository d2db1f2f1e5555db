package gateway

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/unread"
)

// Unread state (package unread): the gateway counts, per user and
// conversation, the messages from others that pass through deliver, and
// clears a conversation when the user reads it on any tab (PostDisplayed)
// or another XMPP client (its displayed marker comes back as a carbon).
// Every change goes to all the user's tabs as chatapi.unread.

// initUnread starts the tracker when the gateway has a store for it.
func (s *Server) initUnread() error {
	if s.cfg.Messaging.Unread == nil {
		return nil
	}
	t, err := unread.New(unread.Config{
		Store:  s.cfg.Messaging.Unread,
		Logger: s.log,
		OnChange: func(user string, c unread.Count) {
			// A read may be made on any node: the owner appends it (remote_deliver.go).
			s.tell(user, chatapi.Unread{JID: c.Peer, Room: c.Room, Count: c.Unread, LastRead: c.LastRead})
		},
	})
	if err != nil {
		return err
	}
	s.msg.unread = t
	return nil
}

// closeUnread stores what is queued; called once the sessions are closed
// and before the event hub is.
func (s *Server) closeUnread() {
	if s.msg.unread != nil {
		s.msg.unread.Close()
	}
}

// countUnread is deliver's hook: it counts what p adds to or clears from
// the user's read state. It never blocks.
func (s *Server) countUnread(user string, p chatapi.Payload) {
	t := s.msg.unread
	if t == nil {
		return
	}
	switch e := p.(type) {
	case chatapi.Chat:
		if e.Sent || e.Body == "" || e.Replace != "" || e.Retract != "" || e.Type == chatapi.TypeError {
			return
		}
		// A chat from a room itself is no conversation of its own: a
		// mediated invitation's copy (the invitation is its own event) or
		// a room's notice. Counted under the room's address as a chat, it
		// could never be read (a read of that address is the room's) and
		// stayed in every tab's total. An occupant's private message is a
		// conversation with room/nick (chatPeer).
		peer := s.chatPeer(e.From)
		if s.isRoomAddress(peer) {
			return
		}
		if peer != user && peer != "" {
			t.Arrived(user, peer, false)
		}
	case chatapi.GroupChat:
		// Room history replayed on join (Stamp set) was counted, or read,
		// when it was live; the user's own messages come back from the room;
		// a correction changes a message counted already (a retraction has
		// no body).
		if e.Body == "" || e.Stamp != "" || e.Replace != "" {
			return
		}
		room, nick, _ := strings.Cut(e.From, "/")
		if sess, ok := s.sessions.Get(user); ok && nick != "" && nick != sess.RoomNick(room) {
			t.Arrived(user, room, true)
		}
	case chatapi.Receipt:
		// A displayed marker the user sent from another client (a carbon):
		// the conversation with its recipient is read there.
		if e.Type == chatapi.TypeDisplayed && bareJID(e.From) == user && e.To != "" && e.ID != "" {
			t.ReadLater(user, s.chatPeer(e.To), false, e.ID)
		}
	}
}

// GetUnread serves GET /chat/unread.
func (s *Server) GetUnread(c echo.Context) error {
	if s.msg.unread == nil {
		return errorf(http.StatusNotImplemented, "the gateway keeps no read state")
	}
	list, err := s.msg.unread.List(c.Request().Context(), claimsOf(c).Subject)
	if err != nil {
		return err
	}
	out := make([]UnreadCount, 0, len(list))
	for _, u := range list {
		if !u.Room && s.isRoomAddress(u.Peer) {
			continue // counted before countUnread left the room service out
		}
		out = append(out, UnreadCount{Jid: u.Peer, Room: u.Room, Count: u.Unread, LastRead: u.LastRead})
	}
	return c.JSON(http.StatusOK, out)
}

// onMUCService reports whether jid is on the group chat service.
func (s *Server) onMUCService(jid string) bool {
	_, domain, ok := strings.Cut(bareJID(jid), "@")
	return ok && domain == s.cfg.MUCService
}

// isRoomAddress reports whether jid is a room itself: on the group chat
// service and without a nick.
func (s *Server) isRoomAddress(jid string) bool {
	return s.onMUCService(jid) && !strings.Contains(jid, "/")
}

// chatPeer is the one-to-one conversation a chat with jid belongs to: a
// person's bare JID, or for an occupant of a room (a private message,
// XEP-0045 section 7.5) the occupant's room/nick, since the room hides
// who is behind the nick and another nick is another person.
func (s *Server) chatPeer(jid string) string {
	if s.onMUCService(jid) {
		return jid
	}
	return bareJID(jid)
}
