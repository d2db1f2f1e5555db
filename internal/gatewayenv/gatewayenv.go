// Package gatewayenv starts a whole gateway for tests: its own store and
// keys, the shared ejabberd of ejabberdtest, the web client, and an HTTP
// server on loopback whose URL names the host "localhost" (WebAuthn needs a
// domain, never an IP address, as relying-party id). The browser tests of
// package web and the integration tests of package gateway use it.
//
// The package calling Start needs ejabberdtest's TestMain:
//
//	func TestMain(m *testing.M) { ejabberdtest.Main(m) }
package gatewayenv

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/rooms"
	"github.com/sparkgate/sparkgate/store"
	"github.com/sparkgate/sparkgate/webpush"
	"github.com/sparkgate/sparkgate/webpush/webpushtest"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// Env is a running gateway.
type Env struct {
	*gatewaytest.Client // API calls against URL

	// URL is http://localhost:<port>, the origin pages are loaded from.
	URL string
	// Gateway is the server, for tests that reach into it.
	Gateway *gateway.Server
	// Store is the gateway's store.
	Store *store.SQLite
	// Keys are the gateway's signing keys.
	Keys *auth.Keys
	// Tokens issues and checks the gateway's tokens, unless Config or
	// Setup replaced them (Gateway's configuration then has the others).
	Tokens *auth.Tokens
	// Server is the HTTP server in front of the gateway.
	Server *httptest.Server
	// Push is the fake push service the gateway's Web Push sends to, with
	// Options.Push; nil otherwise. Its host is accepted over plain http.
	Push *webpushtest.Service

	mu       sync.Mutex
	streams  map[*http.Request]context.CancelFunc
	hijacked []net.Conn // connections streams took over (see New)
	stop     sync.Once
}

type logWriter struct{ t testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Options choose what Start switches on beyond the defaults.
type Options struct {
	// Push switches Web Push on, sending to a fake push service (Env.Push).
	Push bool
	// PushAdmins are the bare JIDs that may push to anyone.
	PushAdmins []string
	// Dir holds the store (sparkgate.db, unless Store) and the keys: a gateway started
	// again on the same Dir is the same gateway restarted. Empty means a
	// new temporary directory.
	Dir string
	// Store, when set, is the URL of a PostgreSQL database (pgtest.DSN)
	// the gateway keeps its store in instead of Dir's SQLite file, with
	// the lockout and the login attempts counted there too: gateways started on one Store and
	// one Dir (the keys) are nodes of one cluster.
	Store string
	// Plain leaves out what the browser journeys add to the gateway's
	// defaults: TOTP, passkeys, bookmarks kept in the store (as
	// cmd/sparkgate keeps them), a short reconnect delay and the upload
	// service as a connect origin.
	Plain bool
	// Config may change the configuration before the gateway is built.
	Config func(*gateway.Config)
	// Setup, when set, is called after Config with the gateway's store and
	// keys, for a test that builds more on them (bookmarks and properties
	// kept in the store, its own TOTP or token settings).
	Setup func(c *gateway.Config, st *store.SQLite, keys *auth.Keys)
	// TokenLifetime is the access tokens' lifetime; zero means the
	// default (auth.DefaultLifetime). Refresh tokens are always on.
	TokenLifetime time.Duration
}

// Start is StartWith(t, Options{Config: mod}).
func Start(t testing.TB, mod func(*gateway.Config)) *Env {
	t.Helper()
	return StartWith(t, Options{Config: mod})
}

// StartWith starts a gateway in front of the shared ejabberd, with TOTP and
// passkeys (relying party "localhost", origin URL) switched on unless
// o.Plain, and what o asks for. Everything stops at the end of the test,
// unless Kill stopped it earlier.
func StartWith(t testing.TB, o Options) *Env {
	t.Helper()
	srv := ejabberdtest.Shared(t)
	dir := o.Dir
	if dir == "" {
		dir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var st *store.DB
	var err error
	if o.Store != "" {
		st, err = store.OpenPostgres(ctx, o.Store)
	} else {
		st, err = openSQLite(ctx, filepath.Join(dir, "sparkgate.db")) // storetemplate.go
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() }) // once started, stop closes it first
	keys, err := auth.LoadOrCreateKeys(filepath.Join(dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := auth.NewTokens(auth.TokensConfig{Keys: keys, Store: st, Audience: srv.Domain(), Issuer: "http://sparkgate.test", Lifetime: o.TokenLifetime})
	if err != nil {
		t.Fatal(err)
	}
	refresh, err := auth.NewRefresh(auth.RefreshConfig{Tokens: tokens, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	origin := "http://localhost:" + port
	log := slog.New(slog.NewTextHandler(logWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg := gateway.Config{
		Domain:       srv.Domain(),
		Tokens:       tokens,
		Refresh:      refresh,
		Directory:    ejabberdtest.Admin(t),
		XMPP:         xmppconn.Config{Addr: srv.C2SAddr(), Domain: srv.Domain(), TLS: xmppconn.TLSOff},
		Registration: true,
		WebClient:    true,
		Logger:       log,
		Ready:        []gateway.ReadyCheck{{Name: "store", Check: st.Ping}},
		Rooms:        rooms.Sealed(st, keys),
		Messaging:    gateway.MessagingConfig{Unread: st, Requests: st, Mutes: st},
		Users:        gateway.UsersConfig{Properties: st}, // as cmd/sparkgate: the web client keeps its pins there
	}
	if o.Store != "" {
		cfg.Auth.Failures, cfg.Auth.Attempts = st, st
	}
	if !o.Plain {
		if cfg.Auth.TOTP, err = auth.NewTOTP(auth.TOTPConfig{Keys: keys, Store: st, Issuer: "sparkgate test"}); err != nil {
			t.Fatal(err)
		}
		cfg.Auth.Passkeys, err = auth.NewPasskeys(auth.PasskeysConfig{RPID: "localhost", RPDisplayName: "sparkgate test", RPOrigins: []string{origin}, Store: st, Ceremonies: st, Keys: keys})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Collab.Bookmarks = st
		cfg.Events.Retry = 250 * time.Millisecond
		// The page PUTs uploads to ejabberd's upload listener.
		cfg.ConnectOrigins = []string{srv.UploadOrigin()}
	}
	var pushSvc *webpushtest.Service
	if o.Push {
		vapid, err := webpush.GenerateVAPID()
		if err != nil {
			t.Fatal(err)
		}
		pushSvc = webpushtest.NewService(t, vapid.Public)
		sender, err := webpush.NewSender(webpush.SenderConfig{
			Keys: vapid, Subject: "admin@example.org", Store: st,
			AllowPrivate: true, // the fake push service is on loopback
		})
		if err != nil {
			t.Fatal(err)
		}
		// Registered before the gateway's cleanup, so it runs after it.
		t.Cleanup(func() { sender.Close() })
		cfg.Push = gateway.PushConfig{Sender: sender, Store: st, InsecureHosts: []string{"127.0.0.1"}, Admins: o.PushAdmins}
	}
	if o.Config != nil {
		o.Config(&cfg)
	}
	if o.Setup != nil {
		o.Setup(&cfg, st, keys)
	}
	if cfg.Tokens != tokens && cfg.Refresh == refresh {
		cfg.Refresh = nil // Config brought its own Tokens, and no Refresh on them
	}
	gw, err := gateway.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := &Env{Gateway: gw, Store: st, Keys: keys, Tokens: tokens, Push: pushSvc, streams: make(map[*http.Request]context.CancelFunc)}
	ts := httptest.NewUnstartedServer(e.track(gw.Handler()))
	ts.Listener.Close()
	ts.Listener = ln
	ts.Config.RegisterOnShutdown(gw.EndStreams)
	// Streams take their connections over from net/http (sse/park.go),
	// which then forgets them, as httptest does: Kill and Crash cut
	// these too, as the death of a process would.
	ts.Config.ConnState = func(c net.Conn, st http.ConnState) {
		if st == http.StateHijacked {
			e.mu.Lock()
			e.hijacked = append(e.hijacked, c)
			e.mu.Unlock()
		}
	}
	ts.Start()
	e.Server = ts
	t.Cleanup(func() {
		e.stop.Do(func() {
			gw.EndStreams()
			ts.Close()
			gw.Close()
			st.Close()
		})
	})
	e.URL = origin
	e.Client = &gatewaytest.Client{Base: e.URL, HTTP: ts.Client()}
	return e
}

// Kill stops the gateway abruptly, as the death of its process would:
// every client connection is cut without a final event, the sessions end
// without a logout, and the store is closed. A gateway started again on the
// same Options.Dir finds what this one left there.
func (e *Env) Kill() {
	e.stop.Do(func() {
		e.cutHijacked()
		e.Server.CloseClientConnections()
		e.Server.Close()
		e.Gateway.Close()
		e.Store.Close()
	})
}

// Crash stops the gateway as a crash would, harder than Kill: the store
// is closed first, so nothing the gateway writes as its sessions end
// reaches it (their last read positions in their rooms, for one); the
// store keeps what the gateway wrote while it ran.
func (e *Env) Crash() {
	e.stop.Do(func() {
		e.Store.Close()
		e.cutHijacked()
		e.Server.CloseClientConnections()
		e.Server.Close()
		e.Gateway.Close()
	})
}

// cutHijacked closes the connections the event streams took over.
func (e *Env) cutHijacked() {
	e.mu.Lock()
	conns := e.hijacked
	e.hijacked = nil
	e.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// track wraps h so that DropStreams can cut the open event streams.
func (e *Env) track(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != gateway.APIPrefix+"/sse" {
			h.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithCancel(r.Context())
		r = r.WithContext(ctx)
		e.mu.Lock()
		e.streams[r] = cancel
		e.mu.Unlock()
		defer func() {
			e.mu.Lock()
			delete(e.streams, r)
			e.mu.Unlock()
			cancel()
		}()
		h.ServeHTTP(w, r)
	})
}

// DropStreams ends every open event stream abruptly, without a final
// event, as a lost connection would, and reports how many it ended. A
// stream still in its handler (HTTP/2) is cancelled; one that took its
// connection over and outlives its handler (sse/detach.go) loses the
// connection.
func (e *Env) DropStreams() int {
	e.mu.Lock()
	n := len(e.streams)
	for _, cancel := range e.streams {
		cancel()
	}
	conns := e.hijacked
	e.hijacked = nil
	e.mu.Unlock()
	for _, c := range conns {
		if c.Close() == nil { // an error: the stream had ended already
			n++
		}
	}
	return n
}
