// Package store persists the gateway's own state: revoked token ids and
// per-user revocation cutoffs, TOTP secrets (sealed by package auth before
// they get here), used TOTP steps and failed attempts, WebAuthn user handles
// and passkey credentials, and gateway settings. It implements the store
// interfaces its consumers declare ([auth.Store], [auth.PasskeyStore]).
// A missing row is reported with an error matching [ErrNotFound] (and
// [auth.ErrNotFound]); a duplicate key with [ErrExists].
//
// The store is a [DB] on one of two engines, chosen by the gateway's
// configuration. The default, [Open], is a single SQLite file in the data
// directory, opened through modernc.org/sqlite (no cgo) in WAL mode: a
// gateway needs nothing else. [OpenPostgres] uses a PostgreSQL database
// through pgx, which several gateways may share, so that what the store
// holds (revocations, used TOTP steps, TOTP and login failures, refresh
// tokens) holds on every node. Both run the same queries, written in the
// portable form both accept (INSERT ... ON CONFLICT, RETURNING; every time
// an integer count of Unix milliseconds); PostgreSQL gets its placeholders
// numbered. Each engine has its own goose migrations embedded in the
// binary (migrations/ and migrations/postgres/, version for version the
// same schema), applied on open. Errors match the same sentinels on both.
//
// # Concurrency
//
// A *DB is safe for concurrent use by multiple goroutines (and, on
// PostgreSQL, by several processes). Write transactions are serialized: on
// SQLite they begin with BEGIN IMMEDIATE and connections wait on a busy
// timeout, so concurrent writers queue instead of failing with "database
// is locked"; on PostgreSQL they run SERIALIZABLE and one that loses a
// conflict runs again (a bounded number of times). The package starts no
// goroutine; [DB.RunPurger] runs in the caller's and removes rows that can
// no longer matter (expired revocations, used TOTP steps past their
// window, day-old failures).
//
// # User keys
//
// Per-user rows are keyed on the user's bare JID in canonical form (the
// caller's; the store prepares no names). [DB.SweepUserKeys] brings rows
// written under an older, lighter form to that key, or forgets them.
package store
