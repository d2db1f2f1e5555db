package gateway

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/webpush"
)

// Muted conversations. A user mutes a contact, a room, or a room
// occupant's private conversation (room/nick) for a time or until they
// unmute it; the gateway keeps the list (MessagingConfig.Mutes) so that
// every tab and device shares it. A muted conversation's messages still
// arrive and count as unread, but push nothing: every push of a
// conversation goes through queuePush, which asks here on the sender's
// goroutine (webpush.ErrSkip), whether the user has a session or not.
// Clients skip their own notifications for it (chatapi.muted).

// maxMute is how far ahead a mute may end: a year. Longer is "until
// unmuted", which needs no date.
const maxMute = 365 * 24 * time.Hour

// muteCheckTimeout bounds the store read of one push's mute check.
const muteCheckTimeout = 2 * time.Second

func errMutesOff() error {
	return errorf(http.StatusNotImplemented, "this gateway keeps no muted conversations")
}

// ListMuted serves GET /chat/muted.
func (s *Server) ListMuted(c echo.Context) error {
	st := s.cfg.Messaging.Mutes
	if st == nil {
		return errMutesOff()
	}
	ms, err := st.Mutes(c.Request().Context(), claimsOf(c).Subject, time.Now())
	if err != nil {
		return err
	}
	out := MutedConversations{Muted: make([]MutedConversation, 0, len(ms))}
	for _, m := range ms {
		if m.Peer == webpush.MuteStrangers { // strangers.go
			out.Strangers = &MutedStrangers{}
			if !m.Until.IsZero() {
				out.Strangers.Until = ptr(m.Until.UTC())
			}
			continue
		}
		mc := MutedConversation{Jid: m.Peer}
		if !m.Until.IsZero() {
			mc.Until = ptr(m.Until.UTC())
		}
		out.Muted = append(out.Muted, mc)
	}
	return c.JSON(http.StatusOK, out) // by JID, as the store lists them
}

// MuteConversation serves PUT /chat/muted/{to}.
func (s *Server) MuteConversation(c echo.Context, to To, params MuteConversationParams) error {
	st := s.cfg.Messaging.Mutes
	if st == nil {
		return errMutesOff()
	}
	peer, err := s.chatContact(string(to))
	if err != nil {
		return err
	}
	until, err := muteUntil(params.Until)
	if err != nil {
		return err
	}
	user := claimsOf(c).Subject
	if err := st.PutMute(c.Request().Context(), user, s.chatPeer(peer), until); err != nil {
		return err
	}
	ev := chatapi.Muted{JID: s.chatPeer(peer), Muted: true}
	if !until.IsZero() {
		ev.Until = until.Format(time.RFC3339Nano)
	}
	s.tell(user, ev) // every tab, on the node that owns the user (remote_deliver.go)
	return c.NoContent(http.StatusOK)
}

// muteUntil checks a mute's until parameter: zero (until unmuted) when
// absent, else a time within the next year, to the millisecond.
func muteUntil(p *time.Time) (time.Time, error) {
	if p == nil {
		return time.Time{}, nil
	}
	until := p.UTC().Truncate(time.Millisecond)
	switch d := time.Until(until); {
	case d <= 0:
		return time.Time{}, errorf(http.StatusBadRequest, "until must be in the future")
	case d > maxMute:
		return time.Time{}, errorf(http.StatusBadRequest, "until must be within a year; leave it out to mute until unmuted")
	}
	return until, nil
}

// UnmuteConversation serves DELETE /chat/muted/{to}.
func (s *Server) UnmuteConversation(c echo.Context, to To) error {
	st := s.cfg.Messaging.Mutes
	if st == nil {
		return errMutesOff()
	}
	peer, err := s.chatContact(string(to))
	if err != nil {
		return err
	}
	user := claimsOf(c).Subject
	held, err := st.DeleteMute(c.Request().Context(), user, s.chatPeer(peer), time.Now())
	if err != nil {
		return err
	}
	if !held {
		return errorf(http.StatusNotFound, "this conversation is not muted")
	}
	s.tell(user, chatapi.Muted{JID: s.chatPeer(peer), Muted: false})
	return c.NoContent(http.StatusOK)
}

// muted reports whether user muted the conversation with peer (a push's
// pushData.From), or webpush.MuteStrangers. A failed read is not muted: a
// push too many beats a message missed.
func (s *Server) muted(user, peer string) bool {
	st := s.cfg.Messaging.Mutes
	if st == nil || peer == "" {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), muteCheckTimeout)
	defer cancel()
	m, err := st.Muted(ctx, user, peer, time.Now())
	if err != nil {
		s.log.Warn("push: read the mutes", "user", user, "err", err)
		return false
	}
	return m
}

// errMuted is what a muted conversation's push Build answers.
var errMuted = errors.Join(webpush.ErrSkip, errors.New("the conversation is muted"))
