package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sparkgate/sparkgate/jid"
	"github.com/sparkgate/sparkgate/store"
)

// config is everything the gateway can be told at start. Each field is set,
// in increasing order of precedence, from its default, the YAML file named by
// -config (or SPARKGATE_CONFIG), a SPARKGATE_* environment variable, and a
// command-line flag. The options table below is the single list of them; the
// README's configuration table is generated from it (see TestREADMEOptions).
type config struct {
	Listen          string
	PublicURL       string
	XMPPAddr        string
	XMPPDomain      string
	XMPPTLS         string
	XMPPCAFile      string
	XMPPServerName  string
	XMPPInsecureTLS bool
	MUCService      string
	PubSubService   string
	AdminURL        string
	DataDir         string
	Store           string // "" (SQLite in DataDir) or a PostgreSQL URL
	LogLevel        string
	LogFormat       string
	CORSOrigins     string
	Metrics         bool
	TokenLifetime   time.Duration
	RefreshLifetime time.Duration // refresh tokens without "stay signed in"
	RememberRefresh time.Duration // refresh tokens with "stay signed in"
	RefreshRetry    time.Duration // a lost refresh answer's retry; 0: none
	Registration    bool
	MinPasswordLen  int
	ShutdownTimeout time.Duration
	WebClient       bool
	MaxSessions     int
	MaxBody         int64
	MaxUserStreams  int
	// TrustedProxies lists the reverse proxies' networks
	// (gateway.LimitsConfig.TrustedProxies).
	TrustedProxies string
	// UserRequestBurst and UserRequestInterval are the per-user API
	// request limit (gateway.LimitsConfig.UserRequests).
	UserRequestBurst    int
	UserRequestInterval time.Duration
	MaxIPStreams        int
	IPv6Prefix          int
	MaxStreams          int
	RequestTimeout      time.Duration
	ReadTimeout         time.Duration
	IdleTimeout         time.Duration
	SessionGrace        time.Duration
	AwayAfter           time.Duration
	ConnectOrigins      string
	RawEvents           bool
	EventBuffer         int
	EventBufferAge      time.Duration
	NATSURL             string
	LeaseTTL            time.Duration
	Heartbeat           time.Duration
	StreamMaxAge        time.Duration

	// Settings of each area, declared in wire_<area>.go.
	Auth      authSettings
	Messaging messagingSettings
	Collab    collabSettings
	Push      pushSettings
	Users     usersSettings
	Operator  operatorSettings

	// values holds each option's effective value as text, for the
	// start-up log.
	values map[string]string
}

// option describes one configuration setting. name is the flag and the YAML
// key; the environment variable is SPARKGATE_ followed by name in upper case
// with dashes turned into underscores.
type option struct {
	name  string
	def   string
	usage string
	set   func(c *config, v string) error
	// secret options are never printed with their value.
	secret bool
}

func (o option) env() string {
	return "SPARKGATE_" + strings.ToUpper(strings.ReplaceAll(o.name, "-", "_"))
}

func str(p func(*config) *string) func(*config, string) error {
	return func(c *config, v string) error { *p(c) = v; return nil }
}

// storeSpec takes -store: empty or "sqlite", or a PostgreSQL URL. Its
// error never repeats the value (a URL may hold a password).
func storeSpec(c *config, v string) error {
	switch {
	case v == "" || v == "sqlite":
		c.Store = ""
	case store.IsPostgresDSN(v):
		c.Store = v
	default:
		return errors.New("want empty, sqlite or a postgres:// URL")
	}
	return nil
}

func boolean(p func(*config) *bool) func(*config, string) error {
	return func(c *config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("want true or false, got %q", v)
		}
		*p(c) = b
		return nil
	}
}

func duration(p func(*config) *time.Duration) func(*config, string) error {
	return func(c *config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("want a duration such as 30s or 8h, got %q", v)
		}
		*p(c) = d
		return nil
	}
}

func integer(p func(*config) *int) func(*config, string) error {
	return func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("want a non-negative integer, got %q", v)
		}
		*p(c) = n
		return nil
	}
}

// size parses a byte count: a number of bytes, or one with a KiB, MiB or
// GiB suffix ("512KiB"). It must be at least min.
func size(p func(*config) *int64, min int64) func(*config, string) error {
	return func(c *config, v string) error {
		num, mult := strings.TrimSpace(v), int64(1)
		for _, u := range []struct {
			suffix string
			mult   int64
		}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"B", 1}} {
			if n, ok := strings.CutSuffix(num, u.suffix); ok {
				num, mult = strings.TrimSpace(n), u.mult
				break
			}
		}
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || n < 0 || n > (1<<40)/mult {
			return fmt.Errorf("want a size such as 512KiB or 1MiB, got %q", v)
		}
		if n*mult < min {
			return fmt.Errorf("want at least %d bytes, got %q", min, v)
		}
		*p(c) = n * mult
		return nil
	}
}

func oneOf(p func(*config) *string, allowed ...string) func(*config, string) error {
	return func(c *config, v string) error {
		for _, a := range allowed {
			if v == a {
				*p(c) = v
				return nil
			}
		}
		return fmt.Errorf("want one of %s, got %q", strings.Join(allowed, ", "), v)
	}
}

// options are every setting, the core ones first, then each area's
// (wire_<area>.go).
var options = slices.Concat(coreOptions, authOptions, messagingOptions, collabOptions, pushOptions, usersOptions, operatorOptions)

var coreOptions = []option{
	{name: "listen", def: "127.0.0.1:8080", usage: "address the HTTP API listens on",
		set: str(func(c *config) *string { return &c.Listen })},
	{name: "public-url", def: "http://localhost:8080", usage: "URL browsers use to reach the gateway (WebAuthn origin, links in pushes)",
		set: str(func(c *config) *string { return &c.PublicURL })},
	{name: "xmpp-addr", def: "127.0.0.1:5222", usage: "host:port of the XMPP server's client (c2s) listener; no DNS SRV lookup is made",
		set: str(func(c *config) *string { return &c.XMPPAddr })},
	{name: "xmpp-domain", def: "localhost", usage: "XMPP domain of the users (the part after @)",
		set: str(func(c *config) *string { return &c.XMPPDomain })},
	{name: "xmpp-tls", def: "optional", usage: "TLS to the XMPP server: off, optional (STARTTLS when offered) or required",
		set: oneOf(func(c *config) *string { return &c.XMPPTLS }, "off", "optional", "required")},
	{name: "xmpp-ca-file", def: "", usage: "PEM file of CA certificates that sign the XMPP server's certificate (empty: system roots)",
		set: str(func(c *config) *string { return &c.XMPPCAFile })},
	{name: "xmpp-server-name", def: "", usage: "name expected in the XMPP server's certificate (empty: the XMPP domain)",
		set: str(func(c *config) *string { return &c.XMPPServerName })},
	{name: "xmpp-insecure-skip-verify", def: "false", usage: "DEVELOPMENT ONLY: accept any certificate from the XMPP server",
		set: boolean(func(c *config) *bool { return &c.XMPPInsecureTLS })},
	{name: "muc-service", def: "", usage: "group chat (XEP-0045) service (empty: conference.<xmpp-domain>)",
		set: str(func(c *config) *string { return &c.MUCService })},
	{name: "pubsub-service", def: "", usage: "publish-subscribe (XEP-0060) service (empty: pubsub.<xmpp-domain>)",
		set: str(func(c *config) *string { return &c.PubSubService })},
	{name: "admin-url", def: "http://127.0.0.1:5280/api", usage: "base URL of ejabberd's admin API (mod_http_api), on a loopback listener of its own (see Operating ejabberd)",
		set: str(func(c *config) *string { return &c.AdminURL })},
	{name: "data-dir", def: "./data", usage: "directory for the SQLite store and the generated keys (JWT, VAPID, TOTP encryption, meeting names)",
		set: str(func(c *config) *string { return &c.DataDir })},
	{name: "store", def: "", usage: "where the store lives: empty or sqlite for a SQLite file in data-dir; a postgres:// URL for a PostgreSQL database that several gateways may share (login limits, lockouts, used TOTP codes and revocations then hold on all of them; they also need the same keys in data-dir)",
		secret: true, set: storeSpec},
	{name: "log-level", def: "info", usage: "debug, info, warn or error",
		set: oneOf(func(c *config) *string { return &c.LogLevel }, "debug", "info", "warn", "error")},
	{name: "log-format", def: "text", usage: "text or json",
		set: oneOf(func(c *config) *string { return &c.LogFormat }, "text", "json")},
	{name: "cors-origins", def: "", usage: "comma-separated origins allowed to call the API from another origin (empty: same origin only)",
		set: str(func(c *config) *string { return &c.CORSOrigins })},
	{name: "metrics", def: "false", usage: "serve Prometheus metrics at /metrics (no authentication: expose it to your monitoring only)",
		set: boolean(func(c *config) *bool { return &c.Metrics })},
	{name: "token-lifetime", def: "8h", usage: "lifetime of the JWTs the gateway issues",
		set: duration(func(c *config) *time.Duration { return &c.TokenLifetime })},
	{name: "refresh-lifetime", def: "12h", usage: "how long a login without \"stay signed in\" can be refreshed after its last refresh (an open tab refreshes within it; a browser back after longer logs in again)",
		set: duration(func(c *config) *time.Duration { return &c.RefreshLifetime })},
	{name: "remember-lifetime", def: "720h", usage: "how long a login with \"stay signed in\" (remember=true) can be refreshed after its last refresh",
		set: duration(func(c *config) *time.Duration { return &c.RememberRefresh })},
	{name: "refresh-retry-window", def: "1m", usage: "how long after a refresh a client whose answer was lost may present the spent refresh token again and get a new pair, while the lost pair is unused (0: never; any other reuse revokes the login)",
		set: duration(func(c *config) *time.Duration { return &c.RefreshRetry })},
	{name: "registration", def: "true", usage: "allow POST /register (account creation); false answers 403",
		set: boolean(func(c *config) *bool { return &c.Registration })},
	{name: "min-password-length", def: "8", usage: "shortest password accepted at registration",
		set: integer(func(c *config) *int { return &c.MinPasswordLen })},
	{name: "shutdown-timeout", def: "30s", usage: "how long a shutdown waits for requests to finish",
		set: duration(func(c *config) *time.Duration { return &c.ShutdownTimeout })},
	{name: "web-client", def: "true", usage: "serve the browser client at /",
		set: boolean(func(c *config) *bool { return &c.WebClient })},
	{name: "connect-origins", def: "", usage: "comma-separated origins the web client may also send requests to and show images from, e.g. the XMPP server's HTTP upload service",
		set: str(func(c *config) *string { return &c.ConnectOrigins })},
	{name: "max-sessions", def: "10000", usage: "most XMPP sessions (logged-in users) the gateway holds; with nats-url, all nodes together; logins beyond answer 503",
		set: integer(func(c *config) *int { return &c.MaxSessions })},
	{name: "max-body", def: "512KiB", usage: "largest request body (bytes, or with KiB or MiB); larger ones answer 413",
		set: size(func(c *config) *int64 { return &c.MaxBody }, 1<<10)},
	{name: "max-streams-per-user", def: "100", usage: "most event streams (tabs) one user may have open; one more answers 429; 0 switches the limit off",
		set: integer(func(c *config) *int { return &c.MaxUserStreams })},
	{name: "max-streams-per-ip", def: "1000", usage: "most event streams one client address (the TCP peer, as for the login limits; an IPv6 one by its -ipv6-prefix network) may have open, all users together; one more answers 429 with Retry-After; 0 switches the limit off",
		set: integer(func(c *config) *int { return &c.MaxIPStreams })},
	{name: "ipv6-prefix", def: "64", usage: "leading bits of a client's IPv6 address by which the per-address limits (login attempts and lockout, max-streams-per-ip) count it: 64 treats one subscriber's network as one address, as a NAT does with IPv4; 128 counts each address",
		set: integer(func(c *config) *int { return &c.IPv6Prefix })},
	{name: "trusted-proxies", def: "", usage: "comma-separated addresses or CIDR networks of the reverse proxies in front of the gateway: a request from one of them counts, for the per-address limits (login attempts and lockout, max-streams-per-ip) and in the logs, by the client address its X-Forwarded-For names (the rightmost that is not a trusted proxy); empty: the TCP peer's, whatever the header says",
		set: str(func(c *config) *string { return &c.TrustedProxies })},
	{name: "max-streams", def: "20000", usage: "most event streams the gateway holds, all users together (with nats-url, all nodes together); one more answers 503 with Retry-After; 0 switches the limit off",
		set: integer(func(c *config) *int { return &c.MaxStreams })},
	{name: "api-user-burst", def: "300", usage: "API requests one user may make at once with their tokens (the event stream and logging out are not counted; a user search, the user's groups, link and image previews and an operator broadcast count 10); one more answers 429 with Retry-After; each node of a cluster counts its own; 0 switches the limit off",
		set: integer(func(c *config) *int { return &c.UserRequestBurst })},
	{name: "api-user-interval", def: "50ms", usage: "a user earns back one API request this often",
		set: duration(func(c *config) *time.Duration { return &c.UserRequestInterval })},
	{name: "request-timeout", def: "30s", usage: "time limit of each API request but the event stream (504 past it); 0 switches the limit off",
		set: duration(func(c *config) *time.Duration { return &c.RequestTimeout })},
	{name: "read-timeout", def: "60s", usage: "time a client has to send a whole request, body included (event streams are not affected)",
		set: duration(func(c *config) *time.Duration { return &c.ReadTimeout })},
	{name: "idle-timeout", def: "120s", usage: "how long an idle keep-alive connection stays open between requests",
		set: duration(func(c *config) *time.Duration { return &c.IdleTimeout })},
	{name: "session-grace", def: "0s", usage: "how long a user's XMPP session stays after their last event stream ended and their last API call; it then goes unavailable and closes, and with -push-component the user's server pushes meanwhile (0: 5m with -push-component, else token-lifetime)",
		set: duration(func(c *config) *time.Duration { return &c.SessionGrace })},
	{name: "away-after", def: "5m", usage: "show a user whose session stays with no event stream and no API call for this long as away for a while (xa, their status text kept; do not disturb stays) until they are back; negative: never",
		set: duration(func(c *config) *time.Duration { return &c.AwayAfter })},
	{name: "raw-events", def: "true", usage: "make a chatapi.xmpp event with the raw XML of every inbound stanza, for the event streams that ask for it (?raw=true): until a user's first stream opens, then only for users who opened a raw stream (for the rest of their session)",
		set: boolean(func(c *config) *bool { return &c.RawEvents })},
	{name: "event-buffer", def: "1024", usage: "events kept per user for replay to a stream that resumes with Last-Event-ID",
		set: integer(func(c *config) *int { return &c.EventBuffer })},
	{name: "event-buffer-age", def: "1h", usage: "how long an event is kept for replay",
		set: duration(func(c *config) *time.Duration { return &c.EventBufferAge })},
	{name: "nats-url", def: "", usage: "NATS server(s) with JetStream that keep the users' event logs and session leases, shared by several gateway nodes and kept across restarts; a user's session lives on the node holding the user's lease, and the other nodes carry the user's requests there by NATS request/reply (503 with Retry-After while that node cannot be reached, 504 when it does not answer in time); a node taking a user over catches up exactly where the log ends; max-sessions and max-streams count every node's (each node's counts at most a second old) (empty: in memory, one process)",
		set: str(func(c *config) *string { return &c.NATSURL })},
	{name: "lease-ttl", def: "10s", usage: "with nats-url: how long a user's session lease outlives its owner node's last renewal (renewed every third of it); a node that dies gives its users to the other nodes within this time; every node of a cluster must use the same value (at least 300ms)",
		set: duration(func(c *config) *time.Duration { return &c.LeaseTTL })},
	{name: "heartbeat", def: "15s", usage: "a silent event stream gets a comment line this often",
		set: duration(func(c *config) *time.Duration { return &c.Heartbeat })},
	{name: "stream-max-age", def: "0s", usage: "end event streams after about this long (they resume at once); 0 means never",
		set: duration(func(c *config) *time.Duration { return &c.StreamMaxAge })},
}

// loadConfig builds the configuration from defaults, an optional YAML file,
// the environment and args, in that order of precedence.
func loadConfig(args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	c := &config{values: make(map[string]string, len(options))}
	apply := func(o option, v string) error {
		if err := o.set(c, v); err != nil {
			return err
		}
		c.values[o.name] = v
		return nil
	}
	for _, o := range options {
		if err := apply(o, o.def); err != nil {
			return nil, fmt.Errorf("default of %s: %w", o.name, err)
		}
	}

	fs := flag.NewFlagSet("sparkgate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configFile := fs.String("config", getenv("SPARKGATE_CONFIG"), "optional YAML file of settings (keys are the flag names)")
	flagVals := make(map[string]*string, len(options))
	for _, o := range options {
		flagVals[o.name] = fs.String(o.name, "", fmt.Sprintf("%s (env %s, default %q)", o.usage, o.env(), o.def))
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	byName := make(map[string]option, len(options))
	for _, o := range options {
		byName[o.name] = o
	}

	if *configFile != "" {
		raw, err := os.ReadFile(*configFile)
		if err != nil {
			return nil, fmt.Errorf("config file: %w", err)
		}
		var file map[string]any
		if err := yaml.Unmarshal(raw, &file); err != nil {
			return nil, fmt.Errorf("config file %s: %w", *configFile, err)
		}
		keys := make([]string, 0, len(file))
		for k := range file {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			o, ok := byName[k]
			if !ok {
				return nil, fmt.Errorf("config file %s: unknown setting %q", *configFile, k)
			}
			if err := apply(o, fmt.Sprint(file[k])); err != nil {
				return nil, fmt.Errorf("config file %s: %s: %w", *configFile, k, err)
			}
		}
	}
	for _, o := range options {
		if v := getenv(o.env()); v != "" {
			if err := apply(o, v); err != nil {
				return nil, fmt.Errorf("%s: %w", o.env(), err)
			}
		}
	}
	var errs []error
	fs.Visit(func(f *flag.Flag) {
		if o, ok := byName[f.Name]; ok {
			if err := apply(o, *flagVals[f.Name]); err != nil {
				errs = append(errs, fmt.Errorf("-%s: %w", f.Name, err))
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if c.MUCService == "" {
		c.MUCService = "conference." + c.XMPPDomain
	}
	if c.PubSubService == "" {
		c.PubSubService = "pubsub." + c.XMPPDomain
	}
	// Domains are compared with what the server sends, which is in
	// canonical form (package jid): configure them the same way.
	for _, d := range []struct {
		flag string
		v    *string
	}{{"xmpp-domain", &c.XMPPDomain}, {"muc-service", &c.MUCService}, {"pubsub-service", &c.PubSubService}} {
		canon, err := jid.Domainpart(*d.v)
		if err != nil {
			return nil, fmt.Errorf("-%s: %w", d.flag, err)
		}
		*d.v = canon
	}
	if c.TokenLifetime < time.Minute {
		return nil, fmt.Errorf("token-lifetime %s is shorter than a minute", c.TokenLifetime)
	}
	if c.RefreshLifetime < time.Minute || c.RememberRefresh < c.RefreshLifetime {
		return nil, fmt.Errorf("refresh-lifetime %s must be a minute or more, and remember-lifetime %s no shorter", c.RefreshLifetime, c.RememberRefresh)
	}
	if c.RefreshRetry > 10*time.Minute { // a copy's replay goes unnoticed within it
		return nil, fmt.Errorf("refresh-retry-window %s is longer than 10m", c.RefreshRetry)
	}
	return c, nil
}

// flagErrHelp is returned by loadConfig when -h or -help was given.
var flagErrHelp = flag.ErrHelp

// corsOrigins splits the comma-separated CORSOrigins setting.
func (c *config) corsOrigins() []string { return splitList(c.CORSOrigins) }

// splitList splits a comma-separated setting, trimming white space around
// each item and dropping empty ones. Every list setting goes through it.
func splitList(v string) []string {
	var out []string
	for _, o := range strings.Split(v, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, o)
		}
	}
	return out
}

// trustedProxies parses the trusted-proxies setting: addresses (one
// host each) and CIDR networks.
func (c *config) trustedProxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range splitList(c.TrustedProxies) {
		if p, err := netip.ParsePrefix(item); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("trusted-proxies: %q is neither an IP address nor a CIDR network", item)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
