package xmppconn

import (
	"context"
	"strings"
	"time"
)

// resendWindow is how far back, from a connection loss, the messages the
// user wrote are sent again on the next connection. It covers what a busy
// server may still hold in its queues when it dies.
const resendWindow = 10 * time.Second

// maxOutbox bounds the messages kept for sending again; past it the oldest
// are forgotten.
const maxOutbox = 1000

// outbox keeps the messages the user recently wrote, so that a connection
// loss cannot lose them. A write to a TCP socket succeeds as soon as the
// bytes are in the kernel's buffer, and a server that reads a message
// still hands it between its own processes (the sender's stream, the room,
// the receiver's stream, each archiving it) before anyone has it: when the
// server dies (a crash, a SIGKILL), messages the gateway accepted vanish
// on the way. Nothing in XMPP tells the sender when a one-to-one message
// reached the receiver, so after a loss the session sends again every
// message written on the lost connection within resendWindow, first thing
// on the next connection. A room message leaves the outbox as soon as the
// room reflects it (the room has archived and broadcast it). A receiver
// that got the first copy drops the second by its origin-id (XEP-0359), as
// Session.emit does; clients that ignore origin-ids may show it twice.
//
// The fields are guarded by Session.mu.
type outbox struct {
	msgs []*outMsg // in the order written
}

// outMsg is one message kept for sending again.
type outMsg struct {
	id   string // the message id, which is also its origin-id
	room string // the room's bare JID for a groupchat message
	raw  []byte
	conn *Conn     // the connection it was written on
	at   time.Time // when it was written
}

// keep writes raw, a message the user wrote (SendChat, SendGroupChat),
// on c and keeps it in the outbox: its id (and origin-id) is id, and room
// is the room's bare JID for a groupchat message. Once it is kept it is
// the session's to deliver: a failure of the connection under the write
// is not the caller's error. raw comes from this package's own writers
// and is not parsed again.
func (s *Session) keep(ctx context.Context, c *Conn, raw []byte, id, room string) error {
	m := &outMsg{id: id, room: room, raw: raw, conn: c}
	s.mu.Lock()
	// A connection that has ended already, before the session has taken
	// it down, is refused like a missing one: kept, the message would be
	// answered as sent while the server is known to be gone, and go out
	// only once the session connects again, or never if the session ends
	// first (a logout, its idle timeout, a gateway restart: the outbox is
	// memory). Refused, the client knows to keep it.
	if s.conn != c || c.Err() != nil {
		s.mu.Unlock()
		return ErrOffline
	}
	m.at = time.Now()
	s.out.add(m)
	s.mu.Unlock()

	if err := c.write(ctx, raw); err != nil {
		select {
		case <-c.Done():
			// The connection is gone: the message goes out on the next
			// one, or now if that is already up.
			s.resendLate(m)
			return nil
		default:
			// Never written (the caller gave up first): forget it.
			s.mu.Lock()
			s.out.remove(func(o *outMsg) bool { return o == m })
			s.mu.Unlock()
			return err
		}
	}
	return nil
}

// add keeps m and forgets what fell out of the window or past the bound.
// The forgotten ones are cut off the front of the slice, not copied away:
// a busy user's outbox stays full, and copying its 1,000 pointers into a
// new array on every message was the largest part of a send's own CPU
// in a profile (8 KiB allocated per message). Cut, the front's slots are
// cleared so the messages can be collected, and append copies the live
// ones into a new array only when the slice reaches its capacity.
func (o *outbox) add(m *outMsg) {
	o.msgs = append(o.msgs, m)
	old := m.at.Add(-resendWindow)
	drop := max(len(o.msgs)-maxOutbox, 0)
	for drop < len(o.msgs) && o.msgs[drop].at.Before(old) {
		drop++
	}
	if drop > 0 {
		clear(o.msgs[:drop])
		o.msgs = o.msgs[drop:]
	}
}

func (o *outbox) remove(drop func(*outMsg) bool) {
	keep := o.msgs[:0]
	for _, m := range o.msgs {
		if !drop(m) {
			keep = append(keep, m)
		}
	}
	clear(o.msgs[len(keep):])
	o.msgs = keep
}

// reflected takes a room message out of the outbox when the room reflects
// it back to the user (XEP-0045 section 7.4: the room sends the message to
// every occupant, the sender included).
func (s *Session) reflected(st *Stanza) {
	if st.Type != "groupchat" || st.OriginID == "" {
		return
	}
	room, nick, _ := strings.Cut(st.From, "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.rooms[room]; !ok || r.nick != nick {
		return
	}
	s.out.remove(func(o *outMsg) bool { return o.room == room && o.id == st.OriginID })
}

// resendLate handles a message whose write failed with its connection: if
// the session has already reconnected (and resent its outbox without it),
// it sends it on the new connection now; otherwise the next reconnection
// will.
func (s *Session) resendLate(m *outMsg) {
	s.mu.Lock()
	nc, old := s.conn, m.conn
	s.mu.Unlock()
	if nc == nil || nc == old {
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	if err := s.resendOutbox(ctx, nc, m.at.Add(time.Second)); err != nil {
		s.m.log.Debug("send a message again", "user", s.user, "err", err)
	}
}

// resendOutbox sends again, on a new connection c, the messages written on
// another connection within resendWindow before lostAt; the session does
// this before it hands c to anyone. The messages then count as written on
// c.
func (s *Session) resendOutbox(ctx context.Context, c *Conn, lostAt time.Time) error {
	from := lostAt.Add(-resendWindow)
	s.mu.Lock()
	var msgs []*outMsg
	for _, m := range s.out.msgs {
		if m.conn != c && !m.at.Before(from) {
			msgs = append(msgs, m)
		}
	}
	s.mu.Unlock()
	for _, m := range msgs {
		if err := c.write(ctx, m.raw); err != nil {
			return err
		}
		s.mu.Lock()
		m.conn = c
		s.mu.Unlock()
	}
	if len(msgs) > 0 {
		s.m.log.Info("sent again the messages written just before the connection was lost",
			"user", s.user, "messages", len(msgs))
	}
	return nil
}

// originKey is the key by which a session recognizes a message it received
// twice because its sender sent it again (see outbox): the sender's
// address (bare, or the room occupant's) and the origin-id. Empty when the
// message has no origin-id.
func originKey(st *Stanza) string {
	if st == nil || st.OriginID == "" {
		return ""
	}
	from := st.From
	if st.Type != "groupchat" {
		from = bareJID(from)
	}
	return "origin " + from + " " + st.OriginID
}
