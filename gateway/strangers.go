package gateway

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/webpush"
	"github.com/sparkgate/sparkgate/xmppadmin"
)

// Pushes from strangers. A user may mute everyone outside their roster
// at once (PUT /chat/strangers/muted): the spam that reaches a chat
// account comes from addresses nobody added, and a phone that lights up
// for each is a phone whose owner turns push off. The mute is a row of
// the muted conversations' store under webpush.MuteStrangers, so it has
// their until, their list and their event's path (chatapi.strangers).
//
// Each push of a person's message asks, after the conversation's own
// mute (mute.go), whether strangers are muted and, only then, whether
// the sender is one: the roster comes from the user's session when the
// gateway holds one here (an XMPP roster query), else from the XMPP
// server's admin side (xmppadmin.RosterReader: ejabberd's get_roster,
// Prosody's storage), and is kept a few seconds (strangers_roster.go).
// A roster that cannot be read lets the push go: a push too many beats
// a contact's message missed.

// rosterCheckTimeout bounds one push's roster read. The check runs on
// the push sender's goroutine, which waits for it.
const rosterCheckTimeout = 3 * time.Second

// errStranger is what a stranger's push Build answers while strangers
// are muted.
var errStranger = errors.Join(webpush.ErrSkip, errors.New("the sender is a stranger"))

// MuteStrangers serves PUT /chat/strangers/muted.
func (s *Server) MuteStrangers(c echo.Context, params MuteStrangersParams) error {
	st := s.cfg.Messaging.Mutes
	if st == nil {
		return errMutesOff()
	}
	until, err := muteUntil(params.Until)
	if err != nil {
		return err
	}
	user := claimsOf(c).Subject
	if err := st.PutMute(c.Request().Context(), user, webpush.MuteStrangers, until); err != nil {
		return err
	}
	ev := chatapi.Strangers{Muted: true}
	if !until.IsZero() {
		ev.Until = until.Format(time.RFC3339Nano)
	}
	s.tell(user, ev)
	return c.NoContent(http.StatusOK)
}

// UnmuteStrangers serves DELETE /chat/strangers/muted.
func (s *Server) UnmuteStrangers(c echo.Context) error {
	st := s.cfg.Messaging.Mutes
	if st == nil {
		return errMutesOff()
	}
	user := claimsOf(c).Subject
	held, err := st.DeleteMute(c.Request().Context(), user, webpush.MuteStrangers, time.Now())
	if err != nil {
		return err
	}
	if !held {
		return errorf(http.StatusNotFound, "strangers are not muted")
	}
	s.tell(user, chatapi.Strangers{Muted: false})
	return c.NoContent(http.StatusOK)
}

// silenced reports why a push to user of d must not go: its
// conversation (d.From) is muted (errMuted), or strangers are and d is a
// stranger's (errStranger). nil: push it.
//
// d.Sender names the person whose it is, or is "" for a room's own
// message. An invitation is its inviter's, and one whose inviter the room
// does not name (a semi-anonymous room names an occupant, room/nick, as
// Prosody's do) is a stranger's: nobody vouches for it, and invitation
// spam comes that way.
func (s *Server) silenced(user string, d pushData) error {
	if s.muted(user, d.From) {
		s.countSilenced("muted")
		return errMuted
	}
	person := s.personOutsideRoster(d.Sender)
	if !person && d.Type != pushInvitation || !s.muted(user, webpush.MuteStrangers) {
		return nil
	}
	if !person || s.stranger(user, d.Sender) {
		s.countSilenced("stranger")
		return errStranger
	}
	return nil
}

// countSilenced counts a push not sent (sparkgate_push_silenced_total).
func (s *Server) countSilenced(why string) {
	if s.metrics != nil {
		s.metrics.silenced.WithLabelValues(why).Inc()
	}
}

// personOutsideRoster reports whether sender could be a stranger at all:
// a person's JID that is not on the group chat service (rooms and their
// occupants are the rooms' business) and has a local part (a server's
// own messages are not a stranger's).
func (s *Server) personOutsideRoster(sender string) bool {
	if sender == "" || s.onMUCService(sender) {
		return false
	}
	_, _, ok := cutJID(bareJID(sender))
	return ok
}

// stranger reports whether sender is outside user's roster (read
// through s.rosters, strangers_roster.go). A roster that cannot be read
// makes no stranger (readRoster logs why).
func (s *Server) stranger(user, sender string) bool {
	sender = strings.ToLower(bareJID(sender))
	if sender == user {
		return false
	}
	contacts, err := s.rosters.contacts(user, s.readRoster(user))
	return err == nil && !contacts[sender]
}

// errNoRoster says that neither a session nor the directory can read a
// user's roster.
var errNoRoster = errors.New("no session here and the XMPP server's admin API reads no rosters")

// rosterJIDs returns the JIDs of user's roster, from the user's session
// on this node when there is one, else from the directory.
func (s *Server) rosterJIDs(ctx context.Context, user string) ([]string, error) {
	if sess, ok := s.sessions.Get(user); ok {
		items, err := sess.Roster(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]string, len(items))
		for i, it := range items {
			out[i] = it.JID
		}
		return out, nil
	}
	r, ok := s.cfg.Directory.(xmppadmin.RosterReader)
	local, domain, okJID := cutJID(user)
	if !ok || !okJID || domain != s.cfg.Domain {
		return nil, errNoRoster
	}
	entries, err := r.RosterEntries(ctx, local)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.JID
	}
	return out, nil
}
