package xmppconn

import (
	"context"
	"crypto/rand"
	"encoding/xml"
	"errors"
	"hash/maphash"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gosrc.io/xmpp/stanza"

	"github.com/sparkgate/sparkgate/chatapi"
)

// nsRSM is XEP-0059 result set management, which pages MAM queries.
const nsRSM = "http://jabber.org/protocol/rsm"

// catchUpPage is how many archived messages one MAM page asks for.
const catchUpPage = 100

// catchUpMargin is how far before a connection began (or was lost) the
// archive catch-up looks. A message in flight while the user's connection
// comes up can be archived by the server but neither delivered live nor
// kept offline (seen with ejabberd 23.01); what the archive returns twice
// is dropped by archive id.
const catchUpMargin = 30 * time.Second

// maxPendingLive bounds the live messages held back while the archive
// catch-up runs; past it they are delivered at once (order may then mix
// with the catch-up, nothing is lost).
const maxPendingLive = 4096

// Session is one user's XMPP session held by the gateway. It survives
// connection losses: it reconnects with backoff and jitter, restores
// presence and joined rooms, and catches up through the archive (XEP-0313)
// on what arrived meanwhile, so no one-to-one or room message is lost. Its
// methods are safe for concurrent use.
type Session struct {
	m     *Manager
	user  string // bare JID
	local string

	ctx    context.Context // ends when the session ends
	cancel context.CancelFunc
	done   chan struct{} // closed when the session has finished
	// closedOnEnd is closed once the connection has been closed because
	// the session ended (Manager.Open's AfterFunc); finish waits for it.
	closedOnEnd chan struct{}

	mu         sync.Mutex
	conn       *Conn // nil while reconnecting
	reason     string
	show       string
	status     string
	rooms      map[string]*room
	joining    map[string]bool                        // rooms being entered: occupants go into one snapshot (roomstate.go)
	presences  map[string]map[string]chatapi.Presence // bare JID → resource → presence
	tokens     map[string]time.Time                   // token id → expiry
	password   string                                 // kept for reconnects (keptpassword.go), only with KeepPassword
	lastUse    time.Time                              // the last use by anyone: IdleTimeout counts from it
	seenAt     time.Time                              // the last sign of the user: AwayAfter counts from it (away.go)
	away       bool                                   // shown away for a while (xa) since seenAt (away.go)
	waiters    map[*waiter]struct{}
	collectors map[string]*collector // MAM query id → results
	out        outbox                // messages the user wrote lately, to send again after a loss
	profile    *ownProfile           // the user's vCard name and email, once read (ownprofile.go)

	position atomic.Pointer[string] // lastArchiveID, for other goroutines (position.go)
	rawMode  atomic.Int32           // rawUndecided, rawWanted or rawUnwanted (rawwanted.go)

	// Owned by whoever holds runMu: the reader of the live connection
	// (inline.go) while it handles a stanza, the catch-up goroutine as it
	// reports, drive as it hands a new connection over.
	runMu         sync.Mutex
	lastArchiveID string
	connectedAt   time.Time
	seen          *idSet
	catching      *catchUp
	pendingLive   []*Stanza
}

type room struct {
	nick, password string
	lastSeen       time.Time
	lastID         string // the room archive's id of the last message seen
	subject        string // the room's subject, as it last announced it
}

type waiter struct {
	match func(*Stanza) bool
	ch    chan *Stanza
}

type collector struct {
	results []*MAMResult
	seenID  map[string]bool
	from    string        // the queried archive's JID when not the user's (a room)
	notify  chan struct{} // nil, or signalled (buffer 1) after each result
}

// catchUp is an archive catch-up in progress: one query of the user's
// archive and one of each joined room's, delivered in that order.
type catchUp struct {
	queries  []archiveQuery
	lastIDs  map[string]string // query id → the last id its final page announced
	finished bool              // the query goroutine has reported
}

// archiveQuery is one archive a catch-up reads: archive is "" for the
// user's own, else a room's bare JID.
type archiveQuery struct {
	id, archive, after string
	since              time.Time
}

type catchUpDone struct {
	lastIDs map[string]string
	err     error
}

// open dials the user's first connection and prepares the session; the
// caller starts drive.
func (m *Manager) open(ctx context.Context, local, user string, cred Credentials) (*Session, error) {
	password := cred.Password
	if !cred.Verified && password == "" {
		return nil, ErrNotAuthorized
	}
	conn, err := m.dial(ctx, local, password)
	if err != nil {
		return nil, err
	}
	s := &Session{
		m:           m,
		user:        user,
		local:       local,
		done:        make(chan struct{}),
		closedOnEnd: make(chan struct{}),
		conn:        conn,
		rooms:       make(map[string]*room),
		joining:     make(map[string]bool),
		presences:   make(map[string]map[string]chatapi.Presence),
		tokens:      make(map[string]time.Time),
		lastUse:     time.Now(),
		seenAt:      time.Now(),
		waiters:     make(map[*waiter]struct{}),
		collectors:  make(map[string]*collector),
		seen:        newIDSet(4096),
	}
	s.ctx, s.cancel = context.WithCancel(m.ctx)
	s.keepPassword(password)
	s.restoreRooms(ctx)    // roomstate.go
	s.restorePosition(ctx) // position.go
	if err := s.online(ctx, conn, len(s.rooms) > 0); err != nil {
		return s, err
	}
	return s, nil
}

// online readies a fresh connection: carbons on (XEP-0280), then initial
// presence, which makes the server flush offline messages, then (after a
// reconnect) the joined rooms.
func (s *Session) online(ctx context.Context, conn *Conn, rejoin bool) error {
	s.connectedAt = time.Now()
	carbons := &stanza.IQ{Attrs: stanza.Attrs{Type: stanza.IQTypeSet}}
	carbons.Any = &stanza.Node{XMLName: xml.Name{Space: nsCarbons, Local: "enable"}}
	if _, err := conn.IQ(ctx, carbons); err != nil {
		// Carbons are a convenience; a server without them still works.
		s.m.log.Debug("carbons not enabled", "user", s.user, "err", err)
	}
	s.enablePushOn(ctx, conn)
	// Ask for the roster once, as a client does before its initial
	// presence: RFC 6121 (2.1.6) sends roster pushes only to resources
	// that did ("interested" ones). ejabberd sends them to all; Prosody
	// keeps to the letter, and without this a roster change made by the
	// user or another of their clients would never reach the session.
	roster := &stanza.IQ{Attrs: stanza.Attrs{Type: stanza.IQTypeGet}}
	roster.Any = &stanza.Node{XMLName: xml.Name{Space: nsRoster, Local: "query"}}
	if _, err := conn.IQ(ctx, roster); err != nil {
		s.m.log.Debug("roster not requested", "user", s.user, "err", err)
	}
	s.mu.Lock()
	pres := s.presenceStanzaLocked()
	var rooms []*stanza.Presence
	if rejoin {
		for jid, r := range s.rooms {
			rooms = append(rooms, joinStanza(jid, r))
			s.joining[jid] = true
		}
	}
	s.mu.Unlock()
	if err := conn.Send(ctx, pres); err != nil {
		return err
	}
	for _, p := range rooms {
		if err := conn.Send(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

func (s *Session) presenceStanzaLocked() *stanza.Presence {
	p := &stanza.Presence{Status: s.status}
	if show := awayShow(s.show, s.away); show != "" && show != "available" {
		p.Show = stanza.PresenceShow(show)
	}
	p.Extensions = append(p.Extensions, newCaps()) // caps.go
	return p
}

// User returns the session's bare JID.
func (s *Session) User() string { return s.user }

// Done is closed when the session has ended.
func (s *Session) Done() <-chan struct{} { return s.done }

// Touch records a use of the session by its user (an event stream, a
// request), which keeps it from idling out and ends an automatic away
// (away.go).
func (s *Session) Touch() {
	s.mu.Lock()
	s.seenLocked(time.Now())
	s.mu.Unlock()
}

// AddToken records a token (by id) that keeps the session alive until exp;
// it is a use by the user, as Touch.
func (s *Session) AddToken(id string, exp time.Time) {
	s.mu.Lock()
	s.tokens[id] = exp
	s.seenLocked(time.Now())
	s.mu.Unlock()
}

// RemoveToken forgets a token (logout) and reports how many remain.
func (s *Session) RemoveToken(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, id)
	return len(s.tokens)
}

func (s *Session) current() *Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn
}

func (s *Session) usable() (*Conn, error) {
	if s.ctx.Err() != nil {
		return nil, ErrSessionEnded
	}
	c := s.current()
	if c == nil {
		return nil, ErrOffline
	}
	return c, nil
}

// send writes a stanza of this package's own on the session's
// connection. It fails with ErrOffline while the session reconnects.
// Messages the user writes go through SendChat and SendGroupChat instead,
// which keep them for sending again after a connection loss (see outbox);
// a client's own stanza goes through SendStanza.
func (s *Session) send(ctx context.Context, v any) error {
	c, err := s.usable()
	if err != nil {
		return err
	}
	s.used()
	return c.Send(ctx, v)
}

// iq sends the IQ request r and waits for its reply; an error reply is a
// *StanzaError. The verbs build their requests with it.
func (s *Session) iq(ctx context.Context, r *stanza.IQ) (Stanza, error) {
	c, err := s.usable()
	if err != nil {
		return Stanza{}, err
	}
	s.used()
	return c.IQ(ctx, r)
}

// SetPresence sets the user's presence: show is "", "available", "chat",
// "away", "xa" or "dnd". The session restores it after a reconnect.
func (s *Session) SetPresence(ctx context.Context, show, status string) error {
	s.mu.Lock()
	s.show, s.status = show, status
	p := s.presenceStanzaLocked()
	s.mu.Unlock()
	return s.send(ctx, p)
}

// OwnPresence returns the presence the user set (SetPresence): show ""
// when available. An automatic away (away.go) is not the user's and is not
// said.
func (s *Session) OwnPresence() (show, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.show, s.status
}

// Presences returns the latest presence of each resource of contact (a
// bare JID), as the session has seen them.
func (s *Session) Presences(contact string) []chatapi.Presence {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]chatapi.Presence, 0, len(s.presences[contact]))
	for _, p := range s.presences[contact] {
		out = append(out, p)
	}
	return out
}

// Await waits for the first inbound stanza for which match returns true,
// and returns it. match runs on the connection's reader (inline.go) and
// must be quick.
// The stanza is still delivered as usual.
func (s *Session) Await(ctx context.Context, match func(*Stanza) bool) (*Stanza, error) {
	w := s.addWaiter(match)
	defer s.removeWaiter(w)
	select {
	case st := <-w.ch:
		return st, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-s.ctx.Done():
		return nil, ErrSessionEnded
	}
}

func (s *Session) addWaiter(match func(*Stanza) bool) *waiter {
	w := &waiter{match: match, ch: make(chan *Stanza, 1)}
	s.mu.Lock()
	s.waiters[w] = struct{}{}
	s.mu.Unlock()
	return w
}

func (s *Session) removeWaiter(w *waiter) {
	s.mu.Lock()
	delete(s.waiters, w)
	s.mu.Unlock()
}

// joinRoom enters a room (XEP-0045 section 7.2) as nick and waits for the
// room's answer: the user's own presence (status 110) or an error presence,
// returned as a *StanzaError, with ErrRoomFull or ErrNicknameInUse when
// the condition means that. The session rejoins it after a reconnect.
func (s *Session) joinRoom(ctx context.Context, roomJID, nick, password string) error {
	full := roomJID + "/" + nick
	w := s.addWaiter(func(st *Stanza) bool {
		return st.Name == "presence" && st.From == full && (st.Type == "error" || st.Type == "" || isSelfPresence(st))
	})
	defer s.removeWaiter(w)
	r := &room{nick: nick, password: password}
	// The room's own answer ends the snapshot (heldForSnapshot); a
	// failed join ends it here.
	s.setJoining(roomJID, true)
	ok := false
	defer func() {
		if !ok {
			s.setJoining(roomJID, false)
		}
	}()
	if err := s.send(ctx, joinStanza(roomJID, r)); err != nil {
		return err
	}
	select {
	case st := <-w.ch:
		if st.Type == "error" {
			err := presenceError(st)
			err = meaning(err, "service-unavailable", ErrRoomFull)
			return meaning(err, "conflict", ErrNicknameInUse)
		}
	case <-ctx.Done():
		return ctx.Err()
	case <-s.ctx.Done():
		return ErrSessionEnded
	}
	ok = true
	r.lastSeen = time.Now()
	s.mu.Lock()
	s.rooms[roomJID] = r
	s.mu.Unlock()
	return nil
}

// leaveRoom exits a room and forgets it (EnterRoom and ExitRoom are the
// verbs; these two do the room bookkeeping under them).
func (s *Session) leaveRoom(ctx context.Context, roomJID string) error {
	s.mu.Lock()
	r, ok := s.rooms[roomJID]
	delete(s.rooms, roomJID)
	s.mu.Unlock()
	if !ok {
		return ErrItemNotFound
	}
	return s.send(ctx, &stanza.Presence{Attrs: stanza.Attrs{To: roomJID + "/" + r.nick, Type: stanza.PresenceTypeUnavailable}})
}

// Rooms returns the joined rooms and the nick in each.
func (s *Session) Rooms() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.rooms))
	for j, r := range s.rooms {
		out[j] = r.nick
	}
	return out
}

func joinStanza(roomJID string, r *room) *stanza.Presence {
	x := stanza.MucPresence{Password: r.password}
	if r.lastID != "" {
		// Rejoining a room whose archive position is known: the archive
		// catch-up brings what was said meanwhile, not the room history.
		x.History.MaxStanzas = stanza.NewNullableInt(0)
	} else if !r.lastSeen.IsZero() {
		// Rejoining: ask for what was said since we were last there.
		since := r.lastSeen.Add(-2 * time.Second).UTC()
		x.History.Since = since
	}
	p := &stanza.Presence{Attrs: stanza.Attrs{To: roomJID + "/" + r.nick}}
	p.Extensions = append(p.Extensions, x)
	return p
}

func isSelfPresence(st *Stanza) bool {
	if st.Presence == nil {
		return false
	}
	for _, ext := range st.Presence.Extensions {
		if n, ok := ext.(*stanza.Node); ok && n.XMLName.Space == nsMUCUser {
			for _, c := range n.Nodes {
				if c.XMLName.Local == "status" && nodeAttr(&c, "code") == "110" {
					return true
				}
			}
		}
	}
	return false
}

func presenceError(st *Stanza) error {
	if st.Presence == nil {
		return errOf(stanza.Err{})
	}
	return errOf(st.Presence.Error)
}

// messageError is the stanza error of a message of type error.
func messageError(st *Stanza) error {
	if st.Message == nil {
		return errOf(stanza.Err{})
	}
	return errOf(st.Message.Error)
}

// errOf is a presence's or message's <error/> as a *StanzaError
// (undefined-condition when it names none).
func errOf(se stanza.Err) error {
	e := &StanzaError{Condition: "undefined-condition"}
	if se.Reason != "" {
		e.Type, e.Condition, e.Text = string(se.Type), se.Reason, se.Text
	}
	return e
}

// end asks the session to end with reason; run does the rest.
func (s *Session) end(reason string) {
	s.mu.Lock()
	if s.reason == "" {
		s.reason = reason
	}
	s.mu.Unlock()
	s.cancel()
}

// closeConn closes the current connection, bounded by two seconds.
func (s *Session) closeConn() {
	s.mu.Lock()
	c := s.conn
	s.conn = nil
	s.mu.Unlock()
	if c == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	// Goodbye first: without an unavailable presence the server keeps its
	// own reason for the stream's end ("Stream reset by peer") as the
	// status the user left with (XEP-0012), which contacts then read
	// (GET /presence's lastSeen and status). A connection already broken
	// refuses the write at once.
	_ = c.write(ctx, []byte(`<presence type='unavailable'/>`))
	_ = c.Close(ctx)
}

func (s *Session) expired(now time.Time, idle time.Duration, active func(string) bool) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	had := len(s.tokens) > 0
	for id, exp := range s.tokens {
		if !now.Before(exp) {
			delete(s.tokens, id)
		}
	}
	if had && len(s.tokens) == 0 {
		return chatapi.CloseExpired
	}
	if active != nil && active(s.user) {
		s.lastUse = now
		return ""
	}
	if now.Sub(s.lastUse) > idle {
		return chatapi.CloseEnded
	}
	return ""
}

func (s *Session) deliver(p chatapi.Payload) { s.m.cfg.Deliver(s.user, p) }

// drive runs the session while no connection's reader does: from the
// start until the first connection is handed over, and from a loss until
// the next one is (it reconnects meanwhile). A live session has no
// goroutine of its own: the reader of its connection handles the
// stanzas (inline.go) and, as it exits, starts drive again. drive ends the
// session when it cannot hand over a connection.
func (s *Session) drive(conn *Conn, since time.Time, err error) {
	for {
		if conn != nil {
			if s.attach(conn, since) {
				return
			}
			err = conn.Err() // it ended before its reader took over
		}
		if s.ctx.Err() != nil {
			break
		}
		lostAt := time.Now()
		if conn = s.lost(err); conn == nil {
			break
		}
		// Catch up on what arrived while away: after the last archived
		// message seen, or, when none was, since just before the loss.
		since = lostAt.Add(-catchUpMargin)
	}
	s.finish()
	s.m.wg.Done()
}

// attach starts the archive catch-up on conn and hands it the session's
// handler; it reports whether conn's reader now drives the session.
func (s *Session) attach(conn *Conn, since time.Time) bool {
	s.runMu.Lock()
	s.startCatchUp(conn, s.lastArchiveID, since)
	s.runMu.Unlock()
	if !conn.handOff(s.inbound, s.connEnded) {
		return false
	}
	if s.ctx.Err() != nil {
		// The session ended while this connection came up, maybe before
		// closeOnEnd could see it: close it, and its reader ends the
		// session.
		s.closeConn()
	}
	return true
}

// connEnded runs on the reader of the live connection as it exits: drive
// takes over, on a goroutine of its own since the reader's Conn may be
// waiting for the reader to return (Close).
func (s *Session) connEnded(err error) {
	go s.drive(nil, time.Time{}, err)
}

// inbound is the handler of the session's connections: it runs on the
// reader (inline.go).
func (s *Session) inbound(st *Stanza) {
	s.runMu.Lock()
	s.handle(st)
	s.runMu.Unlock()
}

// lost handles the loss of the connection with err: it reconnects and
// returns the new connection, or nil when the session ends.
func (s *Session) lost(err error) *Conn {
	lostAt := time.Now()
	s.mu.Lock()
	s.conn = nil
	s.mu.Unlock()
	s.m.log.Warn("xmpp connection lost", "user", s.user, "err", err)
	if s.m.cfg.OnLost != nil {
		s.m.cfg.OnLost(s.user, lossReason(err))
	}
	var se *StreamError
	if errors.As(err, &se) && se.Condition == "conflict" {
		// Another login took the resource over, or the account was
		// removed: reconnecting would fight it (RFC 6120 4.9.3.3).
		s.refused()
		s.end(chatapi.CloseEnded)
		return nil
	}
	s.deliver(chatapi.Session{State: chatapi.SessionReconnecting, Reason: lossReason(err)})
	return s.reconnect(lostAt)
}

// refused tells ManagerConfig.OnRefused that the server no longer
// accepts the session's login.
func (s *Session) refused() {
	if s.m.cfg.OnRefused != nil {
		s.m.cfg.OnRefused(s.user)
	}
}

// finish cleans up after the session's end.
func (s *Session) finish() {
	s.closeConn()
	<-s.closedOnEnd // the session has ended, so this comes
	s.m.remove(s)
	s.mu.Lock()
	reason := s.reason
	if reason == "" {
		reason = chatapi.CloseEnded
	}
	s.mu.Unlock()
	s.saveRooms() // roomstate.go
	s.deliver(chatapi.Session{State: chatapi.SessionDisconnected, Reason: reason})
	close(s.done)
	if s.m.cfg.OnEnd != nil {
		s.m.cfg.OnEnd(s.user, reason)
	}
}

func lossReason(err error) string {
	var se *StreamError
	switch {
	case errors.As(err, &se):
		return se.Condition
	case errors.Is(err, ErrPingTimeout):
		return "ping-timeout"
	case errors.Is(err, ErrStreamClosed):
		return "closed-by-server"
	}
	return "connection-lost"
}

// reconnect dials until it succeeds, the session ends or the credentials
// are refused. It returns the new connection, ready and catching up, or nil.
func (s *Session) reconnect(lostAt time.Time) *Conn {
	s.m.reconnecting.Add(1)
	defer s.m.reconnecting.Add(-1)
	delay := s.m.cfg.ReconnectMin
	for attempt := 1; ; attempt++ {
		// Full jitter in [delay/2, delay): sessions lost together do not
		// come back together.
		wait := delay/2 + mrand.N(delay/2+1)
		t := time.NewTimer(wait)
		select {
		case <-s.ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(s.ctx, 15*time.Second)
		conn, err := s.m.dial(ctx, s.local, s.keptPassword())
		if err == nil {
			err = s.online(ctx, conn, true)
			if err == nil {
				err = s.resendOutbox(ctx, conn, lostAt)
			}
			if err != nil {
				_ = conn.Close(ctx)
			}
		}
		cancel()
		if err == nil {
			s.mu.Lock()
			s.conn = conn
			s.mu.Unlock()
			s.m.log.Info("xmpp connection restored", "user", s.user, "attempts", attempt)
			s.deliver(chatapi.Session{State: chatapi.SessionConnected})
			return conn
		}
		if errors.Is(err, ErrNotAuthorized) {
			s.m.log.Warn("reconnect refused", "user", s.user, "err", err)
			s.refused()
			s.end(chatapi.CloseEnded)
			return nil
		}
		s.m.log.Debug("reconnect failed", "user", s.user, "attempt", attempt, "err", err)
		if delay *= 2; delay > s.m.cfg.ReconnectMax {
			delay = s.m.cfg.ReconnectMax
		}
	}
}

// handle takes one inbound stanza.
func (s *Session) handle(st *Stanza) {
	s.mu.Lock()
	for w := range s.waiters {
		if w.match(st) {
			select {
			case w.ch <- st:
			default:
			}
			delete(s.waiters, w)
		}
	}
	var col *collector
	if st.MAM != nil {
		col = s.collectors[st.MAM.QueryID]
	}
	s.mu.Unlock()

	if st.MAM != nil {
		// Archive results answer a query; they are never live events.
		if col != nil && (st.From == "" || st.From == s.user || col.from != "" && st.From == col.from) {
			s.mu.Lock()
			col.results = append(col.results, st.MAM)
			col.seenID[st.MAM.ID] = true
			s.mu.Unlock()
			if col.notify != nil {
				select {
				case col.notify <- struct{}{}:
				default:
				}
			}
			if s.catching != nil && s.catching.finished && s.caughtAll() {
				s.finishCatchUp()
			}
		}
		return
	}
	if st.Name == "iq" {
		s.serverPush(st)
		return
	}
	if s.catching != nil && st.Name == "message" && len(s.pendingLive) < maxPendingLive {
		s.pendingLive = append(s.pendingLive, st)
		return
	}
	s.emit(st)
}

// serverPush acknowledges a roster push (RFC 6121 section 2.1.6) or a
// blocklist push (XEP-0191 section 3.3) and delivers it to the user's tabs
// as chatapi.roster or chatapi.blocklist (and as raw XML when raw events
// are on). A push from anyone but the user's own account is refused, as
// both require.
func (s *Session) serverPush(st *Stanza) {
	typ := stanza.IQTypeResult
	if st.From != "" && st.From != s.user {
		typ = stanza.IQTypeError
	}
	reply := &stanza.IQ{Attrs: stanza.Attrs{Type: typ, Id: st.ID, To: st.From}}
	if typ == stanza.IQTypeError {
		reply.Error = &stanza.Err{Type: stanza.ErrorTypeCancel, Reason: "service-unavailable"}
	}
	if conn := s.current(); conn != nil {
		// Queued for the answer writer (autoreply.go): this runs on the reader.
		if raw, err := xml.Marshal(reply); err == nil {
			conn.writeAsync(raw)
		}
	}
	if typ != stanza.IQTypeResult {
		return
	}
	if s.makesRaw() {
		s.deliver(chatapi.XMPP{XMPP: st.Raw})
	}
	for _, p := range Translate(st, s.user, nil) {
		s.deliver(p)
	}
}

// emit delivers the events of one live stanza.
func (s *Session) emit(st *Stanza) {
	if st.Name == "message" {
		id := archiveID(st, s.user)
		if id != "" && !s.seen.add(id) {
			return // already delivered from the archive
		}
		s.reflected(st)
		if k := originKey(st); k != "" && !s.seen.add(k) {
			return // its sender sent it again after a connection loss
		}
		if st.Type == "groupchat" {
			s.mu.Lock()
			if r, ok := s.rooms[bareJID(st.From)]; ok {
				r.lastSeen = time.Now()
				if hasSubject(st) {
					r.subject = st.Message.Subject
				}
				if rid := stanzaIDBy(st, bareJID(st.From)); rid != "" {
					r.lastID = rid
				}
			}
			s.mu.Unlock()
			s.roomRead(bareJID(st.From)) // roomstate.go
		} else if id != "" {
			s.setArchiveID(id)
		}
	}
	if st.Name == "presence" {
		s.notePresence(st)
		s.noteRoomExit(st)         // roomstate.go
		if s.heldForSnapshot(st) { // roomstate.go
			return
		}
	}
	if s.makesRaw() {
		s.deliver(chatapi.XMPP{XMPP: st.Raw})
	}
	for _, p := range Translate(st, s.user, s.m.cfg.MUCServices) {
		s.deliver(p)
	}
	if s.wantsReceipt(st) { // receipts.go
		if c := s.current(); c != nil {
			c.writeAsync(receiptFor(st))
		}
	}
}

// archiveID is the id the user's archive gave a message: its stanza-id by
// the user's bare JID, or that of the carbon's inner message. Room messages
// are keyed by the room's id.
func archiveID(st *Stanza, self string) string {
	if st.Type == "groupchat" {
		if id := stanzaIDBy(st, bareJID(st.From)); id != "" {
			return bareJID(st.From) + "#" + id
		}
		return ""
	}
	if id := stanzaIDBy(st, self); id != "" {
		return id
	}
	if st.Carbon != nil && st.Carbon.Forwarded.Message != nil {
		return stanzaIDBy(st.Carbon.Forwarded.Message, self)
	}
	return ""
}

func (s *Session) notePresence(st *Stanza) {
	bare, res, _ := strings.Cut(st.From, "/")
	if bare == "" || bare == s.user && res == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch st.Type {
	case "", "unavailable":
	default:
		return
	}
	if st.Type == "unavailable" {
		delete(s.presences[bare], res)
		if len(s.presences[bare]) == 0 {
			delete(s.presences, bare)
		}
		return
	}
	if s.presences[bare] == nil {
		s.presences[bare] = make(map[string]chatapi.Presence)
	}
	s.presences[bare][res] = translatePresence(st)
}

// startCatchUp asks the user's archive for what arrived after the last
// archived message the session delivered (after), or since the time since
// when there is none, and each joined room's archive for what was said
// after the last room message seen there. Live messages are held back until
// the archives' answers are delivered, so the order stays right.
func (s *Session) startCatchUp(conn *Conn, after string, since time.Time) {
	c := &catchUp{queries: []archiveQuery{{id: rand.Text()[:16], after: after, since: since}}}
	s.mu.Lock()
	for jid, r := range s.rooms {
		q := archiveQuery{id: rand.Text()[:16], archive: jid, after: r.lastID, since: since}
		if q.after == "" && !r.lastSeen.IsZero() {
			q.since = r.lastSeen.Add(-catchUpMargin)
		}
		c.queries = append(c.queries, q)
	}
	for _, q := range c.queries {
		s.collectors[q.id] = &collector{seenID: make(map[string]bool), from: q.archive}
	}
	s.mu.Unlock()
	s.catching = c
	s.m.wg.Add(1)
	go func() {
		defer s.m.wg.Done()
		ctx, cancel := context.WithTimeout(s.ctx, 60*time.Second)
		defer cancel()
		d := catchUpDone{lastIDs: make(map[string]string, len(c.queries))}
		for _, q := range c.queries {
			last, err := queryArchive(ctx, conn, q)
			if err != nil {
				if q.archive == "" {
					d.err = err
					break
				}
				// A room that is gone or refuses its archive must not
				// hold back everything else.
				s.m.log.Debug("room archive catch-up failed", "user", s.user, "room", q.archive, "err", err)
			}
			d.lastIDs[q.id] = last
		}
		if s.ctx.Err() != nil {
			return
		}
		s.runMu.Lock()
		s.caughtUp(c, d)
		s.runMu.Unlock()
	}()
}

// caughtUp is told that the archive queries of c finished; their results
// may still be on their way, in which case handle finishes later. A
// catch-up that is no longer the current one (its connection was lost and
// another began) is ignored.
func (s *Session) caughtUp(c *catchUp, d catchUpDone) {
	if c == nil || s.catching != c {
		return
	}
	if d.err != nil {
		s.m.log.Warn("archive catch-up failed", "user", s.user, "err", d.err)
		s.finishCatchUp()
		return
	}
	c.finished, c.lastIDs = true, d.lastIDs
	if s.caughtAll() {
		s.finishCatchUp()
	}
}

// caughtAll reports whether every result the finished queries announced
// has been collected.
func (s *Session) caughtAll() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range s.catching.queries {
		last := s.catching.lastIDs[q.id]
		if col := s.collectors[q.id]; last != "" && col != nil && !col.seenID[last] {
			return false
		}
	}
	return true
}

// finishCatchUp delivers the archives' results, the user's first and then
// each room's, skipping what was already delivered, then the live messages
// held back meanwhile.
func (s *Session) finishCatchUp() {
	c := s.catching
	s.catching = nil
	for _, q := range c.queries {
		s.mu.Lock()
		col := s.collectors[q.id]
		delete(s.collectors, q.id)
		s.mu.Unlock()
		if col == nil {
			continue
		}
		for _, r := range col.results {
			key := r.ID
			if q.archive != "" {
				key = q.archive + "#" + r.ID
			}
			if !s.seen.add(key) {
				continue
			}
			if q.archive == "" {
				s.setArchiveID(r.ID)
			} else {
				s.mu.Lock()
				if rm, ok := s.rooms[q.archive]; ok {
					rm.lastID = r.ID
				}
				s.mu.Unlock()
				s.roomRead(q.archive)
			}
			if k := originKey(r.Forwarded.Message); k != "" && !s.seen.add(k) {
				continue // its sender sent it again after a connection loss
			}
			for _, p := range TranslateArchived(r, s.user, s.m.cfg.MUCServices) {
				s.deliver(p)
			}
		}
	}
	pending := s.pendingLive
	s.pendingLive = nil
	for _, st := range pending {
		s.emit(st)
	}
}

// queryArchive pages through an archive (XEP-0313): the user's own, or a
// room's, after the archive id q.after, or since q.since when after is
// empty. The results arrive as messages tagged with q.id; it returns the
// id of the last result of the last page.
func queryArchive(ctx context.Context, conn *Conn, q archiveQuery) (string, error) {
	last, after := "", q.after
	for page := 0; page < 1000; page++ {
		mq := &MAMQuery{QueryID: q.id}
		if after != "" {
			mq.Set = &stanza.ResultSet{Max: ptr(catchUpPage), After: ptr(after)}
		} else {
			mq.Set = &stanza.ResultSet{Max: ptr(catchUpPage)}
			mq.Filter(ArchiveFilter{Start: q.since})
		}
		iq := &stanza.IQ{Attrs: stanza.Attrs{Type: stanza.IQTypeSet, To: q.archive}, Payload: mq}
		reply, err := conn.IQ(ctx, iq)
		if err != nil && page == 0 && after != "" && unknownPosition(err) {
			after = "" // position.go: read by time instead
			continue
		}
		if err != nil {
			return last, err
		}
		fin := ParseFin(&reply)
		if fin.Last != "" {
			last, after = fin.Last, fin.Last
		}
		if fin.Complete || fin.Last == "" {
			return last, nil
		}
	}
	return last, nil
}

// idSet remembers the most recent ids, up to a bound, as 64-bit hashes
// (maphash, seeded per process) in a ring.
//
// Why hashes: it held the ids themselves, and an archive id is a string
// cut from its stanza's string chunk (xmlstrings.go), so each one kept
// that chunk alive: a session that had received 4,096 messages held about
// a megabyte for its dedup set alone. Hashes cost 8 bytes each in the
// ring and in the map, keep no stanza alive, and compare cheaper. Two
// distinct ids share a hash with odds of about 2^-52 per message at the
// bound (4,096 kept ones, 64-bit hashes), when the newer one would be
// taken for a repeat.
type idSet struct {
	max  int
	ring []uint64 // in the order added, oldest at next once full
	next int
	set  map[uint64]struct{}
}

// idSeed seeds the hashes of every idSet: per process, so no sender can
// make two ids collide on purpose.
var idSeed = maphash.MakeSeed()

// newIDSet returns an empty set that keeps up to max ids. It grows as ids
// come: an idle session must not carry a map sized for thousands.
func newIDSet(max int) *idSet { return &idSet{max: max, set: make(map[uint64]struct{})} }

// add records id and reports whether it was new.
func (s *idSet) add(id string) bool {
	h := maphash.String(idSeed, id)
	if _, ok := s.set[h]; ok {
		return false
	}
	s.set[h] = struct{}{}
	if len(s.ring) < s.max {
		s.ring = append(s.ring, h)
		return true
	}
	delete(s.set, s.ring[s.next])
	s.ring[s.next] = h
	s.next = (s.next + 1) % s.max
	return true
}
