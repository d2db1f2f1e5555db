// Package store persists the gateway's own state: revoked token ids and
// per-user revocation cutoffs, TOTP secrets (sealed by package auth before
// they get here), used TOTP steps and failed attempts, WebAuthn user handles
// and passkey credentials, and gateway settings. It implements the store
// interfaces its consumers declare ([auth.Store], [auth.PasskeyStore]).
// A missing row is reported with an error matching [ErrNotFound] (and
// [auth.ErrNotFound]); a duplicate key with [ErrExists].
//
// The default implementation, [SQLite], is a single SQLite file in the data
// directory, opened through modernc.org/sqlite (no cgo) in WAL mode, with
// versioned migrations embedded in the binary and applied by [Open]. The SQL
// in the queries is kept portable (no SQLite-only syntax where a standard
// form exists; INSERT ... ON CONFLICT is shared with PostgreSQL) and every
// time is stored as an integer count of Unix milliseconds, so a PostgreSQL
// implementation can reuse the queries with its own migrations.
//
// # Concurrency
//
// A *SQLite is safe for concurrent use by multiple goroutines. Write
// transactions begin with BEGIN IMMEDIATE and connections wait on a busy
// timeout, so concurrent writers queue instead of failing with "database is
// locked". The package starts no goroutine; [SQLite.RunPurger] runs in the
// caller's and removes rows that can no longer matter (expired revocations,
// used TOTP steps past their window, day-old failures).
//
// # User keys
//
// Per-user rows are keyed on the user's bare JID in canonical form (the
// caller's; the store prepares no names). [SQLite.SweepUserKeys] brings rows
// written under an older, lighter form to that key, or forgets them.
package store
