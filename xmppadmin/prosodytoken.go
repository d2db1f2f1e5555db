package xmppadmin

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Login tokens for Prosody. Prosody 0.12 issues none, so the gateway mints
// them and the server checks them with a module of this project's
// (prosody/mod_sparkgate_token.lua, ProsodyTokenModule) that offers SASL
// X-OAUTH2 beside the host's own mechanisms. A token is
//
//	v1.<expiry, Unix seconds>.<hex HMAC-SHA256(secret, "sparkgate xmpp
//	login" NUL <username>@<domain> NUL <expiry>)>
//
// for the username the session sends in its SASL message (the localpart,
// as the gateway spells it), under the secret both hold. It is a bearer
// credential for its lifetime, as ejabberd's OAuth tokens are; nothing is
// stored on either side.

// ProsodyTokenModule is the Lua source of mod_sparkgate_token: copy it to
// a directory on the server's plugin_paths, enable "sparkgate_token" and
// set sparkgate_token_secret_file to a file holding TokenSecret
// (internal/prosody does all three for its private server).
//
//go:embed prosody/mod_sparkgate_token.lua
var ProsodyTokenModule []byte

// minTokenSecret is the shortest secret the module accepts.
const minTokenSecret = 32

// IssueToken mints an X-OAUTH2 login token for user, valid for ttl
// (rounded up to whole seconds), or returns ErrUnsupported without
// TokenSecret and ErrUserNotFound for an account that does not exist.
func (p *Prosodyctl) IssueToken(ctx context.Context, user string, ttl time.Duration) (string, error) {
	if !p.IssuesTokens() {
		return "", ErrUnsupported
	}
	ok, err := p.Exists(ctx, user)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("xmppadmin: issue token for %q: %w", user, ErrUserNotFound)
	}
	secs := int64(math.Ceil(ttl.Seconds()))
	if secs < 1 {
		secs = 1
	}
	return mintProsodyToken(p.TokenSecret, user+"@"+p.Domain, time.Now().Unix()+secs), nil
}

// IssuesTokens reports whether TokenSecret is set: IssueToken mints
// tokens then.
func (p *Prosodyctl) IssuesTokens() bool { return len(p.TokenSecret) >= minTokenSecret }

// mintProsodyToken is the token of jid (username@domain) expiring at
// expiry (Unix seconds).
func mintProsodyToken(secret, jid string, expiry int64) string {
	exp := strconv.FormatInt(expiry, 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("sparkgate xmpp login\x00" + jid + "\x00" + exp))
	return "v1." + exp + "." + hex.EncodeToString(m.Sum(nil))
}
