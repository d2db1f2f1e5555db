package gateway

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"strings"
	"sync"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/webpush"
	"github.com/sparkgate/sparkgate/xmppadmin"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// The gateway as its own push app server (XEP-0357): a user's Web Push
// subscriptions reach them while the gateway holds their XMPP session
// (pushOffline, for events no tab took) and, through the user's server,
// when it holds none: after logout, after a restart with no one logged in,
// after the tokens expired. Every connection of a session enables push on
// the user's server with the user's node and secret (xmppconn's PushApp
// hook, pushRegistration below); ejabberd pushes only while that session
// is gone, so one message gives one notification. Its notifications come
// through xmppconn.RunPushComponent to HandlePushNotification.

// defaultPushBody is shown when the server sends no body (its
// include_body off).
const defaultPushBody = "New message"

// defaultAwayLimit is PushConfig.AwayLimit's default: the server's
// notifications one user without a session turns into Web Pushes per
// minute; the rest of a burst is dropped (the messages are in the
// archive). Notifications of one conversation merge anyway (the sender's
// collapse window); this bounds a burst spread over many conversations or
// rooms.
const defaultAwayLimit = 30

// pushAppOn reports whether the push app server is configured.
func (s *Server) pushAppOn() bool {
	return s.push.sender != nil && s.cfg.Push.Nodes != nil && s.cfg.Push.Service != ""
}

// pushRegistration is xmppconn's PushApp hook: a user with a Web Push
// subscription gets a node (made on first use) and push on; a user with a
// node and no subscription left gets push off, and the node is forgotten.
func (s *Server) pushRegistration(ctx context.Context, user string) (xmppconn.PushRegistration, bool, error) {
	if !s.pushAppOn() {
		return xmppconn.PushRegistration{}, false, nil
	}
	nodes := s.cfg.Push.Nodes
	subs, err := s.push.store.PushSubscriptions(ctx, user)
	if err != nil {
		return xmppconn.PushRegistration{}, false, err
	}
	n, err := nodes.PushNode(ctx, user)
	switch {
	case errors.Is(err, webpush.ErrNotFound) && len(subs) == 0:
		return xmppconn.PushRegistration{}, false, nil
	case errors.Is(err, webpush.ErrNotFound):
		n, err = nodes.AddPushNode(ctx, webpush.PushNode{User: user, Node: rand.Text(), Secret: rand.Text() + rand.Text()})
	}
	if err != nil {
		return xmppconn.PushRegistration{}, false, err
	}
	reg := xmppconn.PushRegistration{Service: s.cfg.Push.Service, Node: n.Node, Secret: n.Secret}
	if len(subs) == 0 {
		// Disabled on this connection; a later subscription makes a
		// new node.
		if err := nodes.DeletePushNode(ctx, user); err != nil {
			return xmppconn.PushRegistration{}, false, err
		}
		return reg, false, nil
	}
	return reg, true, nil
}

// updatePushApp re-applies the user's push registration on the user's
// live session, if any, after their subscriptions changed. A session that
// is not live applies it when it next connects.
func (s *Server) updatePushApp(ctx context.Context, user string) {
	if !s.pushAppOn() {
		return
	}
	sess, ok := s.sessions.Get(user)
	if !ok {
		return
	}
	if err := sess.UpdatePush(ctx); err != nil {
		s.log.Warn("push: registration not updated", "user", user, "err", err)
	}
}

// HandlePushNotification receives a notification of the user's server
// (from xmppconn.RunPushComponent; the server has been answered). One
// that is not from the gateway's XMPP domain, names an unknown node or
// carries the wrong secret is dropped; so is one for a user whose session
// the gateway holds, on this node or another (that session's events are
// pushed by pushOffline on its node).
// Otherwise the user's browsers get a notification with sender and body.
func (s *Server) HandlePushNotification(ctx context.Context, n xmppconn.PushNotification) error {
	if !s.pushAppOn() {
		return nil
	}
	if n.From != s.cfg.Domain {
		s.log.Warn("push: notification from another entity dropped", "from", n.From)
		return nil
	}
	node, err := s.cfg.Push.Nodes.PushNodeByNode(ctx, n.Node)
	if errors.Is(err, webpush.ErrNotFound) {
		s.log.Debug("push: notification for an unknown node dropped")
		return nil
	}
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare([]byte(node.Secret), []byte(n.Secret)) != 1 {
		s.log.Warn("push: notification with a wrong secret dropped", "user", node.User)
		return nil
	}
	if _, ok := s.sessions.Get(node.User); ok || s.heldByNode(ctx, node.User) {
		return nil // the session's own events are pushed by its node (pushOffline)
	}
	// A muted conversation (mute.go) or a muted stranger (strangers.go)
	// spends none of the user's budget.
	peer, _, _ := strings.Cut(strings.ToLower(n.Sender), "/")
	if err := s.silenced(node.User, pushData{Type: pushChat, From: peer, Sender: peer}); err != nil {
		s.log.Debug("push: notification dropped", "user", node.User, "why", err)
		return nil
	}
	if ok, _ := s.push.away.take(node.User); !ok {
		s.log.Debug("push: notification over the user's rate dropped", "user", node.User)
		return nil
	}
	body := n.Body
	if body == "" {
		body = defaultPushBody
	}
	if room, nick, ok := strings.Cut(n.Sender, "/"); ok && domainOf(room) == s.cfg.MUCService {
		return s.roomNotification(ctx, node.User, room, nick, body)
	}
	if !strings.Contains(n.Sender, "/") && s.isRoomAddress(peer) {
		// The room's own message: an invitation is pushed as the session's
		// would be (the strangers check asks about its inviter); anything
		// else a room says (a decline, a notice) is not.
		if inv, ok := roomInvitation(peer, n.Body); ok { // push_invitation.go
			s.pushOffline(node.User, inv)
		}
		return nil
	}
	s.pushOffline(node.User, chatapi.Chat{Type: chatapi.TypeChat, From: n.Sender, To: node.User, Body: body})
	return nil
}

// renewParallel bounds the short connections RenewPushRegistrations makes
// at once: each is a login on the XMPP server.
const renewParallel = 4

// RenewPushRegistrations enables push again on the server for every user
// with a node and no session in the gateway (on any node of a cluster: a
// session enables push on each connection), each on a short connection
// of its own (xmppconn.Manager.RenewPush). Run it each time the push
// component connects: ejabberd drops a registration whose notification
// failed, and every notification sent while the component was away (a
// gateway restart) failed. It returns how many were renewed; failures are
// logged and counted out, and ctx ends it early.
//
// A server that issues no login tokens (Prosody without the project's
// mod_sparkgate_token) cannot be logged in to without the user's
// password, so nothing is renewed there: its registrations stay until
// mod_cloud_notify drops one after 16 failed notifications in a row
// (push_max_errors), and a session enables push again each time it
// connects.
func (s *Server) RenewPushRegistrations(ctx context.Context) int {
	if !s.pushAppOn() {
		return 0
	}
	if !xmppadmin.IssuesTokens(s.cfg.Directory) {
		s.log.Info("push registrations not renewed: the XMPP server issues no login tokens")
		return 0
	}
	nodes, err := s.cfg.Push.Nodes.PushNodes(ctx)
	if err != nil {
		s.log.Warn("push: registrations not renewed", "err", err)
		return 0
	}
	var (
		mu      sync.Mutex
		renewed int
		wg      sync.WaitGroup
		slots   = make(chan struct{}, renewParallel)
	)
	for _, n := range nodes {
		if _, live := s.sessions.Get(n.User); live || s.heldByNode(ctx, n.User) {
			continue // its session, here or on another node, enabled push already
		}
		local, domain, ok := cutJID(n.User)
		if !ok || domain != s.cfg.Domain {
			continue
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			reg := xmppconn.PushRegistration{Service: s.cfg.Push.Service, Node: n.Node, Secret: n.Secret}
			if err := s.sessions.RenewPush(ctx, local, reg); err != nil {
				s.log.Info("push: registration not renewed", "user", n.User, "err", err)
				return
			}
			mu.Lock()
			renewed++
			mu.Unlock()
		}()
	}
	wg.Wait()
	s.log.Info("push registrations renewed", "renewed", renewed, "nodes", len(nodes))
	return renewed
}

// heldByNode reports whether another gateway node holds user's session
// (the user's lease, with an Ownership that tells its holder); false when
// it cannot tell.
func (s *Server) heldByNode(ctx context.Context, user string) bool {
	h, ok := s.cfg.Ownership.(holder)
	if !ok {
		return false
	}
	node, err := h.Holder(ctx, user)
	return err == nil && node != ""
}
