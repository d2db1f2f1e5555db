package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var sqliteMigrations embed.FS

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

// Open opens (creating it with 0600 permissions if needed) the SQLite
// database at path and applies the embedded migrations that are not applied
// yet. ctx bounds the migration only. The caller must Close the store.
func Open(ctx context.Context, path string) (*DB, error) {
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
	migrations, err := fs.Sub(sqliteMigrations, "migrations")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	s := &DB{db: conn{DB: db}, dialect: dialect{name: "sqlite", goose: goose.DialectSQLite3, migrations: migrations}}
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
