package gateway

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/chatapi"
)

// Contact requests (RFC 6121 section 3.1): ejabberd offers a request
// waiting for the user's answer to a client only as a subscribe presence
// when it signs in, and its roster get leaves the person out, so a tab
// opened later, or another device, would never learn of it. The gateway
// therefore keeps the waiting requests itself, in its store, fed by the
// events deliver passes on: the subscribe presence adds one; the person's
// roster push with a subscription from them (approved, here or from
// another client), a removal from the roster, the gateway's own
// chatapi.request (declined), a block, or the person's unsubscribe
// (withdrawn) take it away. GET /contact-requests lists them.

// ContactRequestStore keeps the requests waiting for each user's answer
// (package store implements it).
type ContactRequestStore interface {
	// AddContactRequest records that requester asked to see user's
	// presence at at; a request already recorded keeps its first time.
	AddContactRequest(ctx context.Context, user, requester string, at time.Time) error
	// RemoveContactRequest forgets requester's request to user; none is
	// no error.
	RemoveContactRequest(ctx context.Context, user, requester string) error
	// ContactRequests returns who waits for user's answer, oldest first.
	ContactRequests(ctx context.Context, user string) ([]string, error)
}

// requestWriteTimeout bounds one store write of trackRequests, which
// holds up the event's delivery (requests are rare).
const requestWriteTimeout = 2 * time.Second

// trackRequests is deliver's hook: it records what p adds to or takes
// from the user's waiting contact requests before the tabs hear of it, so
// that a tab which lists the requests on hearing an event sees it done.
func (s *Server) trackRequests(user string, p chatapi.Payload) {
	st := s.cfg.Messaging.Requests
	if st == nil {
		return
	}
	var add, remove []string
	switch e := p.(type) {
	case chatapi.Presence:
		from := bareJID(e.From)
		if from == "" || from == user || e.Nick != "" || s.onMUCService(from) {
			return
		}
		switch e.PresenceType {
		case chatapi.PresenceSubscribe:
			add = []string{from}
		case chatapi.PresenceUnsubscribe:
			remove = []string{from}
		}
	case chatapi.Roster:
		if e.Removed || e.Subscription == "from" || e.Subscription == "both" {
			remove = []string{bareJID(e.JID)}
		}
	case chatapi.Request:
		remove = []string{bareJID(e.JID)}
	case chatapi.Blocklist:
		if e.Action == "block" {
			remove = e.JIDs
		}
	}
	if len(add) == 0 && len(remove) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), requestWriteTimeout)
	defer cancel()
	for _, j := range add {
		if err := st.AddContactRequest(ctx, user, j, time.Now()); err != nil {
			s.log.Error("contact requests: store", "user", user, "err", err)
		}
	}
	for _, j := range remove {
		if j == "" {
			continue
		}
		if err := st.RemoveContactRequest(ctx, user, bareJID(j)); err != nil {
			s.log.Error("contact requests: store", "user", user, "err", err)
		}
	}
}

// GetContactRequests serves GET /contact-requests: the stored requests,
// less those the roster shows approved meanwhile (by a client of the
// account while the gateway held no session, whose roster push it missed);
// those are forgotten on the way.
func (s *Server) GetContactRequests(c echo.Context) error {
	st := s.cfg.Messaging.Requests
	if st == nil {
		return errorf(http.StatusNotImplemented, "the gateway keeps no contact requests")
	}
	sess, ctx, cancel, err := s.xmppSession(c)
	if err != nil {
		return err
	}
	defer cancel()
	user := sess.User()
	stored, err := st.ContactRequests(ctx, user)
	if err != nil {
		return err
	}
	out := make([]ContactRequest, 0, len(stored))
	if len(stored) == 0 {
		return c.JSON(http.StatusOK, out)
	}
	items, err := sess.Roster(ctx)
	if err != nil {
		return err
	}
	for _, j := range stored {
		if it, ok := findItem(items, j); ok && (it.Subscription == "from" || it.Subscription == "both") {
			if err := st.RemoveContactRequest(ctx, user, j); err != nil {
				return err
			}
			continue
		}
		out = append(out, ContactRequest{Jid: j})
	}
	return c.JSON(http.StatusOK, out)
}
