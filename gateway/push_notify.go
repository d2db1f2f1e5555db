package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/webpush"
)

// Types of pushData, the kinds of notification the gateway sends.
const (
	pushChat       = "chat"       // a one-to-one message (offline delivery)
	pushGroupChat  = "groupchat"  // a room message that mentions the user
	pushInvitation = "invitation" // a room invitation
	pushMessage    = "message"    // POST /webpush/message
	pushNotify     = "notify"     // POST /webpush/notify
)

// Action names a notification offers (the reference's webpush.message is
// accepted as reply).
const (
	actionReply     = "reply"
	actionOpen      = "open"
	actionReference = "webpush.message"
)

// maxPushBody bounds the body text put in a notification, in bytes; a
// longer message is cut (the payload must fit webpush.MaxPayload).
const maxPushBody = 1500

// pushData is the JSON inside a notification's data string: which
// conversation it is about. The service worker posts it back with the
// action, and the action token is bound to it.
type pushData struct {
	Type string `json:"type"`
	// From is the bare JID of the sender (chat, message, notify) or of
	// the room (groupchat, invitation).
	From string `json:"from"`
	// Data is the sender's own data of POST /webpush/notify.
	Data string `json:"data,omitempty"`
	// Sender, for a message or an invitation, is the person whose it is
	// (the inviter), for the strangers check (strangers.go); not sent.
	Sender string `json:"-"`
}

// actionPurpose is the purpose of the action token of a notification: it
// binds the token to the conversation, so that a reply can only go where
// the notification came from.
func actionPurpose(typ, from string) string { return "push-action " + typ + " " + from }

// pushPayload builds a notification's payload: n with the data and a new
// action token for user. It fails with 400 when the result does not fit
// one push message.
func (s *Server) pushPayload(ctx context.Context, user string, n NotificationEntity, d pushData) ([]byte, error) {
	data, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	tok, _, err := s.tokens.IssuePurpose(ctx, user, actionPurpose(d.Type, d.From), s.cfg.Push.ActionTTL)
	if err != nil {
		return nil, err
	}
	n.Data, n.Token = ptr(string(data)), &tok
	if n.Icon == nil && s.cfg.Push.Icon != "" {
		n.Icon = ptr(s.cfg.Push.Icon)
	}
	payload, err := json.Marshal(n)
	if err != nil {
		return nil, err
	}
	if len(payload) > webpush.MaxPayload {
		return nil, errorf(http.StatusBadRequest, fmt.Sprintf("the notification does not fit a push message (%d bytes with the gateway's fields, at most %d)", len(payload), webpush.MaxPayload))
	}
	return payload, nil
}

// replyActions are the actions of a notification one can answer.
func replyActions() *[]NotificationActionEntity {
	return &[]NotificationActionEntity{
		{Action: ptr(actionReply), Type: ptr("text"), Title: ptr("Reply"), Placeholder: ptr("Reply…")},
		{Action: ptr(actionOpen), Type: ptr("button"), Title: ptr("Open")},
	}
}

// cutBody shortens a message body to maxPushBody bytes of whole runes.
func cutBody(b string) string {
	if len(b) <= maxPushBody {
		return b
	}
	b = b[:maxPushBody]
	for len(b) > 0 && !utf8.ValidString(b) {
		b = b[:len(b)-1]
	}
	return b + "…"
}

// pushOffline is deliver's hook for a user with no open event stream: a
// one-to-one message, a room message that mentions the user's nick, or a
// room invitation becomes a notification to the user's browsers. It runs
// on the session's goroutine and never blocks (Sender.Send only queues;
// the payload is built later on the sender's goroutine).
func (s *Server) pushOffline(user string, p chatapi.Payload) {
	if s.push.sender == nil {
		return
	}
	n, d, topic, ok := offlineNotification(user, s.cfg.MUCService, p, func() map[string]string {
		if sess, ok := s.sessions.Get(user); ok {
			return sess.Rooms()
		}
		return nil
	})
	if !ok {
		return
	}
	s.queuePush(user, n, d, topic)
}

// queuePush hands a notification for user to the sender. The payload,
// with its action token, is made on the sender's goroutine and only if
// the user has a subscription; it never blocks.
func (s *Server) queuePush(user string, n NotificationEntity, d pushData, topic string) {
	err := s.push.sender.Send(user, webpush.Notification{
		Build: func() ([]byte, error) {
			if err := s.silenced(user, d); err != nil { // strangers.go; here, off the session's goroutine
				return nil, err
			}
			n := previewed(n, d, s.pushPreview(user)) // pushpreview.go
			return s.pushPayload(context.Background(), user, n, d)
		},
		TTL:     s.cfg.Push.TTL,
		Urgency: webpush.UrgencyHigh,
		Topic:   topic,
	})
	if err != nil {
		s.log.Warn("push: queue notification", "user", user, "type", d.Type, "err", err)
	}
}

// offlineNotification decides whether p, an event for user, is worth a
// push, and builds the notification, its data and its collapse topic.
// mucService is the group chat service; rooms returns the rooms the user
// is in and the user's nick in each.
func offlineNotification(user, mucService string, p chatapi.Payload, rooms func() map[string]string) (NotificationEntity, pushData, string, bool) {
	switch v := p.(type) {
	case *chatapi.Chat:
		return offlineNotification(user, mucService, *v, rooms)
	case *chatapi.GroupChat:
		return offlineNotification(user, mucService, *v, rooms)
	case *chatapi.Invitation:
		return offlineNotification(user, mucService, *v, rooms)
	case chatapi.Chat:
		// Not our own messages from another client, not history (delayed
		// or flushed from offline storage at login), not headlines.
		if v.Sent || v.Body == "" || v.Stamp != "" || (v.Type != chatapi.TypeChat && v.Type != chatapi.TypeNormal) {
			return NotificationEntity{}, pushData{}, "", false
		}
		from, resource, _ := strings.Cut(v.From, "/")
		from = strings.ToLower(from)
		if from == "" || from == user {
			return NotificationEntity{}, pushData{}, "", false
		}
		// A message from a room itself (a mediated invitation's text, a
		// decline, a notice) is not a conversation; the invitation has
		// its own event.
		subject := from
		if _, domain, _ := strings.Cut(from, "@"); mucService != "" && domain == strings.ToLower(mucService) {
			if resource == "" {
				return NotificationEntity{}, pushData{}, "", false
			}
			// A private message in a room: the reply goes to the occupant,
			// who is known by their nick there.
			subject = resource + " in " + localPart(from) + " (private)"
			from += "/" + resource
		}
		n := NotificationEntity{Subject: ptr(subject), Body: ptr(cutBody(v.Body)), Actions: replyActions()}
		return n, pushData{Type: pushChat, From: from, Sender: from}, "chat " + from, true
	case chatapi.GroupChat:
		if v.Body == "" || v.Stamp != "" {
			return NotificationEntity{}, pushData{}, "", false
		}
		room, nick, _ := strings.Cut(v.From, "/")
		room = strings.ToLower(room)
		mine := rooms()[room]
		if mine == "" || nick == mine || !mentions(v.Body, mine) {
			return NotificationEntity{}, pushData{}, "", false
		}
		n := NotificationEntity{
			Subject: ptr(nick + " in " + localPart(room)),
			Body:    ptr(cutBody(v.Body)),
			Actions: replyActions(),
		}
		return n, pushData{Type: pushGroupChat, From: room}, "muc " + room, true
	case chatapi.Invitation:
		room := strings.ToLower(v.Room)
		if room == "" || v.Stamp != "" { // not history: told once, when it came
			return NotificationEntity{}, pushData{}, "", false
		}
		inviter := v.Inviter
		if inviter == "" {
			inviter = v.From
		}
		who := localPart(inviter)
		if b, nick, ok := strings.Cut(inviter, "/"); ok && strings.EqualFold(b, room) && mucService != "" && strings.EqualFold(domainOf(room), mucService) {
			who = nick // a room that hides its occupants' JIDs names the inviter so
		}
		body := who + " invites you to " + localPart(room)
		if v.Reason != "" {
			body += ": " + v.Reason
		}
		n := NotificationEntity{
			Subject: ptr("Invitation to " + localPart(room)),
			Body:    ptr(cutBody(body)),
			Actions: &[]NotificationActionEntity{{Action: ptr(actionOpen), Type: ptr("button"), Title: ptr("Open")}},
		}
		return n, pushData{Type: pushInvitation, From: room, Sender: bareJID(inviter)}, "invite " + room, true
	}
	return NotificationEntity{}, pushData{}, "", false
}

// mentions reports whether body names nick as a word of its own (case
// folded): "hi bob" and "@bob:" mention bob, "bobcat" does not.
func mentions(body, nick string) bool {
	if nick == "" {
		return false
	}
	b, n := strings.ToLower(body), strings.ToLower(nick)
	for i := 0; ; {
		j := strings.Index(b[i:], n)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(n)
		before, _ := utf8.DecodeLastRuneInString(b[:start])
		after, _ := utf8.DecodeRuneInString(b[end:])
		if (start == 0 || !isWordRune(before)) && (end == len(b) || !isWordRune(after)) {
			return true
		}
		i = start + 1
	}
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' }

// pushTarget resolves the target of notify/message and checks that the
// caller may push to it: 404 for an unknown user, 403 for one not in the
// caller's roster (admins may push to anyone).
func (s *Server) pushTarget(c echo.Context, target Target) (string, error) {
	jid, err := toJID(string(target), s.cfg.Domain)
	if err != nil {
		return "", errorf(http.StatusBadRequest, err.Error())
	}
	if strings.Contains(jid, "/") {
		return "", errorf(http.StatusBadRequest, "the target is a user: a bare JID or a username")
	}
	local, domain, ok := cutJID(jid)
	if !ok || domain != s.cfg.Domain {
		return "", errorf(http.StatusNotFound, "no such user on this server")
	}
	ctx := c.Request().Context()
	exists, err := s.dir.Exists(ctx, local)
	if err != nil {
		return "", err
	}
	if !exists {
		return "", errorf(http.StatusNotFound, "no such user")
	}
	user := claimsOf(c).Subject
	if s.push.admins[user] {
		return jid, nil
	}
	sess, err := s.session(c)
	if err != nil {
		return "", err
	}
	contacts, err := contactSet(ctx, sess)
	if err != nil {
		return "", err
	}
	if !contacts[jid] {
		return "", errorf(http.StatusForbidden, "the target is not in your roster")
	}
	return jid, nil
}

// maxNotification bounds a NotificationEntity body; its fields are bounded
// by the spec, and the pushed payload by webpush.MaxPayload.
const maxNotification = 64 << 10

// SendPushNotification serves POST /webpush/notify/{target}.
func (s *Server) SendPushNotification(c echo.Context, target Target) error {
	if err := s.pushEnabled(); err != nil {
		return err
	}
	raw, err := io.ReadAll(io.LimitReader(c.Request().Body, maxNotification+1))
	if err != nil {
		return errorf(http.StatusBadRequest, "the request body could not be read")
	}
	if len(raw) > maxNotification {
		return errorf(http.StatusBadRequest, "the notification does not fit a push message")
	}
	var n NotificationEntity
	if err := json.Unmarshal(raw, &n); err != nil {
		return errorf(http.StatusBadRequest, "the notification is not valid JSON")
	}
	jid, err := s.pushTarget(c, target)
	if err != nil {
		return err
	}
	from := claimsOf(c).Subject
	d := pushData{Type: pushNotify, From: from}
	if n.Data != nil {
		d.Data = *n.Data
	}
	n.Token = nil
	return s.pushTo(c, jid, n, d)
}

// SendPushMessage serves POST /webpush/message/{target}.
func (s *Server) SendPushMessage(c echo.Context, target Target) error {
	if err := s.pushEnabled(); err != nil {
		return err
	}
	text, err := readText(c.Request(), 4*2048)
	if err != nil {
		return err
	}
	if text == "" || utf8.RuneCountInString(text) > 2048 {
		return errorf(http.StatusBadRequest, "the message must be 1 to 2048 characters")
	}
	jid, err := s.pushTarget(c, target)
	if err != nil {
		return err
	}
	from := claimsOf(c).Subject
	if s.muted(jid, from) { // the sender is not told: a mute is the user's own business
		return c.NoContent(http.StatusOK)
	}
	d := pushData{Type: pushMessage, From: from}
	n := NotificationEntity{Subject: ptr(localPart(from)), Body: ptr(text), Actions: replyActions()}
	return s.pushTo(c, jid, previewed(n, d, s.pushPreview(jid)), d)
}

// pushTo queues n for every subscription of jid, within the caller's
// rate limit.
func (s *Server) pushTo(c echo.Context, jid string, n NotificationEntity, d pushData) error {
	if ok, wait := s.push.limiter.take(claimsOf(c).Subject); !ok {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		return errorf(http.StatusTooManyRequests, "too many push notifications; try again later")
	}
	payload, err := s.pushPayload(c.Request().Context(), jid, n, d)
	if err != nil {
		return err
	}
	err = s.push.sender.Send(jid, webpush.Notification{Payload: payload, TTL: s.cfg.Push.TTL, Urgency: webpush.UrgencyNormal})
	switch err {
	case nil:
		return c.NoContent(http.StatusOK)
	case webpush.ErrQueueFull:
		c.Response().Header().Set("Retry-After", "5")
		return wrap(http.StatusTooManyRequests, "too many notifications waiting; try again later", err)
	case webpush.ErrTooLarge:
		return wrap(http.StatusBadRequest, "the notification does not fit a push message", err)
	}
	return err
}
