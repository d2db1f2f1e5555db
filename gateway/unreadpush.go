package gateway

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
)

// Pushes for what an open tab leaves unread. A push goes at once to a user
// with no open event stream (pushOffline); but a tab left open on a
// computer at home kept every push from the phone, however long its
// messages stayed unread. So a message worth a push (a one-to-one message,
// a mention in a room) that reaches open streams is pushed after all when
// its conversation is still unread PushConfig.UnreadAfter later: no tab
// showed it and no other client of the user read it (the gateway's read
// state, unread.go, which every tab and XMPP client of the user clears
// when they see it). A burst in one conversation is one push, of its
// newest message, UnreadAfter after the first.

// defaultUnreadAfter is PushConfig.UnreadAfter's zero: long enough for a
// person at the computer to notice the message, short enough that one
// who walked away hears of it.
const defaultUnreadAfter = 2 * time.Minute

// maxUnreadPushes bounds the conversations waiting for their check (a
// timer and a notification each); past it a message is not pushed later.
const maxUnreadPushes = 10_000

// unreadCheckTimeout bounds the read of the user's read state when a
// check is due.
const unreadCheckTimeout = 5 * time.Second

type unreadKey struct {
	user, peer string
	room       bool
}

// laterPush is one conversation's notification waiting for its check:
// the newest notification, replaced by each message of the burst.
type laterPush struct {
	timer *time.Timer
	n     NotificationEntity
	d     pushData
	topic string
}

// unreadPushes holds the checks that are due. Each timer's function is
// counted in wg from the moment it is set, so close can wait for those
// that run.
type unreadPushes struct {
	after time.Duration

	mu      sync.Mutex
	pending map[unreadKey]*laterPush
	closed  bool
	warned  time.Time // the last warning that the bound was reached
	wg      sync.WaitGroup
}

// pushIfUnread is deliver's hook for an event that reached open streams:
// a message worth a push starts (or joins) its conversation's check.
func (s *Server) pushIfUnread(user string, p chatapi.Payload) {
	u := s.push.later
	if u == nil || s.msg.unread == nil {
		return
	}
	if g, ok := p.(*chatapi.GroupChat); ok && g != nil {
		p = *g
	}
	// A room's message is every member's copy: only a mention goes on,
	// asked of the one room (not the copy of every room Rooms makes).
	var nick string
	if g, ok := p.(chatapi.GroupChat); ok {
		if g.Body == "" || g.Stamp != "" {
			return
		}
		room, _, _ := strings.Cut(g.From, "/")
		if sess, ok := s.sessions.Get(user); ok {
			nick = sess.RoomNick(strings.ToLower(room))
		}
		if nick == "" || !mentions(g.Body, nick) {
			return
		}
	}
	n, d, topic, ok := offlineNotification(user, s.cfg.MUCService, p, func() map[string]string {
		if g, ok := p.(chatapi.GroupChat); ok {
			room, _, _ := strings.Cut(g.From, "/")
			return map[string]string{strings.ToLower(room): nick}
		}
		return nil
	})
	if !ok || (d.Type != pushChat && d.Type != pushGroupChat) {
		return // an invitation has no read state to wait for
	}
	key := unreadKey{user: user, peer: d.From, room: d.Type == pushGroupChat}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		return
	}
	if lp := u.pending[key]; lp != nil {
		lp.n, lp.d, lp.topic = n, d, topic
		return
	}
	if len(u.pending) >= maxUnreadPushes {
		if now := time.Now(); now.Sub(u.warned) > time.Minute { // a flood logs once a minute
			u.warned = now
			s.log.Warn("push: too many conversations waiting for their unread check; not pushed later", "waiting", len(u.pending))
		}
		return
	}
	lp := &laterPush{n: n, d: d, topic: topic}
	u.pending[key] = lp
	u.wg.Add(1)
	lp.timer = time.AfterFunc(u.after, func() {
		defer u.wg.Done()
		s.checkUnread(key)
	})
}

// checkUnread is a check that is due: the conversation's notification is
// pushed when the user's read state still counts it unread.
func (s *Server) checkUnread(key unreadKey) {
	u := s.push.later
	u.mu.Lock()
	lp := u.pending[key]
	delete(u.pending, key)
	closed := u.closed
	u.mu.Unlock()
	if lp == nil || closed {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), unreadCheckTimeout)
	defer cancel()
	counts, err := s.msg.unread.List(ctx, key.user)
	if err != nil {
		s.log.Warn("push: read the unread counts", "user", key.user, "err", err)
		return
	}
	for _, c := range counts {
		if c.Peer == key.peer && c.Room == key.room {
			if c.Unread > 0 {
				s.log.Debug("push: still unread with a tab open", "user", key.user, "type", lp.d.Type)
				s.queuePush(key.user, lp.n, lp.d, lp.topic)
			}
			return
		}
	}
}

// close stops the checks not yet due and waits for those running.
func (u *unreadPushes) close() {
	if u == nil {
		return
	}
	u.mu.Lock()
	u.closed = true
	for k, lp := range u.pending {
		if lp.timer.Stop() {
			u.wg.Done()
		}
		delete(u.pending, k)
	}
	u.mu.Unlock()
	u.wg.Wait()
}
