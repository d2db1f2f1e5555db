package gateway

import (
	"context"
	"errors"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/unread"
	"github.com/sparkgate/sparkgate/webpush"
)

// MessagingConfig configures group chat, roster, presence and archive
// operations.
type MessagingConfig struct {
	// Timeout bounds the XMPP round trips of one messaging request (room
	// joins, disco, roster and archive queries); past it the client gets a
	// 504. Zero means 15 seconds.
	Timeout time.Duration
	// KeywordScan is how many archived messages a keyword search reads at
	// most per request, in pages of 250 (the gateway matches keywords
	// itself, see queryArchivePage). Zero means 10,000.
	KeywordScan int
	// Unread keeps each user's unread counts and last read ids (unread.go);
	// nil: the gateway keeps no read state (GET /chat/unread answers 501).
	Unread unread.Store
	// Requests keeps the contact requests waiting for each user's answer
	// (contactrequests.go); nil: the gateway keeps none (GET
	// /contact-requests answers 501).
	Requests ContactRequestStore
	// Mutes keeps each user's muted conversations (mute.go), whose
	// messages push nothing; nil: none (GET /chat/muted answers 501).
	Mutes webpush.MuteStore
}

// messagingState is the Server's state for MessagingConfig.
type messagingState struct {
	timeout   time.Duration
	scanPages int
	unread    *unread.Tracker // nil without MessagingConfig.Unread
}

func (s *Server) initMessaging() error {
	c := s.cfg.Messaging
	if c.Timeout < 0 || c.KeywordScan < 0 {
		return errors.New("Messaging.Timeout and Messaging.KeywordScan may not be negative")
	}
	s.msg.timeout = c.Timeout
	if s.msg.timeout == 0 {
		s.msg.timeout = 15 * time.Second
	}
	s.msg.scanPages = (c.KeywordScan + scanPage - 1) / scanPage
	if s.msg.scanPages == 0 {
		s.msg.scanPages = 10000 / scanPage
	}
	return s.initUnread()
}

// xmppCtx is the request's context bounded by the messaging timeout.
func (s *Server) xmppCtx(c echo.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.Request().Context(), s.msg.timeout)
}
