package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
)

//go:embed migrations/postgres/*.sql
var postgresMigrations embed.FS

// pgPoolSize is how many connections to PostgreSQL one gateway opens at
// most. Each is a server process on the other side, and several gateways
// share the server's max_connections (100 by default): 16 leaves room for
// six nodes and the administrator.
const pgPoolSize = 16

// OpenPostgres connects to the PostgreSQL database at dsn (a postgres://
// URL or key=value string, as libpq takes) and applies the migrations of
// migrations/postgres that are not applied yet; they mirror SQLite's
// version for version. ctx bounds the connection check and the migration.
// Several gateways may share one database: what each keeps there (token
// revocations, TOTP steps and failures, login failures) holds for all.
// The caller must Close the store.
func OpenPostgres(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's error repeats the DSN, password included: keep it out.
		return nil, errors.New("store: invalid PostgreSQL connection string")
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(pgPoolSize)
	db.SetMaxIdleConns(pgPoolSize)
	migrations, err := fs.Sub(postgresMigrations, "migrations/postgres")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	s := &DB{
		db: conn{DB: db, rebind: numbered},
		dialect: dialect{name: "postgres", goose: goose.DialectPostgres, migrations: migrations,
			txOptions: &sql.TxOptions{Isolation: sql.LevelSerializable}, retry: serializationFailure},
	}
	if err := s.Ping(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if _, err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// IsPostgresDSN reports whether dsn names a PostgreSQL database by URL
// (postgres:// or postgresql://), the form the -store flag takes.
func IsPostgresDSN(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// numberedCache keeps each query's numbered form: the package's queries
// are a fixed set (plus the few built for a count of arguments).
var numberedCache sync.Map // string → string

// numbered rewrites the '?' placeholders of query as $1, $2, … (those in
// quoted literals and identifiers stay as they are).
func numbered(query string) string {
	if v, ok := numberedCache.Load(query); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	var quote byte
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	out := b.String()
	numberedCache.Store(query, out)
	return out
}

// PostgreSQL error codes (SQLSTATE) the store tells apart.
const (
	pgUniqueViolation      = "23505"
	pgSerializationFailure = "40001"
	pgDeadlockDetected     = "40P01"
	pgDiskFull             = "53100"
)

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// serializationFailure reports whether a transaction lost to a concurrent
// one and may run again.
func serializationFailure(err error) bool {
	c := pgCode(err)
	return c == pgSerializationFailure || c == pgDeadlockDetected
}
