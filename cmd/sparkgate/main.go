// Command sparkgate is the gateway: it serves the SparkWeb REST API and the
// chatapi.* event stream in front of an XMPP server.
//
// Usage:
//
//	sparkgate [-config file.yaml] [-listen 127.0.0.1:8080] [-xmpp-addr 127.0.0.1:5222] ...
//
// Every flag can also be set with a SPARKGATE_* environment variable or in
// the YAML file; `sparkgate -h` lists them and README.md has the table.
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/rooms"
	"github.com/sparkgate/sparkgate/sse"
	"github.com/sparkgate/sparkgate/store"
	"github.com/sparkgate/sparkgate/xmppconn"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr, nil); err != nil {
		if errors.Is(err, errHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "sparkgate:", err)
		os.Exit(1)
	}
}

var errHelp = errors.New("help requested")

// run starts the gateway and serves until ctx ends, then shuts down in
// order: HTTP (streams first), XMPP sessions, store. When ready is not nil,
// the listening address is sent on it once the server accepts connections.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, ready chan<- string) error {
	cfg, err := loadConfig(args, getenv, stderr)
	if err != nil {
		if errors.Is(err, flagErrHelp) {
			return errHelp
		}
		return err
	}
	log := newLogger(cfg, stderr)
	log.Info("starting", configAttrs(cfg)...)

	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	openCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	st, err := openStore(openCtx, cfg)
	cancel()
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer st.Close()
	keys, err := auth.LoadOrCreateKeys(filepath.Join(cfg.DataDir, "keys"))
	if err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	if err := sweepUserKeys(ctx, st, keys, log); err != nil {
		return err
	}
	// Room passwords stored before they were sealed are sealed now (once:
	// later starts find none).
	if n, err := rooms.SealExisting(ctx, st, keys); err != nil {
		return fmt.Errorf("sealing room passwords: %w", err)
	} else if n > 0 {
		log.Info("room passwords sealed", "count", n)
	}
	tokens, err := auth.NewTokens(auth.TokensConfig{
		Keys:     keys,
		Store:    st,
		Audience: cfg.XMPPDomain,
		Issuer:   cfg.PublicURL,
		Lifetime: cfg.TokenLifetime,
		Leeway:   30 * time.Second,
	})
	if err != nil {
		return err
	}
	refresh, err := auth.NewRefresh(auth.RefreshConfig{
		Tokens:           tokens,
		Store:            st,
		SessionLifetime:  cfg.RefreshLifetime,
		RememberLifetime: cfg.RememberRefresh,
		RetryWindow:      cmp.Or(cfg.RefreshRetry, -1), // 0 turns retries off
	})
	if err != nil {
		return err
	}
	dir, err := newDirectory(cfg)
	if err != nil {
		return err
	}
	proxies, err := cfg.trustedProxies()
	if err != nil {
		return err
	}
	tlsMode := map[string]xmppconn.TLSMode{"off": xmppconn.TLSOff, "optional": xmppconn.TLSOptional, "required": xmppconn.TLSRequired}[cfg.XMPPTLS]

	gc := gateway.Config{
		Domain:         cfg.XMPPDomain,
		CORSOrigins:    cfg.corsOrigins(),
		WebClient:      cfg.WebClient,
		ConnectOrigins: splitList(cfg.ConnectOrigins),
		Metrics:        cfg.Metrics,
		Ready: []gateway.ReadyCheck{
			{Name: "store", Check: st.Ping},
			{Name: "xmpp", Check: func(ctx context.Context) error { return probeXMPP(ctx, cfg.XMPPAddr, cfg.XMPPDomain) }},
		},
		Logger:    log,
		Tokens:    tokens,
		Refresh:   refresh,
		Rooms:     rooms.Sealed(st, keys), // joined rooms outlive sessions and restarts (issue 20), their passwords sealed
		Directory: dir,
		XMPP: xmppconn.Config{
			Addr:                                 cfg.XMPPAddr,
			Domain:                               cfg.XMPPDomain,
			TLS:                                  tlsMode,
			CAFile:                               cfg.XMPPCAFile,
			ServerName:                           cfg.XMPPServerName,
			InsecureSkipVerifyForDevelopmentOnly: cfg.XMPPInsecureTLS,
			Logger:                               log,
		},
		Sessions: xmppconn.ManagerConfig{
			IdleTimeout: sessionGrace(cfg),
			AwayAfter:   cfg.AwayAfter,
			MaxSessions: cfg.MaxSessions,
			RawEvents:   cfg.RawEvents,
		},
		Events: sse.Config{
			LogEvents: cfg.EventBuffer,
			LogAge:    cfg.EventBufferAge,
			Heartbeat: cfg.Heartbeat,
			MaxAge:    cfg.StreamMaxAge,
		},
		MUCService:        cfg.MUCService,
		Registration:      cfg.Registration,
		MinPasswordLength: cfg.MinPasswordLen,
		Limits: gateway.LimitsConfig{
			MaxBody:           cfg.MaxBody,
			MaxStreamsPerUser: cfg.MaxUserStreams,
			MaxStreamsPerIP:   cfg.MaxIPStreams,
			IPv6Prefix:        cfg.IPv6Prefix,
			MaxStreams:        cfg.MaxStreams,
			RequestTimeout:    cfg.RequestTimeout,
			UserRequests:      rateLimit(cfg.UserRequestBurst, cfg.UserRequestInterval), // wire_auth.go
			TrustedProxies:    proxies,
		},
	}
	closeEvents, err := wireEvents(ctx, cfg, &gc)
	if err != nil {
		return err
	}
	defer closeEvents()
	for _, wire := range []func(context.Context, *config, *store.SQLite, *auth.Keys, *gateway.Config) error{wireAuth, wireMessaging, wireCollab, wirePush, wireUsers, wireOperator} {
		if err := wire(ctx, cfg, st, keys, &gc); err != nil {
			return err
		}
	}
	gw, err := gateway.New(gc)
	if err != nil {
		return err
	}
	defer gw.Close()
	// Notifications go into the gateway: the component stops first.
	stopPush := startPushComponent(cfg, gw)
	defer stopPush()

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           gw.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		// ReadTimeout bounds the request, body included; once a request
		// without a body is read, net/http lifts the read deadline, so an
		// event stream outlives it.
		ReadTimeout: cfg.ReadTimeout,
		// Streams clear their own write deadline; everything else must
		// finish writing within this.
		WriteTimeout: writeTimeout(cfg.RequestTimeout),
		IdleTimeout:  cfg.IdleTimeout,
		ErrorLog:     slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(gw.EndStreams)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "url", cfg.PublicURL)
	if ready != nil {
		ready <- ln.Addr().String()
	}

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		log.Warn("http shutdown incomplete", "err", err)
		srv.Close()
	}
	<-served
	stopPush()
	if err := gw.Close(); err != nil {
		log.Warn("closing sessions", "err", err)
	}
	if gc.Push.Sender != nil {
		gc.Push.Sender.Close()
	}
	log.Info("stopped")
	return nil
}

// defaultSessionGrace is how long a session outlives the user's last tab
// when the user's server pushes (-push-component): long enough for a page
// reload or a short loss of network, short enough that contacts soon see
// the user go away.
const defaultSessionGrace = 5 * time.Minute

// sessionGrace is the sessions' idle timeout: -session-grace, or its
// default. Without the push component a session is the only way a user
// with no tab is notified, so it lives as long as a token.
func sessionGrace(cfg *config) time.Duration {
	switch {
	case cfg.SessionGrace > 0:
		return cfg.SessionGrace
	case cfg.Push.Enabled && cfg.Push.Component != "":
		return defaultSessionGrace
	}
	return cfg.TokenLifetime
}

// writeTimeout is the server's WriteTimeout: a minute, or longer when the
// request timeout needs it, so that a request cut off at its time limit
// can still write its 504.
func writeTimeout(request time.Duration) time.Duration {
	return max(60*time.Second, request+10*time.Second)
}

func newLogger(cfg *config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// configAttrs lists the effective settings for the start-up log line;
// secret settings are masked.
// openStore opens the store -store names: the SQLite file in data-dir,
// or a PostgreSQL database.
func openStore(ctx context.Context, cfg *config) (*store.DB, error) {
	if cfg.Store != "" {
		return store.OpenPostgres(ctx, cfg.Store)
	}
	return store.Open(ctx, filepath.Join(cfg.DataDir, "sparkgate.db"))
}

func configAttrs(cfg *config) []any {
	out := make([]any, 0, 2*len(options))
	for _, o := range options {
		v := cfg.values[o.name]
		if o.secret && v != "" {
			v = "***"
		}
		out = append(out, o.name, v)
	}
	return out
}
