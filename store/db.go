package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"time"

	"github.com/pressly/goose/v3"
)

// DB is the store, on SQLite (Open) or PostgreSQL (OpenPostgres): one set
// of queries, written once in the portable form both engines accept, with
// '?' placeholders that the PostgreSQL side numbers ($1, $2, …).
type DB struct {
	db      conn
	dialect dialect
}

// SQLite is the store's name from when SQLite was its only engine; a DB
// from Open is one.
type SQLite = DB

// dialect is what differs between the engines: how migrations are found
// and applied, how placeholders are written, how a write transaction
// begins and which errors say "full" or "duplicate".
type dialect struct {
	name       string
	goose      goose.Dialect
	migrations fs.FS
	// txOptions begins write transactions; retry says whether an error
	// from one is worth running it again (a serialization failure).
	txOptions *sql.TxOptions
	retry     func(error) bool
}

// conn is the pool, with placeholders rewritten for the engine: every
// query of the package goes through it or through a txn.
type conn struct {
	*sql.DB
	rebind func(string) string // nil: the query is used as written
}

func (c conn) q(query string) string {
	if c.rebind == nil {
		return query
	}
	return c.rebind(query)
}

func (c conn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return c.DB.ExecContext(ctx, c.q(query), args...)
}

func (c conn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return c.DB.QueryContext(ctx, c.q(query), args...)
}

func (c conn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return c.DB.QueryRowContext(ctx, c.q(query), args...)
}

// txn is a write transaction, with placeholders rewritten as by conn.
type txn struct {
	tx *sql.Tx
	c  conn
}

func (t *txn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, t.c.q(query), args...)
}

func (t *txn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, t.c.q(query), args...)
}

func (t *txn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.c.q(query), args...)
}

// maxTxAttempts bounds how often a transaction that lost a serialization
// conflict runs again; each conflict means another one committed, and a
// random pause that grows with the square of the attempts (up to 80 ms
// before the last one, about 0.3 s in all on average) spreads out those
// that collide again, even on a machine so busy that the losers are
// scheduled late.
const maxTxAttempts = 20

// tx runs fn in a write transaction: on SQLite BEGIN IMMEDIATE (see dsn),
// on PostgreSQL SERIALIZABLE, run again when it loses a conflict with a
// concurrent one, so every engine gives the transactions of the package
// the same all-or-nothing, one-after-the-other behaviour. fn must set
// what it reports from scratch on each run. An error from a full disk
// matches ErrFull.
func (s *DB) tx(ctx context.Context, fn func(*txn) error) error {
	for attempt := 1; ; attempt++ {
		err := s.txOnce(ctx, fn)
		if err == nil || s.dialect.retry == nil || !s.dialect.retry(err) || attempt == maxTxAttempts {
			return markFull(err)
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(rand.N(time.Duration(attempt*attempt) * 200 * time.Microsecond)):
		}
	}
}

func (s *DB) txOnce(ctx context.Context, fn func(*txn) error) error {
	tx, err := s.db.BeginTx(ctx, s.dialect.txOptions)
	if err != nil {
		return err
	}
	if err := fn(&txn{tx: tx, c: s.db}); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// exec runs one write statement outside a transaction. An error from a
// full disk matches ErrFull.
func (s *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := s.db.ExecContext(ctx, query, args...)
	return res, markFull(err)
}

// migrate applies the migrations not applied yet and returns how many ran.
func (s *DB) migrate(ctx context.Context) (int, error) {
	p, err := s.provider()
	if err != nil {
		return 0, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: migrate: %w", err)
	}
	return len(res), nil
}

func (s *DB) provider() (*goose.Provider, error) {
	p, err := goose.NewProvider(s.dialect.goose, s.db.DB, s.dialect.migrations, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	return p, nil
}

// Version returns the version of the last migration applied.
func (s *DB) Version(ctx context.Context) (int64, error) {
	p, err := s.provider()
	if err != nil {
		return 0, err
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: version: %w", err)
	}
	return v, nil
}

// Engine names the database engine: "sqlite" or "postgres".
func (s *DB) Engine() string { return s.dialect.name }

// Ping checks that the database answers a query (for readiness probes).
func (s *DB) Ping(ctx context.Context) error {
	var one int
	if err := s.db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// Close closes the database. It is safe to call more than once.
func (s *DB) Close() error {
	if err := s.db.Close(); err != nil && !errors.Is(err, sql.ErrConnDone) {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// ms converts a time to the stored form, Unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }

// fromMS converts a stored time back; 0 stays the zero Time.
func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}
