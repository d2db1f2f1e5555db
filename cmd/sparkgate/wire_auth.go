package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/store"
)

// authSettings are the settings of the auth area (config.Auth).
type authSettings struct {
	TOTP              bool
	TOTPIssuer        string
	TOTPOnly          bool
	TOTPMaxFailures   int
	TOTPFailureWindow time.Duration
	MFATicketLifetime time.Duration

	WebAuthn        bool
	WebAuthnRPID    string
	WebAuthnRPName  string
	WebAuthnOrigins string

	IPBurst          int
	IPInterval       time.Duration
	UserBurst        int
	UserInterval     time.Duration
	LockoutFails     int
	LockoutUserFails int
	LockoutWindow    time.Duration
	CeremonyExpiry   time.Duration
	StreamTokenQuery bool
}

// authOptions are the auth area's settings; each sets a field of
// config.Auth.
var authOptions = []option{
	{name: "totp", def: "true", usage: "offer TOTP (authenticator app codes) as a second factor",
		set: boolean(func(c *config) *bool { return &c.Auth.TOTP })},
	{name: "totp-issuer", def: "", usage: "service name authenticator apps show for TOTP (empty: the XMPP domain)",
		set: str(func(c *config) *string { return &c.Auth.TOTPIssuer })},
	{name: "totp-only-login", def: "false", usage: "allow logging in with a TOTP code alone, without password or ticket (as SparkWeb did; weaker)",
		set: boolean(func(c *config) *bool { return &c.Auth.TOTPOnly })},
	{name: "totp-max-failures", def: "5", usage: "wrong TOTP codes within totp-failure-window that lock the user's TOTP",
		set: integer(func(c *config) *int { return &c.Auth.TOTPMaxFailures })},
	{name: "totp-failure-window", def: "5m", usage: "window in which wrong TOTP codes are counted",
		set: duration(func(c *config) *time.Duration { return &c.Auth.TOTPFailureWindow })},
	{name: "mfa-ticket-lifetime", def: "5m", usage: "lifetime of the single-use ticket between a password login and its TOTP code",
		set: duration(func(c *config) *time.Duration { return &c.Auth.MFATicketLifetime })},
	{name: "webauthn", def: "true", usage: "offer passkeys (WebAuthn) for login",
		set: boolean(func(c *config) *bool { return &c.Auth.WebAuthn })},
	{name: "webauthn-rp-id", def: "", usage: "WebAuthn relying party id, a host name, never an IP address (empty: the host of public-url)",
		set: str(func(c *config) *string { return &c.Auth.WebAuthnRPID })},
	{name: "webauthn-rp-name", def: "sparkgate", usage: "name authenticators show for the relying party",
		set: str(func(c *config) *string { return &c.Auth.WebAuthnRPName })},
	{name: "webauthn-origins", def: "", usage: "comma-separated origins pages run passkey ceremonies from (empty: the origin of public-url)",
		set: str(func(c *config) *string { return &c.Auth.WebAuthnOrigins })},
	{name: "webauthn-ceremony-timeout", def: "5m", usage: "how long a passkey ceremony may take between start and finish",
		set: duration(func(c *config) *time.Duration { return &c.Auth.CeremonyExpiry })},
	{name: "stream-token-query", def: "true", usage: "accept the access token as ?token= on the event stream (what the SparkWeb reference's EventSource clients send); false: only the Authorization header or a single-use ticket (POST /sse/ticket, ?ticket=), so that tokens stay out of URLs and the access logs that keep them",
		set: boolean(func(c *config) *bool { return &c.Auth.StreamTokenQuery })},
	{name: "login-ip-burst", def: "60", usage: "login attempts (password, register, TOTP, passkey) a client address may make at once; 0 switches the limit off",
		set: integer(func(c *config) *int { return &c.Auth.IPBurst })},
	{name: "login-ip-interval", def: "1s", usage: "a client address earns back one login attempt this often",
		set: duration(func(c *config) *time.Duration { return &c.Auth.IPInterval })},
	{name: "login-user-burst", def: "20", usage: "login attempts (password, register, TOTP) a username may receive at once; passkey logins are not counted; 0 switches the limit off",
		set: integer(func(c *config) *int { return &c.Auth.UserBurst })},
	{name: "login-user-interval", def: "6s", usage: "a username earns back one login attempt this often",
		set: duration(func(c *config) *time.Duration { return &c.Auth.UserInterval })},
	{name: "lockout-failures", def: "10", usage: "failed logins of a user from one client address within lockout-window that lock the user's password and TOTP logins from that address (403); passkey logins are never locked; 0 switches this lock off",
		set: integer(func(c *config) *int { return &c.Auth.LockoutFails })},
	{name: "lockout-user-failures", def: "100", usage: "failed logins of a user from all client addresses within lockout-window that lock the user's password and TOTP logins everywhere (403); passkey logins are never locked; 0 switches this lock off",
		set: integer(func(c *config) *int { return &c.Auth.LockoutUserFails })},
	{name: "lockout-window", def: "15m", usage: "window in which failed logins are counted",
		set: duration(func(c *config) *time.Duration { return &c.Auth.LockoutWindow })},
}

// wireAuth fills gc.Auth from the settings, building what the gateway
// needs on top of the store and the keys.
func wireAuth(ctx context.Context, c *config, st *store.SQLite, keys *auth.Keys, gc *gateway.Config) error {
	a := c.Auth
	ac := gateway.AuthConfig{
		TOTPOnly:        a.TOTPOnly,
		TicketTTL:       a.MFATicketLifetime,
		PerIP:           rateLimit(a.IPBurst, a.IPInterval),
		PerUser:         rateLimit(a.UserBurst, a.UserInterval),
		MaxFailures:     offIfZero(a.LockoutFails),
		MaxUserFailures: offIfZero(a.LockoutUserFails),
		FailureWindow:   a.LockoutWindow,

		RefuseQueryToken: !a.StreamTokenQuery,
	}
	if st.Engine() == "postgres" {
		// Gateways that share the database lock a user out and limit
		// login attempts together; on SQLite (one gateway) the counts
		// stay in memory, as they were.
		ac.Failures, ac.Attempts = st, st
	}
	if a.TOTP {
		issuer := a.TOTPIssuer
		if issuer == "" {
			issuer = c.XMPPDomain
		}
		t, err := auth.NewTOTP(auth.TOTPConfig{
			Keys: keys, Store: st, Issuer: issuer,
			MaxFailures: a.TOTPMaxFailures, FailureWindow: a.TOTPFailureWindow,
		})
		if err != nil {
			return fmt.Errorf("totp: %w", err)
		}
		ac.TOTP = t
	}
	if a.WebAuthn {
		rpID, origins, err := webAuthnParty(c.PublicURL, a.WebAuthnRPID, a.WebAuthnOrigins)
		if err != nil {
			return err
		}
		p, err := auth.NewPasskeys(auth.PasskeysConfig{
			RPID: rpID, RPDisplayName: a.WebAuthnRPName, RPOrigins: origins, Store: st,
			Ceremonies:  st,   // in the store: every node sharing it finishes any ceremony
			Keys:        keys, // so do discoverable logins, which keep none
			CeremonyTTL: a.CeremonyExpiry, Logger: gc.Logger,
		})
		if err != nil {
			return fmt.Errorf("webauthn (set webauthn-rp-id, or webauthn=false): %w", err)
		}
		ac.Passkeys = p
	}
	gc.Auth = ac
	return nil
}

// offIfZero turns a count setting whose 0 means off into the gateway's
// convention (negative: off; zero: the default).
func offIfZero(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// rateLimit turns a burst/interval setting into a gateway.RateLimit; a
// zero burst switches the limit off.
func rateLimit(burst int, every time.Duration) gateway.RateLimit {
	if burst == 0 {
		return gateway.RateLimit{Burst: -1}
	}
	return gateway.RateLimit{Every: every, Burst: burst}
}

// webAuthnParty returns the relying party id and origins: the settings
// when given, else the host and the origin of the public URL.
func webAuthnParty(publicURL, rpID, origins string) (string, []string, error) {
	u, err := url.Parse(publicURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", nil, fmt.Errorf("webauthn: public-url %q is not an absolute URL", publicURL)
	}
	if rpID == "" {
		rpID = u.Hostname()
		if net.ParseIP(rpID) != nil {
			return "", nil, fmt.Errorf("webauthn: the host of public-url (%s) is an IP address; set webauthn-rp-id to a host name, or webauthn=false", rpID)
		}
	}
	var out []string
	for _, o := range strings.Split(origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, strings.TrimSuffix(o, "/"))
		}
	}
	if len(out) == 0 {
		out = []string{u.Scheme + "://" + u.Host}
	}
	return rpID, out, nil
}
