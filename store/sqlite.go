package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// busyTimeout is how long a connection waits for another writer before
// SQLite reports SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// poolSize is how many connections the store opens, and keeps: requests
// beyond wait for one. SQLite cannot close the file of a connection while
// another connection of the process holds a lock on the database (POSIX
// locks belong to the process; in WAL mode every open connection holds
// one), so a pool that opened connections for a burst of requests and
// closed them afterwards (database/sql keeps two idle) left their files
// open for the life of the process. Writers take turns anyway.
const poolSize = 8

// SQLite is the SQLite implementation of the store. Create it with Open.
type SQLite struct {
	db *sql.DB
}

// Open opens (creating it with 0600 permissions if needed) the SQLite
// database at path and applies the embedded migrations that are not applied
// yet. ctx bounds the migration only. The caller must Close the store.
func Open(ctx context.Context, path string) (*SQLite, error) {
	if path == "" || strings.ContainsRune(path, 0) {
		return nil, fmt.Errorf("store: invalid database path %q", path)
	}
	// Create the file ourselves so it is never world-readable; SQLite gives
	// its -wal and -shm files the same permissions.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: create database: %w", err)
	}
	f.Close()

	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	db.SetMaxOpenConns(poolSize)
	db.SetMaxIdleConns(poolSize)
	s := &SQLite{db: db}
	if _, err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// dsn builds the connection string. Every per-connection pragma must be in
// the DSN: a PRAGMA run with db.Exec reaches only one pooled connection.
// _txlock=immediate makes BeginTx take the write lock up front, so a
// transaction that reads and then writes cannot fail with SQLITE_BUSY
// halfway (busy_timeout does not cover a lock upgrade).
func dsn(path string) string {
	// In a file: URI SQLite decodes %HH and stops the path at '?' or '#'.
	esc := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(path)
	return "file:" + esc +
		"?_pragma=journal_mode(WAL)" +
		fmt.Sprintf("&_pragma=busy_timeout(%d)", busyTimeout.Milliseconds()) +
		"&_pragma=foreign_keys(1)" +
		"&_pragma=synchronous(NORMAL)" +
		"&_txlock=immediate"
}

// migrate applies the migrations not applied yet and returns how many ran.
func (s *SQLite) migrate(ctx context.Context) (int, error) {
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

func (s *SQLite) provider() (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, s.db, sub, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	return p, nil
}

// Version returns the version of the last migration applied.
func (s *SQLite) Version(ctx context.Context) (int64, error) {
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

// Ping checks that the database answers a query (for readiness probes).
func (s *SQLite) Ping(ctx context.Context) error {
	var one int
	if err := s.db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// Close closes the database. It is safe to call more than once.
func (s *SQLite) Close() error {
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

// tx runs fn in a write transaction (BEGIN IMMEDIATE, see dsn). An error
// from a full disk matches ErrFull.
func (s *SQLite) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return markFull(err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return markFull(err)
	}
	return markFull(tx.Commit())
}

// exec runs one write statement outside a transaction. An error from a
// full disk matches ErrFull.
func (s *SQLite) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := s.db.ExecContext(ctx, query, args...)
	return res, markFull(err)
}
