package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/webpush"
)

// PushConfig configures Web Push. The zero value switches it off: the
// web_push operations answer 501 and nothing is pushed.
type PushConfig struct {
	// Sender delivers the notifications. The caller owns it and closes it
	// after the Server. Nil switches Web Push off.
	Sender *webpush.Sender
	// Store keeps the subscriptions; required with Sender (the Sender's
	// own store).
	Store webpush.Store
	// InsecureHosts are push endpoint hosts ("host" or "host:port")
	// accepted over plain http, for tests. Empty means https only.
	InsecureHosts []string
	// Admins are the users (bare JIDs, or usernames of Domain) that may
	// push to any user and see every subscriber, in addition to
	// UsersConfig.Admins.
	Admins []string
	// ActionTTL is the lifetime of the action token in a notification;
	// zero means 1 hour. It is capped at the access token lifetime.
	ActionTTL time.Duration
	// TTL is how long a push service keeps an undelivered notification;
	// zero means webpush.DefaultTTL.
	TTL time.Duration
	// Icon is the URL of the icon shown with gateway notifications; empty
	// means none (the service worker picks its own).
	Icon string
	// MaxSubscriptions bounds the subscriptions of one user; zero means 20.
	MaxSubscriptions int
	// Service is the JID of the push app server component (XEP-0357
	// over XEP-0114, push_app.go), e.g. push.example.org; with Nodes, users
	// with a subscription get notifications while they have no session.
	// Empty switches that off: only events of a session the gateway holds
	// are pushed.
	Service string
	// Nodes keeps each user's push node and secret; required with
	// Service.
	Nodes webpush.NodeStore
	// AwayLimit bounds the pushes per minute one user without a session
	// gets from the server's notifications (the rest of a burst is
	// dropped); zero means 30, negative means no limit.
	AwayLimit int
	// Rooms, with Service, keeps what each user hears of the rooms they
	// joined while away (MucSub, roompush.go); nil means rooms never
	// notify a user without a session.
	Rooms webpush.RoomPushStore
	// RateLimit bounds the POST /webpush/notify and /webpush/message calls
	// of one user per minute (429 beyond); zero means 30, negative means
	// no limit.
	RateLimit int
	// UnreadAfter is how long a message worth a push that reached an open
	// tab may stay unread before it is pushed all the same (unreadpush.go;
	// needs the read state, MessagingConfig.Unread); zero means 2 minutes,
	// negative never.
	UnreadAfter time.Duration
	// Attempts, when set, keeps the budgets of RateLimit and AwayLimit,
	// so that gateways sharing it share them (ejabberd hands a user's
	// notifications to any node's component, and a user's REST calls may
	// reach any node); nil keeps them in this process's memory.
	Attempts AttemptStore
}

// pushState is the Server's state for PushConfig.
type pushState struct {
	sender  *webpush.Sender
	later   *unreadPushes // the checks of messages an open tab left unread (unreadpush.go)
	store   webpush.Store
	admins  map[string]bool
	actions sync.Mutex // makes verify-then-revoke of an action token atomic
	// limiter spends the notify and message calls of each user.
	limiter attemptLimiter
	// away spends the notifications of users without a session
	// (push_app.go), so that a burst cannot flood their browsers.
	away attemptLimiter
}

func (s *Server) initPush() error {
	pc := &s.cfg.Push
	if pc.Sender == nil {
		return nil
	}
	if pc.Store == nil {
		return errors.New("PushConfig.Store is nil")
	}
	if pc.Service != "" && (pc.Nodes == nil || !canonicalDomain(pc.Service)) {
		return fmt.Errorf("PushConfig.Service %q needs Nodes and must be a domain in canonical form", pc.Service)
	}
	if pc.ActionTTL <= 0 {
		pc.ActionTTL = time.Hour
	}
	pc.ActionTTL = min(pc.ActionTTL, s.tokens.Lifetime())
	if pc.MaxSubscriptions <= 0 {
		pc.MaxSubscriptions = 20
	}
	if pc.RateLimit == 0 {
		pc.RateLimit = 30
	}
	if pc.AwayLimit == 0 {
		pc.AwayLimit = defaultAwayLimit
	}
	s.push.limiter = perMinute(pc.RateLimit, pc.Attempts, "push:", time.Now, s.log, false)
	// A store that fails loses no notification of the user's: the budget
	// is a courtesy to their browser, not a guard (fail open).
	s.push.away = perMinute(pc.AwayLimit, pc.Attempts, "away:", time.Now, s.log, true)
	s.push.sender = pc.Sender
	if after := pc.UnreadAfter; after >= 0 {
		if after == 0 {
			after = defaultUnreadAfter
		}
		s.push.later = &unreadPushes{after: after, pending: make(map[unreadKey]*laterPush)}
	}
	s.push.store = pc.Store
	s.push.admins = make(map[string]bool, len(pc.Admins)+len(s.cfg.Users.Admins))
	for _, a := range slices.Concat(pc.Admins, s.cfg.Users.Admins) {
		jid, err := toJID(strings.TrimSpace(a), s.cfg.Domain)
		if err != nil || strings.Contains(jid, "/") {
			return fmt.Errorf("push: admin %q is not a bare JID or a username", a)
		}
		s.push.admins[jid] = true
	}
	return nil
}

// pushEnabled returns the 501 of a gateway without Web Push.
func (s *Server) pushEnabled() error {
	if s.push.sender == nil {
		return errorf(http.StatusNotImplemented, "Web Push is not configured on this gateway")
	}
	return nil
}

// VAPIDPublicKey returns the gateway's VAPID public key, or "" when Web
// Push is off. GET /config/global reports it too.
func (s *Server) VAPIDPublicKey(context.Context) (string, error) {
	if s.push.sender == nil {
		return "", nil
	}
	return s.push.sender.PublicKey(), nil
}

// GetVapidKey serves GET /webpush/vapidkey.
func (s *Server) GetVapidKey(c echo.Context) error {
	if err := s.pushEnabled(); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, PublicKey{PublicKey: s.push.sender.PublicKey()})
}

// maxSubscriptionBody bounds a PushSubscription body (the spec's text/plain
// limit; the JSON schema's field limits are smaller).
const maxSubscriptionBody = 8192

// PutPushSubscription serves PUT /webpush/subscribe/{resource}: the body is
// the browser's PushSubscription JSON, as application/json or text/plain.
func (s *Server) PutPushSubscription(c echo.Context, resource string) error {
	if err := s.pushEnabled(); err != nil {
		return err
	}
	raw, err := io.ReadAll(io.LimitReader(c.Request().Body, maxSubscriptionBody+1))
	if err != nil {
		return errorf(http.StatusBadRequest, "the request body could not be read")
	}
	if len(raw) > maxSubscriptionBody {
		return errorf(http.StatusRequestEntityTooLarge, "the subscription is larger than 8192 bytes")
	}
	sub, err := webpush.ParseSubscription(raw, s.cfg.Push.InsecureHosts)
	if err != nil {
		return wrap(http.StatusBadRequest, strings.TrimPrefix(err.Error(), "webpush: "), err)
	}
	cl := claimsOf(c)
	user := cl.Subject
	// The login is kept with it: signing that login out from another
	// device (DELETE /logins/{id}) removes its subscriptions.
	sub.User, sub.Resource, sub.Login = user, resource, cl.Family
	ctx := c.Request().Context()
	have, err := s.push.store.PushSubscriptions(ctx, user)
	if err != nil {
		return err
	}
	if len(have) >= s.cfg.Push.MaxSubscriptions &&
		!slices.ContainsFunc(have, func(h webpush.Subscription) bool { return h.Resource == resource }) {
		return errorf(http.StatusForbidden, "too many push subscriptions; remove one first")
	}
	if err := s.push.store.PutPushSubscription(ctx, sub); err != nil {
		return err
	}
	s.updatePushApp(ctx, user)
	s.log.Info("push subscription stored", "sub", sub)
	return c.NoContent(http.StatusOK)
}

// DeletePushSubscription serves DELETE /webpush/subscribe/{resource}.
func (s *Server) DeletePushSubscription(c echo.Context, resource string) error {
	if err := s.pushEnabled(); err != nil {
		return err
	}
	user := claimsOf(c).Subject
	err := s.push.store.DeletePushSubscription(c.Request().Context(), user, resource)
	if errors.Is(err, webpush.ErrNotFound) {
		return wrap(http.StatusNotFound, "no push subscription under this resource", err)
	}
	if err != nil {
		return err
	}
	s.updatePushApp(c.Request().Context(), user)
	return c.NoContent(http.StatusOK)
}

// ListPushSubscribers serves GET /webpush/subscribers: the caller's roster
// contacts that have a subscription (everyone's for an admin).
func (s *Server) ListPushSubscribers(c echo.Context) error {
	if err := s.pushEnabled(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	user := claimsOf(c).Subject
	all, err := s.push.store.PushSubscribers(ctx)
	if err != nil {
		return err
	}
	var keep func(string) bool
	if s.push.admins[user] {
		keep = func(string) bool { return true }
	} else {
		sess, err := s.session(c)
		if err != nil {
			return err
		}
		contacts, err := contactSet(ctx, sess)
		if err != nil {
			return err
		}
		keep = func(j string) bool { return contacts[j] }
	}
	out := UserEntities{Users: []UserEntity{}}
	for _, j := range all {
		local, domain, ok := cutJID(j)
		if !ok || domain != s.cfg.Domain || !keep(j) {
			continue
		}
		name := local
		out.Users = append(out.Users, UserEntity{Username: &local, Name: &name})
	}
	return c.JSON(http.StatusOK, out)
}

// forgetPushSubscriptions removes every push subscription of user (none
// without Web Push).
func (s *Server) forgetPushSubscriptions(ctx context.Context, user string) error {
	st := s.cfg.Push.Store
	if st == nil {
		return nil
	}
	subs, err := st.PushSubscriptions(ctx, user)
	if err != nil {
		return err
	}
	for _, sub := range subs {
		if err := st.DeletePushSubscription(ctx, user, sub.Resource); err != nil && !errors.Is(err, webpush.ErrNotFound) {
			return err
		}
	}
	return nil
}
