package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// maxRosterBody bounds a roster item's JSON body.
const maxRosterBody = 64 << 10

// subscriptionStates are RFC 6121's subscription states, indexed by the
// SparkWeb API's subscriptionType numbers 0 to 3.
var subscriptionStates = [...]string{"none", "to", "from", "both"}

// subscriptionType is the API's number of an RFC 6121 subscription state
// (0, none, for any other).
func subscriptionType(state string) int32 {
	for i, s := range subscriptionStates {
		if s == state {
			return int32(i)
		}
	}
	return 0
}

func rosterEntity(it xmppconn.RosterItem) RosterItemEntity {
	e := RosterItemEntity{Jid: it.JID, SubscriptionType: ptr(subscriptionType(it.Subscription))}
	if it.Name != "" {
		e.Nickname = ptr(it.Name)
	}
	if len(it.Groups) > 0 {
		e.Groups = ptr(slices.Clone(it.Groups))
	}
	if it.Ask == "subscribe" {
		e.Ask = ptr(Subscribe)
	}
	return e
}

// bareContact turns a path or body address into a contact's bare JID.
func (s *Server) bareContact(addr string) (string, error) {
	j, err := toJID(addr, s.cfg.Domain)
	if err != nil {
		return "", errorf(http.StatusBadRequest, err.Error())
	}
	if strings.Contains(j, "/") {
		return "", errorf(http.StatusBadRequest, "a contact is a bare JID, without a resource")
	}
	return j, nil
}

// chatContact checks the peer of a one-to-one conversation: a contact's
// bare JID (bareContact), or a room occupant's room/nick for private
// messages (chatPeer).
func (s *Server) chatContact(addr string) (string, error) {
	j, err := toJID(addr, s.cfg.Domain)
	if err != nil {
		return "", errorf(http.StatusBadRequest, err.Error())
	}
	if s.onMUCService(j) && strings.Contains(j, "/") {
		return j, nil
	}
	return s.bareContact(addr)
}

// readRosterItem decodes and checks a RosterItemEntity body.
func readRosterItem(c echo.Context) (RosterItemEntity, error) {
	var it RosterItemEntity
	raw, err := io.ReadAll(io.LimitReader(c.Request().Body, maxRosterBody+1))
	if err != nil {
		return it, errorf(http.StatusBadRequest, "the request body could not be read")
	}
	if len(raw) > maxRosterBody {
		return it, errorf(http.StatusRequestEntityTooLarge, "the roster item is too large")
	}
	if err := json.Unmarshal(raw, &it); err != nil {
		return it, errorf(http.StatusBadRequest, "the roster item is not valid JSON")
	}
	if it.Groups != nil {
		for _, g := range *it.Groups {
			if g == "" || strings.ContainsFunc(g, func(r rune) bool { return r < 0x20 }) {
				return it, errorf(http.StatusBadRequest, "a group name is empty or has control characters")
			}
		}
	}
	return it, nil
}

func findItem(items []xmppconn.RosterItem, jid string) (xmppconn.RosterItem, bool) {
	for _, it := range items {
		if strings.EqualFold(it.JID, jid) {
			return it, true
		}
	}
	return xmppconn.RosterItem{}, false
}

// xmppSession returns the session of the request's user and a context for
// its XMPP round-trips, bounded by the messaging timeout. As with
// context.WithTimeout, the caller must call cancel when done; after an
// error there is nothing to cancel.
func (s *Server) xmppSession(c echo.Context) (Session, context.Context, context.CancelFunc, error) {
	sess, err := s.session(c)
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := s.xmppCtx(c)
	return sess, ctx, cancel, nil
}

// rosterContact fetches the user's roster under ctx and finds the contact
// jid in it (case-insensitively). ok is false when the roster has no such
// contact.
func rosterContact(ctx context.Context, sess Session, jid string) (it xmppconn.RosterItem, ok bool, err error) {
	items, err := sess.Roster(ctx)
	if err != nil {
		return xmppconn.RosterItem{}, false, err
	}
	it, ok = findItem(items, jid)
	return it, ok, nil
}

// contactSet returns the bare JIDs of the user's roster, lowercased,
// whatever the subscription state.
func contactSet(ctx context.Context, sess Session) (map[string]bool, error) {
	items, err := sess.Roster(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(items))
	for _, it := range items {
		out[strings.ToLower(it.JID)] = true
	}
	return out, nil
}

// GetRoster serves GET /roster.
func (s *Server) GetRoster(c echo.Context) error {
	sess, ctx, cancel, err := s.xmppSession(c)
	if err != nil {
		return err
	}
	defer cancel()
	items, err := sess.Roster(ctx)
	if err != nil {
		return err
	}
	out := RosterEntities{Roster: make([]RosterItemEntity, 0, len(items))}
	for _, it := range items {
		out.Roster = append(out.Roster, rosterEntity(it))
	}
	return c.JSON(http.StatusOK, out)
}

// AddRosterItem serves POST /roster: a roster set, then the presence
// subscriptions subscriptionType asks for (RFC 6121 sections 3.1, 3.4).
func (s *Server) AddRosterItem(c echo.Context) error {
	body, err := readRosterItem(c)
	if err != nil {
		return err
	}
	jid, err := s.bareContact(body.Jid)
	if err != nil {
		return err
	}
	want := int32(0)
	if body.SubscriptionType != nil {
		want = *body.SubscriptionType
	}
	if want < 0 || want > 3 {
		return errorf(http.StatusBadRequest, "subscriptionType must be 0 to 3 when adding a contact")
	}
	sess, ctx, cancel, err := s.xmppSession(c)
	if err != nil {
		return err
	}
	defer cancel()
	if jid == sess.User() {
		return errorf(http.StatusBadRequest, "the user cannot be their own contact")
	}
	_, exists, err := rosterContact(ctx, sess, jid)
	if err != nil {
		return err
	}
	if exists {
		return errorf(http.StatusConflict, "the roster already has this contact")
	}
	it := xmppconn.RosterItem{JID: jid, Name: deref(body.Nickname)}
	if body.Groups != nil {
		it.Groups = *body.Groups
	}
	if err := sess.SetRosterItem(ctx, it); err != nil {
		return err
	}
	if err := sess.SetSubscription(ctx, jid, "none", subscriptionStates[want]); err != nil {
		return err
	}
	return c.NoContent(http.StatusOK)
}

// UpdateRosterItem serves PUT /roster/{jid}.
func (s *Server) UpdateRosterItem(c echo.Context, jidParam JIDString) error {
	jid, err := s.bareContact(string(jidParam))
	if err != nil {
		return err
	}
	body, err := readRosterItem(c)
	if err != nil {
		return err
	}
	if t := body.SubscriptionType; t != nil && (*t < -1 || *t > 3) {
		return errorf(http.StatusBadRequest, "subscriptionType must be -1 to 3")
	}
	if body.Jid != "" {
		bj, err := s.bareContact(body.Jid)
		if err != nil {
			return err
		}
		if bj != jid {
			return errorf(http.StatusBadRequest, "the jid in the body does not match the path")
		}
	}
	sess, ctx, cancel, err := s.xmppSession(c)
	if err != nil {
		return err
	}
	defer cancel()
	cur, ok, err := rosterContact(ctx, sess, jid)
	if err != nil {
		return err
	}
	if !ok {
		return errorf(http.StatusNotFound, "the roster has no such contact")
	}
	if body.SubscriptionType != nil && *body.SubscriptionType == -1 {
		if err := sess.RemoveRosterItem(ctx, cur.JID); err != nil {
			return err
		}
		return c.NoContent(http.StatusOK)
	}
	it := xmppconn.RosterItem{JID: cur.JID, Name: cur.Name, Groups: cur.Groups}
	if body.Nickname != nil {
		it.Name = *body.Nickname
	}
	if body.Groups != nil {
		it.Groups = *body.Groups
	}
	if err := sess.SetRosterItem(ctx, it); err != nil {
		return err
	}
	if body.SubscriptionType != nil {
		if err := sess.SetSubscription(ctx, cur.JID, cur.Subscription, subscriptionStates[*body.SubscriptionType]); err != nil {
			return err
		}
	}
	return c.NoContent(http.StatusOK)
}

// DeleteRosterItem serves DELETE /roster/{jid}.
func (s *Server) DeleteRosterItem(c echo.Context, jidParam JIDString) error {
	jid, err := s.bareContact(string(jidParam))
	if err != nil {
		return err
	}
	sess, ctx, cancel, err := s.xmppSession(c)
	if err != nil {
		return err
	}
	defer cancel()
	cur, ok, err := rosterContact(ctx, sess, jid)
	if err != nil {
		return err
	}
	if !ok {
		return errorf(http.StatusNotFound, "the roster has no such contact")
	}
	if err := sess.RemoveRosterItem(ctx, cur.JID); err != nil {
		if errors.Is(err, xmppconn.ErrItemNotFound) {
			return wrap(http.StatusNotFound, "the roster has no such contact", err)
		}
		return err
	}
	return c.NoContent(http.StatusOK)
}

// bestPresence picks the presence of the contact's most available
// resource: highest priority, then the most recent key order. ok is false
// when the session has seen the contact offline or not at all.
func bestPresence(ps []chatapi.Presence) (chatapi.Presence, bool) {
	if len(ps) == 0 {
		return chatapi.Presence{}, false
	}
	slices.SortFunc(ps, func(a, b chatapi.Presence) int {
		if a.Priority != b.Priority {
			return b.Priority - a.Priority
		}
		return strings.Compare(a.From, b.From)
	})
	return ps[0], true
}

// showOf is a presence's availability as the API's enum has it: a show
// value outside RFC 6121's list counts as plainly available.
func showOf(p chatapi.Presence) string {
	switch p.Show {
	case "chat", "away", "xa", "dnd":
		return p.Show
	}
	return "available"
}

// GetRosterPresence serves GET /presence/roster.
func (s *Server) GetRosterPresence(c echo.Context) error {
	sess, ctx, cancel, err := s.xmppSession(c)
	if err != nil {
		return err
	}
	defer cancel()
	items, err := sess.Roster(ctx)
	if err != nil {
		return err
	}
	out := RosterEntities{Roster: make([]RosterItemEntity, 0, len(items))}
	for _, it := range items {
		e := rosterEntity(it)
		show, status := "unavailable", ""
		if p, ok := bestPresence(sess.Presences(it.JID)); ok {
			show, status = showOf(p), p.Status
		}
		e.Show = ptr(show)
		if status != "" {
			e.Status = ptr(status)
		}
		out.Roster = append(out.Roster, e)
	}
	return c.JSON(http.StatusOK, out)
}

// ProbePresence serves GET /presence/{target}: the latest presence the
// session has seen from a contact the user is subscribed to.
func (s *Server) ProbePresence(c echo.Context, target JIDString) error {
	jid, err := s.bareContact(string(target))
	if err != nil {
		return err
	}
	sess, ctx, cancel, err := s.xmppSession(c)
	if err != nil {
		return err
	}
	defer cancel()
	if jid == sess.User() {
		// The user's own: what they set on any tab or device.
		show, status := sess.OwnPresence()
		if show == "" {
			show = "available"
		}
		out := PresenceEntity{Username: ptr(jid), Show: ptr(PresenceEntityShow(show))}
		if status != "" {
			out.Status = ptr(status)
		}
		return c.JSON(http.StatusOK, out)
	}
	it, ok, err := rosterContact(ctx, sess, jid)
	if err != nil {
		return err
	}
	if !ok || (it.Subscription != "to" && it.Subscription != "both") {
		return errorf(http.StatusForbidden, "the user is not subscribed to this contact's presence")
	}
	show, status := "unavailable", ""
	if p, ok := bestPresence(sess.Presences(it.JID)); ok {
		show, status = showOf(p), p.Status
	}
	out := PresenceEntity{Username: ptr(it.JID), Show: ptr(PresenceEntityShow(show))}
	if show == "unavailable" {
		out.LastSeen, status = s.lastSeen(ctx, sess, it.JID, status)
	}
	if status != "" {
		out.Status = ptr(status)
	}
	return c.JSON(http.StatusOK, out)
}

// lastSeen asks the server when the unavailable contact jid was last
// signed in (XEP-0012), and answers that time, to the second, with the
// status they left with when status is empty. Whatever the server does
// not say (an account never signed in, a server without it, a session
// that has signed in since: 0) is no time; a failure of the question is
// no failure of the presence read.
func (s *Server) lastSeen(ctx context.Context, sess Session, jid, status string) (*time.Time, string) {
	d, left, err := sess.LastActivity(ctx, jid)
	if err != nil {
		s.log.Debug("last activity not known", "user", sess.User(), "contact", jid, "err", err)
		return nil, status
	}
	if status == "" {
		status = left
	}
	if d <= 0 { // signed in, or gone within this second: the server counts whole seconds
		return nil, status
	}
	t := time.Now().Add(-d).UTC().Truncate(time.Second)
	return &t, status
}

// DeclineContactRequest serves POST /roster/{jid}/decline: the person's
// pending request to see the user's presence is declined (an unsubscribed
// presence), and every tab of the user hears of it (chatapi.request), since
// the XMPP server tells no client of the account.
func (s *Server) DeclineContactRequest(c echo.Context, jidParam JIDString) error {
	jid, sess, ctx, cancel, err := s.otherParty(c, jidParam, "the user cannot decline their own request")
	if err != nil {
		return err
	}
	defer cancel()
	if err := sess.DeclineSubscription(ctx, jid); err != nil {
		return err
	}
	s.tell(sess.User(), chatapi.Request{JID: jid, Answer: chatapi.RequestDeclined}) // on the owner (remote_deliver.go)
	return c.NoContent(http.StatusOK)
}

// otherParty is bareContact of the path's JID and xmppSession in one, for
// operations on someone other than the user: the user's own JID is 400
// with the message self. As with xmppSession, the caller must call cancel
// when done; after an error there is nothing to cancel.
func (s *Server) otherParty(c echo.Context, jidParam JIDString, self string) (string, Session, context.Context, context.CancelFunc, error) {
	jid, err := s.bareContact(string(jidParam))
	if err != nil {
		return "", nil, nil, nil, err
	}
	sess, ctx, cancel, err := s.xmppSession(c)
	if err != nil {
		return "", nil, nil, nil, err
	}
	if jid == sess.User() {
		cancel()
		return "", nil, nil, nil, errorf(http.StatusBadRequest, self)
	}
	return jid, sess, ctx, cancel, nil
}
