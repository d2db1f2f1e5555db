package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/store"
	"github.com/sparkgate/sparkgate/xmppadmin"
)

// usersSettings are the settings of the users area (config.Users).
type usersSettings struct {
	Admins          string
	SearchAll       bool
	JoinableGroups  string
	CreateGroups    bool
	MaxProperties   int
	PreviewTimeout  time.Duration
	PreviewMaxBytes int
	PreviewCacheTTL time.Duration
	PreviewAllow    string
	PreviewPorts    string

	AdminBackend       string
	OpenfireURL        string
	OpenfireSecret     string
	OpenfireSecretFile string

	UserServiceURL        string
	UserServiceSecret     string
	UserServiceSecretFile string
	UserServiceLegacy     bool

	ProsodyConfig          string
	ProsodyDataDir         string
	ProsodyTokenSecretFile string
}

// usersOptions are the users area's settings; each sets a field of
// config.Users.
var usersOptions = []option{
	{name: "user-admins", def: "", usage: "comma-separated bare JIDs (or usernames) that may search all users, join any group and create groups",
		set: str(func(c *config) *string { return &c.Users.Admins })},
	{name: "user-search-all", def: "false", usage: "let every user search all registered users (false: only their roster and shared groups)",
		set: boolean(func(c *config) *bool { return &c.Users.SearchAll })},
	{name: "joinable-groups", def: "", usage: "comma-separated shared roster groups any user may join and leave (* for all existing groups)",
		set: str(func(c *config) *string { return &c.Users.JoinableGroups })},
	{name: "create-groups", def: "false", usage: "let user-admins create a missing shared roster group by joining it",
		set: boolean(func(c *config) *bool { return &c.Users.CreateGroups })},
	{name: "max-user-properties", def: "64", usage: "most properties one user may keep",
		set: integer(func(c *config) *int { return &c.Users.MaxProperties })},
	{name: "preview-timeout", def: "10s", usage: "time limit of one link preview fetch, redirects included",
		set: duration(func(c *config) *time.Duration { return &c.Users.PreviewTimeout })},
	{name: "preview-max-bytes", def: "1048576", usage: "bytes of a page a link preview reads",
		set: integer(func(c *config) *int { return &c.Users.PreviewMaxBytes })},
	{name: "preview-cache-ttl", def: "10m", usage: "how long a link preview is cached (0: no cache)",
		set: duration(func(c *config) *time.Duration { return &c.Users.PreviewCacheTTL })},
	{name: "preview-allow", def: "", usage: "comma-separated CIDR prefixes link previews may reach although loopback, private or link-local (intranets only; default none)",
		set: str(func(c *config) *string { return &c.Users.PreviewAllow })},
	{name: "preview-ports", def: "80,443", usage: "comma-separated ports link previews may connect to (* for any)",
		set: str(func(c *config) *string { return &c.Users.PreviewPorts })},
	{name: "admin-backend", def: "ejabberd", usage: "server admin API for accounts and groups: ejabberd (admin-url), openfire (the REST API plugin, openfire-url), userservice (the User Service plugin, userservice-url) or prosody (prosodyctl on this host, prosody-config); with the Openfire plugins no token logins: TOTP, passkeys and password-less reconnects need ejabberd, or Prosody with prosody-token-secret-file",
		set: oneOf(func(c *config) *string { return &c.Users.AdminBackend }, "ejabberd", "openfire", "userservice", "prosody")},
	{name: "openfire-url", def: "http://127.0.0.1:9090/plugins/restapi/v1", usage: "base URL of the Openfire REST API plugin (admin-backend openfire)",
		set: str(func(c *config) *string { return &c.Users.OpenfireURL })},
	{name: "openfire-secret", def: "", usage: "shared secret key of the Openfire REST API plugin; prefer openfire-secret-file", secret: true,
		set: str(func(c *config) *string { return &c.Users.OpenfireSecret })},
	{name: "openfire-secret-file", def: "", usage: "file holding the Openfire REST API secret key (trailing newline ignored)",
		set: str(func(c *config) *string { return &c.Users.OpenfireSecretFile })},
	{name: "userservice-url", def: "http://127.0.0.1:9090/plugins/userService", usage: "base URL of the Openfire User Service plugin (admin-backend userservice)",
		set: str(func(c *config) *string { return &c.Users.UserServiceURL })},
	{name: "userservice-secret", def: "", usage: "shared secret key of the Openfire User Service plugin; prefer userservice-secret-file", secret: true,
		set: str(func(c *config) *string { return &c.Users.UserServiceSecret })},
	{name: "userservice-secret-file", def: "", usage: "file holding the User Service plugin's secret key (trailing newline ignored)",
		set: str(func(c *config) *string { return &c.Users.UserServiceSecretFile })},
	{name: "userservice-legacy", def: "false", usage: "use the User Service plugin's legacy query-string form only (plugins without the REST form; it sends the secret and passwords in URLs)",
		set: boolean(func(c *config) *bool { return &c.Users.UserServiceLegacy })},
	{name: "prosody-config", def: "/etc/prosody/prosody.cfg.lua", usage: "the Prosody configuration prosodyctl runs with (admin-backend prosody; the gateway must run where Prosody does, as a user allowed to change its accounts)",
		set: str(func(c *config) *string { return &c.Users.ProsodyConfig })},
	{name: "prosody-data-dir", def: "/var/lib/prosody", usage: "Prosody's data_path, read for the account list (admin-backend prosody; internal storage only)",
		set: str(func(c *config) *string { return &c.Users.ProsodyDataDir })},
	{name: "prosody-token-secret-file", def: "", usage: "file holding the secret (at least 32 characters) Prosody's mod_sparkgate_token shares (sparkgate_token_secret_file): the gateway then logs users in with tokens it mints, so TOTP and passkey sign-ins and password-less reconnects work as with ejabberd (admin-backend prosody; empty: password logins only)",
		set: str(func(c *config) *string { return &c.Users.ProsodyTokenSecretFile })},
}

// newDirectory builds the server admin client admin-backend names.
func newDirectory(c *config) (xmppadmin.Directory, error) {
	switch c.Users.AdminBackend {
	case "", "ejabberd":
		return &xmppadmin.Ejabberd{BaseURL: c.AdminURL, Domain: c.XMPPDomain}, nil
	case "openfire":
		secret, err := secretSetting("openfire-secret", c.Users.OpenfireSecret, c.Users.OpenfireSecretFile)
		if err != nil {
			return nil, err
		}
		if len(secret) == 0 {
			return nil, errors.New("admin-backend openfire needs openfire-secret or openfire-secret-file")
		}
		return &xmppadmin.Openfire{BaseURL: c.Users.OpenfireURL, Domain: c.XMPPDomain, Secret: string(secret)}, nil
	case "userservice":
		secret, err := secretSetting("userservice-secret", c.Users.UserServiceSecret, c.Users.UserServiceSecretFile)
		if err != nil {
			return nil, err
		}
		if len(secret) == 0 {
			return nil, errors.New("admin-backend userservice needs userservice-secret or userservice-secret-file")
		}
		return &xmppadmin.UserService{BaseURL: c.Users.UserServiceURL, Domain: c.XMPPDomain, Secret: string(secret), Legacy: c.Users.UserServiceLegacy}, nil
	case "prosody":
		secret, err := secretSetting("prosody-token-secret", "", c.Users.ProsodyTokenSecretFile)
		if err != nil {
			return nil, err
		}
		if len(secret) > 0 && len(secret) < 32 {
			return nil, errors.New("prosody-token-secret-file: the secret must be at least 32 characters, as mod_sparkgate_token requires")
		}
		return &xmppadmin.Prosodyctl{Config: c.Users.ProsodyConfig, DataDir: c.Users.ProsodyDataDir, Domain: c.XMPPDomain, TokenSecret: string(secret)}, nil
	}
	return nil, fmt.Errorf("admin-backend: unknown backend %q", c.Users.AdminBackend)
}

// wireUsers fills gc.Users from the settings, building what the gateway
// needs on top of the store and the keys. It runs after the other areas'
// wiring and keeps what they put in gc.Users (the VAPID key, deletion
// hooks).
func wireUsers(ctx context.Context, c *config, st *store.SQLite, keys *auth.Keys, gc *gateway.Config) error {
	s := c.Users
	u := &gc.Users
	u.Admins = splitList(s.Admins)
	u.SearchAll = s.SearchAll
	u.JoinableGroups = splitList(s.JoinableGroups)
	u.CreateGroups = s.CreateGroups
	u.MaxProperties = s.MaxProperties
	u.Preview.Timeout = s.PreviewTimeout
	u.Preview.MaxBytes = int64(s.PreviewMaxBytes)
	u.Preview.CacheTTL = s.PreviewCacheTTL
	if s.PreviewCacheTTL == 0 {
		u.Preview.CacheTTL = -1
	}
	for _, p := range splitList(s.PreviewAllow) {
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			return fmt.Errorf("preview-allow: %q is not a CIDR prefix", p)
		}
		u.Preview.Allow = append(u.Preview.Allow, prefix)
	}
	ports, err := previewPorts(s.PreviewPorts)
	if err != nil {
		return err
	}
	u.Preview.Ports = ports

	g := &u.Global
	if g.PubSubService == "" {
		g.PubSubService = c.PubSubService
	}
	if g.UploadService == "" {
		g.UploadService = gc.Collab.UploadService
	}
	if len(g.MeetingServices) == 0 {
		if gc.Collab.Meetings.JitsiURL != "" {
			g.MeetingServices = append(g.MeetingServices, "jitsi")
		}
		if gc.Collab.Meetings.GaleneURL != "" {
			g.MeetingServices = append(g.MeetingServices, "galene")
		}
	}

	if st != nil {
		u.Properties = st
		// What the store keeps for an account that is gone (bookmarks are
		// removed by the gateway itself).
		u.OnDelete = append(u.OnDelete, st.PurgeUser)
	}
	return nil
}

// previewPorts reads preview-ports: "*" is any port (a single 0 in
// linkpreview.Config.Ports).
func previewPorts(v string) ([]uint16, error) {
	var ports []uint16
	for _, item := range splitList(v) {
		if item == "*" {
			return []uint16{0}, nil
		}
		n, err := strconv.ParseUint(item, 10, 16)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("preview-ports: %q is not a port", item)
		}
		ports = append(ports, uint16(n))
	}
	return ports, nil
}
