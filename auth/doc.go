// Package auth issues and checks the gateway's credentials: signed access
// tokens that can be revoked (JWT, EdDSA), short-lived single-purpose
// tokens, and time-based one-time passwords (TOTP, RFC 6238) as a second
// factor. It knows no HTTP framework; the gateway maps its sentinel errors
// to status codes.
//
// # Keys
//
// [LoadOrCreateKeys] keeps the key material in a data directory, created on
// first start with 0600 files: the Ed25519 token signing keys (each with a
// key id, the "kid" header) and the AES-256-GCM key that encrypts TOTP
// secrets at rest. [Keys.Rotate] makes a new signing key current while the
// retired ones keep verifying until every token they signed has expired.
//
// # Persistence
//
// Revoked token ids, per-user revocation cutoffs, encrypted TOTP secrets,
// used TOTP steps and failed attempts live behind [Store], declared here and
// implemented by package store. Implementations report a missing row with an
// error that matches [ErrNotFound].
//
// # Concurrency
//
// [Keys], [Tokens] and [TOTP] are safe for concurrent use by multiple
// goroutines. None of them starts a goroutine.
//
// # Logging
//
// Types that hold secrets implement [log/slog.LogValuer] and log redacted.
// Tokens, codes and secrets never reach a log line through this package.
package auth
