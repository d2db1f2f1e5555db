package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/jid"
	"github.com/sparkgate/sparkgate/store"
	"github.com/sparkgate/sparkgate/webpush"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// pushSettings are the settings of the push area (config.Push).
type pushSettings struct {
	Enabled       bool
	Subject       string
	InsecureHosts string
	AllowPrivate  bool
	Admins        string
	TTL           time.Duration
	ActionTTL     time.Duration
	Collapse      time.Duration
	Queue         int
	Workers       int
	Component     string
	Service       string
	SecretFile    string
	AwayLimit     int
	UnreadAfter   time.Duration

	// component is what run starts when Component is set (wirePush).
	component *xmppconn.ComponentConfig
}

// pushOptions are the push area's settings; each sets a field of
// config.Push.
var pushOptions = []option{
	{name: "push", def: "true", usage: "send Web Push notifications to users with no open tab (the VAPID key is kept in data-dir)",
		set: boolean(func(c *config) *bool { return &c.Push.Enabled })},
	{name: "push-subject", def: "", usage: "contact the push services may reach: an e-mail address without mailto: or an https URL (empty: admin@<xmpp-domain>)",
		set: str(func(c *config) *string { return &c.Push.Subject })},
	{name: "push-insecure-hosts", def: "", usage: "comma-separated push endpoint hosts accepted over plain http (tests only)",
		set: str(func(c *config) *string { return &c.Push.InsecureHosts })},
	{name: "push-allow-private", def: "false", usage: "let the gateway send pushes to loopback and private addresses (tests only; otherwise refused against SSRF)",
		set: boolean(func(c *config) *bool { return &c.Push.AllowPrivate })},
	{name: "push-admins", def: "", usage: "comma-separated bare JIDs that may push to any user and list every subscriber",
		set: str(func(c *config) *string { return &c.Push.Admins })},
	{name: "push-ttl", def: "12h", usage: "how long a push service keeps a notification for an offline browser",
		set: duration(func(c *config) *time.Duration { return &c.Push.TTL })},
	{name: "push-action-ttl", def: "1h", usage: "lifetime of the single-use reply token inside a notification",
		set: duration(func(c *config) *time.Duration { return &c.Push.ActionTTL })},
	{name: "push-unread-after", def: "2m", usage: "push a message that reached an open tab all the same when it is still unread this long after (a tab left open on another computer); negative: never",
		set: duration(func(c *config) *time.Duration { return &c.Push.UnreadAfter })},
	{name: "push-collapse", def: "2s", usage: "messages of one conversation within this window become one notification",
		set: duration(func(c *config) *time.Duration { return &c.Push.Collapse })},
	{name: "push-queue", def: "1024", usage: "notifications and retries waiting to be sent; more are dropped",
		set: integer(func(c *config) *int { return &c.Push.Queue })},
	{name: "push-workers", def: "4", usage: "concurrent requests to push services",
		set: integer(func(c *config) *int { return &c.Push.Workers })},
	{name: "push-component", def: "", usage: "host:port of the XMPP server's external component listener (XEP-0114), where the gateway serves as push app server (XEP-0357) so that users without a session get pushes (empty: only users with a session)",
		set: str(func(c *config) *string { return &c.Push.Component })},
	{name: "push-service", def: "", usage: "JID of that push app server component (empty: push.<xmpp-domain>)",
		set: str(func(c *config) *string { return &c.Push.Service })},
	{name: "push-away-limit", def: "30", usage: "pushes per minute one user without a session gets from the XMPP server's notifications: at most this many at once, earned back at this many a minute; the rest of a burst is dropped (0: no limit)",
		set: integer(func(c *config) *int { return &c.Push.AwayLimit })},
	{name: "push-component-secret-file", def: "", usage: "file holding the component listener's secret (empty: data-dir/push-component.secret, made on first start; give it to the XMPP server)",
		set: str(func(c *config) *string { return &c.Push.SecretFile })},
}

// pushSecretFile is the component secret's file in the data directory.
const pushSecretFile = "push-component.secret"

// loadOrCreateSecret reads the secret in path, or makes a random one
// there (mode 0600) when the file does not exist.
func loadOrCreateSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if s := strings.TrimSpace(string(b)); s != "" {
			return s, nil
		}
		return "", fmt.Errorf("%s is empty", path)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	s := rand.Text() + rand.Text()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	if _, err := f.WriteString(s + "\n"); err != nil {
		f.Close()
		return "", err
	}
	return s, f.Close()
}

// wirePush fills gc.Push from the settings, building what the gateway
// needs on top of the store and the keys. run closes the Sender after the
// gateway, so nothing is sent to a closed Sender.
func wirePush(ctx context.Context, c *config, st *store.SQLite, keys *auth.Keys, gc *gateway.Config) error {
	p := c.Push
	if !p.Enabled {
		return nil
	}
	if st == nil {
		return fmt.Errorf("push: no store for the subscriptions")
	}
	vapid, err := webpush.LoadOrCreateVAPID(c.DataDir)
	if err != nil {
		return fmt.Errorf("push: %w", err)
	}
	subject := p.Subject
	if subject == "" {
		subject = "admin@" + c.XMPPDomain
	}
	if strings.HasPrefix(subject, "mailto:") {
		// webpush-go adds the scheme itself.
		subject = strings.TrimPrefix(subject, "mailto:")
	}
	sender, err := webpush.NewSender(webpush.SenderConfig{
		Keys:         vapid,
		Subject:      subject,
		Store:        st,
		QueueSize:    p.Queue,
		Workers:      p.Workers,
		Collapse:     p.Collapse,
		AllowPrivate: p.AllowPrivate,
		Logger:       gc.Logger,
	})
	if err != nil {
		return fmt.Errorf("push: %w", err)
	}
	gc.Users.Global.VAPIDPublicKey = func(context.Context) (string, error) { return vapid.Public, nil }
	gc.Users.OnDelete = append(gc.Users.OnDelete, func(ctx context.Context, user string) error {
		subs, err := st.PushSubscriptions(ctx, user)
		if err != nil {
			return err
		}
		for _, sub := range subs {
			if err := st.DeletePushEndpoint(ctx, user, sub.Endpoint); err != nil {
				return err
			}
		}
		return nil
	})
	gc.Push = gateway.PushConfig{
		Sender:        sender,
		Store:         st,
		InsecureHosts: splitList(p.InsecureHosts),
		Admins:        splitList(p.Admins),
		TTL:           p.TTL,
		ActionTTL:     p.ActionTTL,
		UnreadAfter:   p.UnreadAfter,
	}
	if st.Engine() == "postgres" {
		// Gateways that share the database share each user's push
		// budgets, as they share the login attempts (wire_auth.go).
		gc.Push.Attempts = st
	}
	if p.Component == "" {
		return nil
	}
	service := p.Service
	if service == "" {
		service = "push." + c.XMPPDomain
	}
	if service, err = jid.Domainpart(service); err != nil {
		return fmt.Errorf("-push-service: %w", err)
	}
	file := p.SecretFile
	if file == "" {
		file = filepath.Join(c.DataDir, pushSecretFile)
	}
	secret, err := loadOrCreateSecret(file)
	if err != nil {
		return fmt.Errorf("push component secret: %w", err)
	}
	gc.Push.Service, gc.Push.Nodes, gc.Push.Rooms, gc.Push.AwayLimit = service, st, st, p.AwayLimit
	if p.AwayLimit == 0 {
		gc.Push.AwayLimit = -1 // the flag's 0 is PushConfig's "no limit"
	}
	c.Push.component = &xmppconn.ComponentConfig{Addr: p.Component, Domain: service, Secret: secret, Logger: gc.Logger}
	return nil
}

// startPushComponent runs the push app server's component for gw when
// wirePush configured one, and returns the function that stops it and
// waits (safe to call more than once).
func startPushComponent(c *config, gw *gateway.Server) (stop func()) {
	cc := c.Push.component
	if cc == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	cfg := *cc
	cfg.Push = gw.HandlePushNotification
	// Each connection renews the registrations the server may have dropped
	// while the component was away, one renewal at a time.
	renew := make(chan struct{}, 1)
	cfg.Connected = func() {
		select {
		case renew <- struct{}{}:
		default:
		}
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := xmppconn.RunPushComponent(ctx, cfg); err != nil {
			cfg.Logger.Error("push component", "err", err)
		}
	}()
	go func() {
		defer wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case <-renew:
				gw.RenewPushRegistrations(ctx)
			}
		}
	}()
	return func() {
		cancel()
		wg.Wait()
	}
}
