package gateway

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	oapimw "github.com/oapi-codegen/echo-middleware"

	"github.com/sparkgate/sparkgate"
	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/rooms"
	"github.com/sparkgate/sparkgate/sse"
	"github.com/sparkgate/sparkgate/web"
	"github.com/sparkgate/sparkgate/xmppadmin"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// APIPrefix is where the SparkWeb API lives.
const APIPrefix = "/sparkweb/api"

// Config is what New needs. The zero value of each field is documented.
type Config struct {
	// Domain is the XMPP domain of the users; a bare username in a path
	// means user@Domain. Required.
	Domain string
	// CORSOrigins are the origins allowed to call the API from a page of
	// another origin. Empty means same-origin use only.
	CORSOrigins []string
	// WebClient serves the browser client at / when true.
	WebClient bool
	// ConnectOrigins are other origins the web client may send requests
	// to and show images from (the Content-Security-Policy's connect-src
	// and img-src): the XMPP server's HTTP upload service, whose PUT and
	// GET URLs are on another origin. Empty means this origin only.
	ConnectOrigins []string
	// Metrics serves GET /metrics (Prometheus text format, no
	// authentication) when true; see metrics.go.
	Metrics bool
	// Ready lists what /readyz checks, in order. Empty means always ready.
	Ready []ReadyCheck
	// Logger receives the gateway's logs; nil means slog.Default().
	Logger *slog.Logger

	// Tokens issues and verifies the API's tokens. Required.
	Tokens *auth.Tokens
	// Refresh issues and rotates refresh tokens; it must be built on
	// Tokens. Nil means logins answer an access token alone and
	// POST /token/refresh answers 501.
	Refresh *auth.Refresh
	// Directory manages accounts on the XMPP server (registration) and
	// issues the OAuth tokens sessions log in with. Required.
	Directory xmppadmin.Directory
	// Rooms keeps the rooms each user is in, so that a session that opens
	// again (a later login, a restarted gateway) rejoins them and catches
	// up (joinedrooms.go). Nil forgets them with the session.
	Rooms rooms.Store
	// XMPP is the template of every user's XMPP stream (address, domain,
	// TLS). Its User, Password, Token and Resource are set per session.
	XMPP xmppconn.Config
	// Sessions sets the limits of the per-user sessions; its Stream,
	// Issuer, Deliver, OnEnd, OnRefused and Active fields are filled in
	// by New, and its MUCServices when empty (MUCService).
	Sessions xmppconn.ManagerConfig
	// Events configures the per-user event logs and streams.
	Events sse.Config
	// EventLog, when set, keeps the users' events beyond this process
	// (several gateway nodes, ids that survive a restart; natslog in
	// cmd/sparkgate). It must also be Events.Remote. Nil means the hub's
	// memory only, as with one process.
	EventLog EventLog
	// Census, when set, counts the other gateway nodes' sessions and
	// streams, so that Sessions.MaxSessions and Limits.MaxStreams bound
	// the whole cluster (census.go).
	Census Census
	// Ownership, when set, decides which of several gateway nodes holds
	// each user's XMPP session (ownership.go; a lease in NATS, package
	// lease, in cmd/sparkgate). Nil means this process holds every user's.
	Ownership Ownership
	// Peers, when set with Ownership, carries a request for a user whose
	// session is on another node to that node (a remote session,
	// remote.go; package noderpc in cmd/sparkgate), and serves this node's
	// sessions to the others. Nil means such a request answers 503.
	Peers Peers
	// MUCService is the group chat service; empty means conference.<Domain>.
	MUCService string
	// Registration allows POST /register; false answers 403.
	Registration bool
	// MinPasswordLength is the shortest password registration accepts;
	// zero means 8.
	MinPasswordLength int

	// Auth configures TOTP, passkeys and login rate limits (authconfig.go).
	Auth AuthConfig
	// Messaging configures rooms, roster, presence and the archive
	// (messaging.go).
	Messaging MessagingConfig
	// Collab configures pubsub and PEP, bookmarks, upload and meetings
	// (collab.go).
	Collab CollabConfig
	// Push configures Web Push (push.go).
	Push PushConfig
	// Users configures user management, groups, settings and link
	// previews (usersconfig.go; the previews themselves are package
	// linkpreview's).
	Users UsersConfig
	// Limits bounds request bodies, event streams and request times
	// (limits.go).
	Limits LimitsConfig
	// Operator configures the operator API (operator.go); the zero value
	// switches it off.
	Operator OperatorConfig
}

// A ReadyCheck is one dependency /readyz reports on.
type ReadyCheck struct {
	Name  string
	Check func(ctx context.Context) error
}

// Server is the HTTP side of the gateway. Its methods are safe for
// concurrent use.
type Server struct {
	cfg      Config
	log      *slog.Logger
	echo     *echo.Echo
	spec     *openapi3.T
	tokens   *auth.Tokens
	refresh  *auth.Refresh
	dir      xmppadmin.Directory
	sessions *xmppconn.Manager
	hub      *sse.Hub
	metrics  *metrics    // nil unless Config.Metrics (metrics.go)
	appends  appendOrder // one user's appends to the EventLog in order (eventorder.go)
	streams  *streamRegistry
	limits   *limits
	authx    authState
	msg      messagingState
	collab   collabState
	push     pushState
	users    usersState
	op       operatorState
	bg       *background // forgetting removed accounts (lifecycle.go)
	owners   owners      // the users this node owns (ownership.go)
	// knownOwners are the other nodes' users this node sent requests to
	// lately (remote_owners.go).
	knownOwners knownOwners
	// rosters are users' rosters kept a short while for the strangers
	// check (strangers_roster.go).
	rosters rosterCache
	// positions are the joined rooms' read positions on their way to the
	// store (roompositions.go); nil without Config.Rooms.
	positions *roomPositions
	// tabs are the users with a stream on another node (remotetabs.go);
	// nil without Config.Peers.
	tabs *remoteTabs
	// stopPeers stops serving this node's sessions to other nodes
	// (remote.go); nil without Config.Peers.
	stopPeers func()
	// stopListen stops hearing the other nodes' broadcasts
	// (endeverywhere.go); nil when not listening.
	stopListen func()

	closeOnce sync.Once
	closeErr  error
}

// New builds a Server from cfg.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.Domain == "":
		return nil, errors.New("gateway: Config.Domain is empty")
	case !canonicalDomain(cfg.Domain) || (cfg.MUCService != "" && !canonicalDomain(cfg.MUCService)):
		return nil, fmt.Errorf("gateway: Config.Domain %q or MUCService %q is not a domain in canonical form (see package jid)", cfg.Domain, cfg.MUCService)
	case cfg.Tokens == nil:
		return nil, errors.New("gateway: Config.Tokens is nil")
	case cfg.Directory == nil:
		return nil, errors.New("gateway: Config.Directory is nil")
	}
	if err := checkIPv6Prefix(cfg.Limits.IPv6Prefix); err != nil {
		return nil, err
	}
	if cfg.MUCService == "" {
		cfg.MUCService = "conference." + cfg.Domain
	}
	if cfg.MinPasswordLength <= 0 {
		cfg.MinPasswordLength = 8
	}
	s := &Server{cfg: cfg, log: cfg.Logger, tokens: cfg.Tokens, refresh: cfg.Refresh, dir: cfg.Directory, streams: newStreamRegistry(), bg: newBackground(),
		owners: owners{held: map[string]*owned{}}}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.limits = newLimits(cfg.Limits, s.log)
	if cfg.Events.Logger == nil {
		cfg.Events.Logger = s.log
	}
	if cfg.Events.Lazy == nil {
		// A count follows each message some milliseconds later: it rides
		// with the stream's next write (sse/lazy.go) rather than taking
		// one of its own.
		cfg.Events.Lazy = []string{chatapi.Unread{}.EventName()}
	}
	if cfg.Metrics {
		s.metrics = newMetrics()
		if wrote := cfg.Events.Wrote; wrote != nil {
			cfg.Events.Wrote = func(b []byte) { s.metrics.count(b); wrote(b) }
		} else {
			cfg.Events.Wrote = s.metrics.count
		}
	}
	if (cfg.EventLog == nil) != (cfg.Events.Remote == nil) {
		return nil, errors.New("gateway: Config.EventLog and Config.Events.Remote go together")
	}
	hub, err := sse.New(cfg.Events)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	s.hub = hub
	mc := cfg.Sessions
	mc.Stream = cfg.XMPP
	if s.metrics != nil {
		mc.Stream.OnAnswerDropped = s.metrics.answersDropped.Inc
		mc.Stream.OnStanzaSkipped = s.metrics.stanzasSkipped.Inc
		mc.OnLost = s.metrics.countLost // the gateway owns the hooks, as OnEnd below
	}
	if mc.Stream.Domain == "" {
		mc.Stream.Domain = cfg.Domain
	}
	if len(mc.MUCServices) == 0 {
		mc.MUCServices = []string{cfg.MUCService}
	}
	mc.Issuer = tokenIssuer{dir: cfg.Directory, locked: s.operatorLocked}
	// Without tokens, a dropped connection comes back only with the
	// password the user signed in with, kept in memory by the session.
	mc.KeepPassword = mc.KeepPassword || !xmppadmin.IssuesTokens(cfg.Directory)
	mc.Deliver = s.deliver
	mc.OnEnd = s.sessionEnded
	mc.OnRefused = s.sessionRefused
	if cfg.Rooms != nil {
		mc.Rooms, mc.OnRoomsSaved, mc.OnRoomExit = s.savedRooms, s.saveRooms, s.roomExited
		s.positions = newRoomPositions()
		mc.OnRoomRead = s.positions.note
	}
	if cfg.EventLog != nil {
		mc.ArchiveAfter = s.archiveAfter // events.go
	}
	mc.Active = func(user string) bool { return s.hub.Streams(user) > 0 }
	mc.PushApp = s.pushRegistration
	if mc.Logger == nil {
		mc.Logger = s.log
	}
	sess, err := xmppconn.NewManager(mc)
	if err != nil {
		hub.Close()
		return nil, fmt.Errorf("gateway: %w", err)
	}
	s.sessions = sess
	s.trackCensus() // census.go
	for _, init := range []func() error{s.initAuth, s.initMessaging, s.initCollab, s.initPush, s.initUsers, s.initOperator} {
		if err := init(); err != nil {
			s.sessions.Close()
			hub.Close()
			return nil, fmt.Errorf("gateway: %w", err)
		}
	}
	spec, err := loadSpec() // spec.go
	if err != nil {
		s.sessions.Close()
		hub.Close()
		return nil, fmt.Errorf("gateway: %w", err)
	}
	s.spec = spec
	s.echo = s.routes()
	if err := s.startPeers(); err != nil {
		s.sessions.Close()
		hub.Close()
		return nil, err
	}
	if err := s.listenNodes(); err != nil {
		if s.stopPeers != nil {
			s.stopPeers()
		}
		s.sessions.Close()
		hub.Close()
		return nil, err
	}
	if s.positions != nil {
		s.bg.run(s.runRoomPositions)
	}
	return s, nil
}

// Handler returns the http.Handler that serves everything: the API, the
// event stream, the spec, health checks and the web client.
func (s *Server) Handler() http.Handler { return s.echo }

// EndStreams starts ending every open event stream, each with a final event
// that says the gateway is shutting down. It does not wait; it is meant for
// http.Server.RegisterOnShutdown, since Shutdown would otherwise wait for
// streams that never end on their own.
func (s *Server) EndStreams() { s.hub.EndStreams() }

// Close ends the XMPP sessions and the event streams, and returns when
// every goroutine the Server started has exited. It is idempotent.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if s.stopListen != nil {
			s.stopListen()
		}
		if s.stopPeers != nil {
			s.stopPeers()
		}
		s.hub.EndStreams()
		err1 := s.sessions.Close()
		s.push.later.close() // uses the read state: before it closes
		s.closeUnread()
		s.bg.close()
		err2 := s.hub.Close()
		s.closeErr = errors.Join(err1, err2)
		s.limits.close()
	})
	return s.closeErr
}

func (s *Server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	// The client address: the peer's, or behind the trusted proxies the
	// one they forward (clientaddr.go).
	e.IPExtractor = clientIPExtractor(s.cfg.Limits.TrustedProxies)

	e.Pre(middleware.RemoveTrailingSlashWithConfig(middleware.TrailingSlashConfig{
		Skipper: func(c echo.Context) bool {
			u := c.Request().URL
			// A slash that ends an escaped parameter (%2F, as in a
			// preview of https://example.org/) is data, not a trailing
			// slash.
			return !strings.HasPrefix(u.Path, APIPrefix+"/rest/") || u.RawPath != "" && !strings.HasSuffix(u.RawPath, "/")
		},
	}))
	if s.metrics != nil {
		e.Use(s.metrics.requests) // first: every request, refused or not (metrics_http.go)
	}
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.log.Error("panic in handler", "method", c.Request().Method, "path", c.Path(), "err", err, "stack", string(stack))
			return err
		},
	}))
	e.Use(securityHeaders(pageCSP(s.cfg.ConnectOrigins)))
	if len(s.cfg.CORSOrigins) > 0 {
		e.Use(middleware.CORSWithConfig(middleware.CORSConfig{
			AllowOrigins:  s.cfg.CORSOrigins,
			AllowMethods:  []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete},
			AllowHeaders:  []string{"Authorization", "Content-Type", "Last-Event-ID"},
			ExposeHeaders: []string{"Retry-After"},
			MaxAge:        600,
		}))
	}
	// Body size, request time and the session limit (limits.go).
	e.Use(s.limitRequests)

	e.GET("/healthz", s.healthz)
	e.HEAD("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.HEAD("/readyz", s.readyz)
	s.routeMetrics(e)

	docs, err := fs.Sub(web.APIDocs, "apidocs")
	if err == nil {
		e.GET(APIPrefix+"/docs", func(c echo.Context) error {
			return c.Redirect(http.StatusMovedPermanently, APIPrefix+"/docs/")
		})
		e.GET(APIPrefix+"/docs/*", echo.WrapHandler(http.StripPrefix(APIPrefix+"/docs/", http.FileServerFS(docs))))
		// The viewer loads the spec relative to itself.
		e.GET(APIPrefix+"/docs/openapi.yaml", func(c echo.Context) error {
			return c.Blob(http.StatusOK, "application/yaml", sparkgate.OpenAPI)
		})
	}

	api := e.Group("", s.validateRequests(&oapimw.Options{
		Options: openapi3filter.Options{
			AuthenticationFunc: s.authenticate,
			MultiError:         false,
		},
		// Servers is nil already (spec.go): no Host check, no warning.
		ErrorHandler: func(_ echo.Context, err *echo.HTTPError) error {
			// The security check reads the body first; a chunked body
			// over the limit fails there, and is a 413, not a 403.
			var he *echo.HTTPError
			if errors.As(err.Internal, &he) && he.Code == http.StatusRequestEntityTooLarge {
				return he
			}
			return err
		},
	}))
	RegisterHandlersWithOptions(api, s, RegisterHandlersOptions{OperationMiddlewares: s.userRequestLimits(s.spec)}) // apilimit.go

	// Anything else under the API prefix is a JSON 404, never a page.
	e.Any(APIPrefix+"/*", func(c echo.Context) error { return echo.ErrNotFound })
	if s.cfg.WebClient {
		client, err := fs.Sub(web.FS, "static")
		if err == nil {
			files := echo.WrapHandler(http.FileServerFS(client))
			// "/" needs its own route: the validator group's catch-all
			// not-found routes would otherwise answer it.
			e.GET("/", files)
			e.GET("/*", files)
		}
	}
	return e
}

// pageCSP is the Content-Security-Policy of the pages: only this origin,
// no inline script or style, plus the upload origins for requests
// (connect-src: the PUT) and images (img-src: a shared image is shown
// inline from its GET URL).
func pageCSP(connect []string) string {
	src := "'self'"
	for _, o := range connect {
		// Origins only: no spaces or semicolons can reach the header.
		if u, err := url.Parse(o); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" &&
			!strings.ContainsAny(u.Host, " ;,'") {
			src += " " + u.Scheme + "://" + u.Host
		}
	}
	others := strings.TrimPrefix(src, "'self'")
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:" + others + "; connect-src " + src +
		"; worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

// isAPIPath reports whether the request path belongs to the validated API.
func isAPIPath(p string) bool {
	return strings.HasPrefix(p, APIPrefix+"/rest/") || strings.HasPrefix(p, OperatorPrefix+"/") ||
		p == APIPrefix+"/sse" || p == APIPrefix+"/openapi.yaml"
}

// securityHeaders sets the headers every response carries. API responses
// are never cached; pages get a Content-Security-Policy that allows only this
// origin and no inline script.
func securityHeaders(pagePolicy string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("X-Frame-Options", "DENY")
			p := c.Request().URL.Path
			if strings.HasPrefix(p, APIPrefix+"/rest/") || strings.HasPrefix(p, OperatorPrefix+"/") || p == APIPrefix+"/sse" ||
				p == "/healthz" || p == "/readyz" {
				h.Set("Cache-Control", "no-store")
				h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
			} else {
				h.Set("Content-Security-Policy", pagePolicy)
			}
			return next(c)
		}
	}
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz reports whether every dependency answers: 200 when all do, 503
// with the failing ones named otherwise.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	status := http.StatusOK
	checks := make(map[string]string, len(s.cfg.Ready))
	for _, rc := range s.cfg.Ready {
		if err := rc.Check(ctx); err != nil {
			status = http.StatusServiceUnavailable
			checks[rc.Name] = "failing"
			s.log.Warn("readiness check failed", "check", rc.Name, "err", err)
			continue
		}
		checks[rc.Name] = "ok"
	}
	word := "ok"
	if status != http.StatusOK {
		word = "unavailable"
	}
	return c.JSON(status, map[string]any{"status": word, "checks": checks})
}
