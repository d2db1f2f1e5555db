package pgtest_test

import (
	"context"
	"errors"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sparkgate/sparkgate/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// TestIntegrationDSN: each call gives its own empty database on a private
// server (never the machine's port 5432), and a database is gone after
// its test.
func TestIntegrationDSN(t *testing.T) {
	var first string
	t.Run("one", func(t *testing.T) {
		first = pgtest.DSN(t)
		second := pgtest.DSN(t)
		if first == second {
			t.Fatalf("two calls gave one database %s", first)
		}
		u, err := url.Parse(first)
		if err != nil {
			t.Fatal(err)
		}
		if u.Hostname() != "127.0.0.1" || u.Port() == "5432" {
			t.Fatalf("DSN %s: want a private loopback port", first)
		}
		ctx := context.Background()
		a, b := connect(t, first), connect(t, second)
		if _, err := a.Exec(ctx, `CREATE TABLE only_here (v INT)`); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := b.QueryRow(ctx, `SELECT COUNT(*) FROM pg_tables WHERE tablename = 'only_here'`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("second database sees the first's table: n=%d err=%v", n, err)
		}
	})
	_, err := pgx.Connect(context.Background(), first)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "3D000" { // invalid_catalog_name
		t.Fatalf("connect to a finished test's database: %v, want 3D000 (it does not exist)", err)
	}
}
