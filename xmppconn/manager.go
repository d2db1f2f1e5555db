package xmppconn

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
)

var (
	// ErrManagerClosed is returned by Manager.Open after Manager.Close.
	ErrManagerClosed = errors.New("xmppconn: session manager closed")
	// ErrTooManySessions is returned by Manager.Open when
	// ManagerConfig.MaxSessions sessions are open.
	ErrTooManySessions = errors.New("xmppconn: too many sessions")
	// ErrNoSession is returned when a user has no open session.
	ErrNoSession = errors.New("xmppconn: no session for user")
	// ErrOffline is returned by a Session's send methods while its
	// connection is lost and being re-established.
	ErrOffline = errors.New("xmppconn: session is reconnecting")
	// ErrSessionEnded is returned by a Session's methods after it ended.
	ErrSessionEnded = errors.New("xmppconn: session ended")
)

// TokenIssuer issues OAuth tokens (scope sasl_auth) that log a user in over
// X-OAUTH2 without a password; ejabberd does it through oauth_issue_token.
type TokenIssuer interface {
	IssueToken(ctx context.Context, user string, ttl time.Duration) (string, error)
}

// Credentials is how Manager.Open logs a user in.
type Credentials struct {
	// Password is checked by the XMPP server over SASL PLAIN. When the user
	// already has a session, the password is still checked, on a short
	// connection of its own, before the session is handed out.
	Password string
	// Verified says the gateway authenticated the user itself (TOTP,
	// passkey). The session then logs in with a token from
	// ManagerConfig.Issuer.
	Verified bool
}

// ManagerConfig configures a Manager.
type ManagerConfig struct {
	// Stream is the template of every session's stream: Addr, Domain, TLS
	// and the limits. User, Password, Token and Resource are set per session.
	Stream Config
	// Issuer issues the OAuth tokens sessions reconnect with (and log in
	// with after a verified login). Required.
	Issuer TokenIssuer
	// Deliver receives every event of every session, in order per user. It
	// is called from the session's goroutine and must not block.
	Deliver func(user string, p chatapi.Payload)
	// OnEnd, when set, is called once when a session ends for good (logout,
	// idle, authentication lost, Close), with the chatapi.Close reason.
	OnEnd func(user, reason string)
	// OnRefused, when set, is called when the XMPP server stops accepting
	// a session's login: its stream ended with a conflict error, or a
	// reconnect's credentials were refused. The account may have been
	// removed. It is called from the session's goroutine, before OnEnd, and
	// must not block.
	OnRefused func(user string)
	// OnLost, when set, is called each time a session loses its XMPP
	// connection, with the reason its chatapi.session event gives
	// (lossReason: a stream error's condition, ping-timeout,
	// closed-by-server or connection-lost), before it reconnects or, on a
	// conflict, ends. It is called from the session's goroutine and must
	// not block.
	OnLost func(user, reason string)
	// OnRoomExit, when set, is called when the user is made to leave a
	// joined room (kicked, banned, removed, or the room destroyed). It is
	// called from the session's goroutine and must not block.
	OnRoomExit func(user, room string)
	// Rooms, when set, returns the rooms a user was in when their session
	// last ended (see SavedRoom); a session that opens enters them again
	// and catches up from each room's archive. It is called once per
	// opening, bounded by ctx.
	Rooms func(ctx context.Context, user string) []SavedRoom
	// OnRoomsSaved, when set, is called when a session ends for good,
	// before OnEnd, with the rooms it was in and how far it had read in
	// each, for Rooms to give back later. It is called from the
	// session's goroutine.
	OnRoomsSaved func(user string, rooms []SavedRoom)
	// OnRoomRead, when set, is called whenever a session's position in a
	// joined room moves (a live message from the room, or one its
	// catch-up read from the room's archive), so that a position outlives
	// a gateway that dies without ending its sessions. It is called from
	// the session's goroutine, once per message: it must not block, and
	// should coalesce what it writes.
	OnRoomRead func(user string, room SavedRoom)

	// ArchiveAfter, when set, returns the id in the user's own archive of
	// the last one-to-one message a previous session of the user delivered
	// (Session.ArchivePosition, kept by the caller: on this gateway before
	// a restart, or on another node). A session that opens catches up on
	// the archive after it; "" means since shortly before the session
	// connected. It is called once per opening, bounded by ctx.
	ArchiveAfter func(ctx context.Context, user string) string
	// Active, when set, reports whether a user has an open event stream; a
	// session with no stream and no use for IdleTimeout ends.
	Active func(user string) bool
	// RawEvents adds a chatapi.xmpp event with the exact bytes of every
	// inbound stanza, for the sessions that may have a reader of them
	// (Session.WantRaw, rawwanted.go).
	RawEvents bool
	// MUCServices are the domains of the group chat services (XEP-0045)
	// whose rooms may mediate invitations: a muc#user invite is believed
	// (its from attribute shown as the inviter) only when it comes from a
	// room's bare JID on one of them. Empty means conference.<Stream.Domain>.
	MUCServices []string
	// PushApp, when set, says where the user's server should send push
	// notifications (XEP-0357) while the user has no session: every
	// connection of a session enables reg when on is true (see
	// pushreg.go); reg with on false is disabled; no reg (an empty Node)
	// leaves push as it is.
	PushApp func(ctx context.Context, user string) (reg PushRegistration, on bool, err error)
	// MaxSessions bounds the open sessions; zero means 10,000.
	MaxSessions int
	// IdleTimeout ends a session that had no API use and no open stream for
	// that long; zero means 8 hours.
	IdleTimeout time.Duration
	// AwayAfter shows a user whose session had no open stream and no
	// request with their tokens for that long as away for a while (xa, the
	// status text kept; dnd and xa set by the user stay) until they are
	// back (away.go); zero means 5 minutes, negative never.
	AwayAfter time.Duration
	// ReconnectMin and ReconnectMax bound the backoff between reconnection
	// attempts; zero means 500 ms and 60 s.
	ReconnectMin, ReconnectMax time.Duration
	// KeepPassword is for a server whose admin API issues no login tokens
	// (Openfire): a session opened with a password keeps it, in memory
	// only and for the session's lifetime, to reconnect with it after a
	// dropped connection (without it, such a drop ends the session). The
	// latest password verified for the user replaces it. Nothing of it is
	// written anywhere, so after a gateway restart such users sign in
	// again.
	KeepPassword bool
	// Logger receives the manager's logs; nil means slog.Default().
	Logger *slog.Logger
}

// Manager holds one XMPP session per user, keyed by bare JID. Its methods
// are safe for concurrent use.
//
// Every session's goroutine belongs to the Manager: Close ends them all and
// returns when they have exited.
type Manager struct {
	cfg ManagerConfig
	log *slog.Logger

	ctx    context.Context // ends when the Manager closes
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// reconnecting counts the sessions without a connection, waiting to
	// dial again or dialling (Session.reconnect).
	reconnecting atomic.Int64

	mu       sync.Mutex
	sessions map[string]*Session      // by bare JID
	opening  map[string]chan struct{} // bare JID → closed when the Open in progress ends
	closed   bool
}

// NewManager builds a Manager and starts its janitor, which ends idle
// sessions and sessions whose tokens all expired.
func NewManager(cfg ManagerConfig) (*Manager, error) {
	if cfg.Stream.Addr == "" || cfg.Stream.Domain == "" {
		return nil, fmt.Errorf("%w: Stream.Addr and Stream.Domain are required", ErrConfig)
	}
	if cfg.Issuer == nil {
		return nil, fmt.Errorf("%w: Issuer is required", ErrConfig)
	}
	if cfg.Deliver == nil {
		cfg.Deliver = func(string, chatapi.Payload) {}
	}
	if len(cfg.MUCServices) == 0 {
		cfg.MUCServices = []string{"conference." + cfg.Stream.Domain}
	}
	cfg.MUCServices = slices.Clone(cfg.MUCServices)
	for i, d := range cfg.MUCServices {
		cfg.MUCServices[i] = strings.ToLower(d)
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = 10000
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 8 * time.Hour
	}
	if cfg.AwayAfter == 0 {
		cfg.AwayAfter = defaultAwayAfter
	}
	if cfg.ReconnectMin <= 0 {
		cfg.ReconnectMin = 500 * time.Millisecond
	}
	if cfg.ReconnectMax <= 0 {
		cfg.ReconnectMax = 60 * time.Second
	}
	m := &Manager{
		cfg:      cfg,
		log:      cfg.Logger,
		sessions: make(map[string]*Session),
		opening:  make(map[string]chan struct{}),
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.wg.Add(1)
	go m.janitor()
	return m, nil
}

// Domain is the XMPP domain of the users.
func (m *Manager) Domain() string { return m.cfg.Stream.Domain }

// Open returns the session of the user whose localpart is local, logging
// in with cred when there is none. There is one session per user however
// often Open is called. Errors match ErrNotAuthorized for bad credentials,
// ErrNetwork when the XMPP server cannot be reached, ErrTooManySessions and
// ErrManagerClosed.
func (m *Manager) Open(ctx context.Context, local string, cred Credentials) (*Session, error) {
	user := local + "@" + m.cfg.Stream.Domain
	for {
		m.mu.Lock()
		if m.closed {
			m.mu.Unlock()
			return nil, ErrManagerClosed
		}
		if s, ok := m.sessions[user]; ok {
			m.mu.Unlock()
			if s.ctx.Err() != nil {
				// Ending (idle, logged out): wait until it is gone and
				// open a new one, rather than hand out a dead session.
				select {
				case <-s.done:
					continue
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			}
			if cred.Password != "" {
				if err := m.verify(ctx, local, cred.Password); err != nil {
					return nil, err
				}
				s.keepPassword(cred.Password)
			} else if !cred.Verified {
				return nil, ErrNotAuthorized
			}
			s.Touch()
			return s, nil
		}
		if wait, ok := m.opening[user]; ok {
			m.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		if len(m.sessions)+len(m.opening) >= m.cfg.MaxSessions {
			m.mu.Unlock()
			return nil, ErrTooManySessions
		}
		done := make(chan struct{})
		m.opening[user] = done
		m.mu.Unlock()

		s, err := m.open(ctx, local, user, cred)

		m.mu.Lock()
		delete(m.opening, user)
		close(done)
		if err == nil && m.closed {
			err = ErrManagerClosed
		}
		if err == nil {
			m.sessions[user] = s
			m.wg.Add(1) // done when the session has finished (drive)
			// The end of the session closes its connection, whose reader
			// then finishes it (drive).
			context.AfterFunc(s.ctx, func() {
				s.closeConn()
				close(s.closedOnEnd)
			})
			go s.drive(s.current(), s.connectedAt.Add(-catchUpMargin), nil)
		}
		m.mu.Unlock()
		if err != nil {
			if s != nil {
				s.closeConn()
			}
			return nil, err
		}
		return s, nil
	}
}

// Verify checks local's password with the XMPP server on a short
// connection of its own, without touching the user's session. It returns
// nil, an error matching ErrNotAuthorized, or a network error.
func (m *Manager) Verify(ctx context.Context, local, password string) error {
	if password == "" {
		return ErrNotAuthorized
	}
	return m.verify(ctx, local, password)
}

// verify checks a password on a connection of its own, closed at once.
func (m *Manager) verify(ctx context.Context, local, password string) error {
	cfg := m.cfg.Stream
	cfg.User, cfg.Password, cfg.Token, cfg.Resource = local, password, "", ""
	cfg.KeepAlive = -1
	c, err := Dial(ctx, cfg)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = c.Close(cctx)
	return nil
}

// dial logs local in with a password, or with a fresh token when password
// is empty.
func (m *Manager) dial(ctx context.Context, local, password string) (*Conn, error) {
	cfg := m.cfg.Stream
	cfg.User, cfg.Password, cfg.Token, cfg.Resource = local, "", "", ""
	if password != "" {
		cfg.Password = password
	} else {
		tok, err := m.cfg.Issuer.IssueToken(ctx, local, 10*time.Minute)
		if err != nil {
			return nil, fmt.Errorf("xmppconn: token for %s: %w", local, err)
		}
		cfg.Token = tok
	}
	// The session's reader runs its handler (inline.go).
	cfg.inline = true
	// Roster pushes (RFC 6121 section 2.1.6) and blocklist pushes
	// (XEP-0191) go to the session, which acknowledges them and hands
	// them to the user's tabs.
	cfg.DeliverIQ = func(typ string, payload xml.Name) bool {
		return typ == "set" && payload.Space == nsRoster && payload.Local == "query" || isBlockPush(typ, payload)
	}
	return Dial(ctx, cfg)
}

// Get returns the open session of the user with bare JID user; a session
// that is ending counts as none.
func (m *Manager) Get(user string) (*Session, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[user]
	if ok && s.ctx.Err() != nil {
		return nil, false
	}
	return s, ok
}

// Len returns the number of open sessions.
func (m *Manager) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sessions)
}

// Reconnecting returns how many sessions have lost their connection and
// not yet made a new one: all of them while the XMPP server is down.
func (m *Manager) Reconnecting() int { return int(m.reconnecting.Load()) }

// End ends the session of user (bare JID), if any, with reason (a
// chatapi.Close reason), and waits until its connection is closed or ctx
// ends.
func (m *Manager) End(ctx context.Context, user, reason string) {
	m.mu.Lock()
	s, ok := m.sessions[user] // one already ending too: wait for it
	m.mu.Unlock()
	if !ok {
		return
	}
	s.end(reason)
	select {
	case <-s.done:
	case <-ctx.Done():
	}
}

// remove forgets s once its goroutine has finished.
func (m *Manager) remove(s *Session) {
	m.mu.Lock()
	if m.sessions[s.user] == s {
		delete(m.sessions, s.user)
	}
	m.mu.Unlock()
}

// Close ends every session and returns when all of the Manager's
// goroutines have exited. It is idempotent.
func (m *Manager) Close() error {
	m.mu.Lock()
	m.closed = true
	all := make([]*Session, 0, len(m.sessions))
	for _, s := range m.sessions {
		all = append(all, s)
	}
	m.mu.Unlock()
	for _, s := range all {
		s.end(chatapi.CloseShutdown)
	}
	m.cancel()
	m.wg.Wait()
	return nil
}

func (m *Manager) janitor() {
	defer m.wg.Done()
	every := m.cfg.IdleTimeout / 4
	if a := m.cfg.AwayAfter / 4; a > 0 && a < every {
		every = a
	}
	if every > time.Minute {
		every = time.Minute
	}
	if every < time.Second {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-m.ctx.Done():
			return
		case now := <-t.C:
			m.mu.Lock()
			all := make([]*Session, 0, len(m.sessions))
			for _, s := range m.sessions {
				all = append(all, s)
			}
			m.mu.Unlock()
			for _, s := range all {
				if reason := s.expired(now, m.cfg.IdleTimeout, m.cfg.Active); reason != "" {
					m.log.Info("ending session", "user", s.user, "reason", reason)
					s.end(reason)
					continue
				}
				s.idleAway(now, m.cfg.AwayAfter, m.cfg.Active) // away.go
			}
		}
	}
}
