// Package auth issues and checks the gateway's credentials: signed access
// tokens that can be revoked (JWT, EdDSA), short-lived single-purpose
// tokens, and time-based one-time passwords (TOTP, RFC 6238) as a second
// factor, and WebAuthn passkeys. It knows no HTTP framework; the gateway
// maps its sentinel errors to status codes.
//
// The pieces are [Keys] (key material on disk), [Tokens] (access tokens and
// single-purpose tokens), [Refresh] (refresh tokens), [TOTP] and [Passkeys]; each is built from a Config
// struct whose zero values are documented, and all share one [Store].
//
// # Keys
//
// [LoadOrCreateKeys] keeps the key material in a data directory, created on
// first start with 0600 files: the Ed25519 token signing keys (each with a
// key id, the "kid" header) and the AES-256-GCM key that encrypts TOTP
// secrets at rest. [Keys.Rotate] makes a new signing key current while the
// retired ones keep verifying until every token they signed has expired;
// [Keys.Reload] picks up a rotation done by another process.
//
// # Refresh tokens
//
// [Refresh] starts a family of refresh tokens at each login and rotates it
// at each refresh: the refresh token is spent and a new access token and
// refresh token are issued, with the login method of the family's login.
// Refresh tokens are opaque random secrets (prefix "sgr_"), stored only as
// their SHA-256 ([RefreshStore]). A spent one presented again revokes the
// family, unless it is a retry within RefreshConfig.RetryWindow of a
// refresh whose answer was lost and never used (see [Refresh]); the
// family's access tokens carry its id (claim "fam") and are revoked with it
// through a revoked id "fam.<family>" in [TokenStore].
// A family started with "stay signed in" lives RememberLifetime from its
// last refresh, any other SessionLifetime from its last refresh.
//
// # Tickets
//
// [Tokens.IssueTicket] signs a ticket that stands for an access token where
// the token itself would be written down (an EventSource URL, which proxies
// log): single-use on every process sharing the [TokenStore], a minute at
// most, never past its token. [Tokens.RedeemTicket] spends it and gives back
// the token's claims, refused once the token no longer holds (claim "par"
// names it; see ticket.go).
//
// # WebAuthn
//
// [Passkeys] keeps ceremony state in memory under a random ceremony id,
// single-use and short-lived, so a Begin and its Finish must reach the same
// process. Credentials (several per user) live in the [Store].
//
// # Persistence
//
// Revoked token ids, per-user revocation cutoffs, refresh tokens, encrypted TOTP secrets,
// used TOTP steps, failed attempts and passkeys live behind [Store], declared here and
// implemented by package store. Implementations report a missing row with an
// error that matches [ErrNotFound].
//
// [Tokens.Verify] runs on every request, so [Tokens] keeps a view of the
// revocation state in memory and reads the store for a token id or a user
// at most once per [TokensConfig].RevocationRecheck. The store stays the
// truth: a revocation is written there first and then enters the view, so
// it takes effect at once on this process and survives a restart; one
// written by another process sharing the store shows within the recheck.
// It also remembers (by SHA-256, bounded) tokens whose signature it has
// checked, so a client that sends the same token on every request pays the
// Ed25519 verification once; expiry, not-before, issue time and the signing
// key's retirement are checked again on every Verify.
//
// # Concurrency
//
// [Keys], [Tokens], [Refresh] and [TOTP] are safe for concurrent use by multiple
// goroutines. None of them starts a goroutine.
//
// # Logging
//
// Types that hold secrets implement [log/slog.LogValuer] and log redacted.
// Tokens, codes and secrets never reach a log line through this package.
package auth
