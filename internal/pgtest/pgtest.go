// Package pgtest is the PostgreSQL harness of the tests: one private
// PostgreSQL server per test binary, started on first use, and a fresh
// database per test.
//
// A package whose tests use it runs them through Main (or wraps its
// testing.M with Wrap when another harness owns TestMain), so the server
// is stopped when the tests end:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//	func TestMain(m *testing.M) { ejabberdtest.Main(pgtest.Wrap(m)) }
//
// and a test takes a database:
//
//	dsn := pgtest.DSN(t) // postgres://…; the database is dropped at cleanup
//
// # The server
//
// The server is package pgserver's (Debian's PostgreSQL on a free loopback
// port, durability off, never the machine's own cluster), its cluster in a
// temporary directory removed when the tests end; it shuts itself down
// should the test binary die.
//
// # Skip policy
//
// Under `go test -short` the tests that take a database skip, unless
// SPARKGATE_REQUIRE_INTEGRATION=1 (which `make test` sets). Without
// PostgreSQL installed they skip, naming the install step
// (scripts/install-deps.sh postgresql), and fail under
// SPARKGATE_REQUIRE_INTEGRATION=1.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/internal/pgserver"
)

// RequireEnv is the environment variable that makes the tests mandatory;
// `make test` sets it to 1.
const RequireEnv = "SPARKGATE_REQUIRE_INTEGRATION"

// startTimeout bounds initdb and the server's start, generously: several
// test binaries may start their servers at once on a small machine.
const startTimeout = 60 * time.Second

var (
	once    sync.Once
	shared  *pgserver.Server
	openErr error
)

// runner is what Main and Wrap run: a *testing.M, or a Wrap of one.
type runner interface{ Run() int }

// Main runs the package's tests, stops the server if one was started and
// exits with the tests' code.
func Main(m *testing.M) { os.Exit(Wrap(m).Run()) }

// Wrap returns m whose Run also stops the server after the tests, for a
// package whose TestMain belongs to another harness.
func Wrap(m runner) runner { return wrapped{m} }

type wrapped struct{ m runner }

func (w wrapped) Run() int {
	code := w.m.Run()
	if err := stop(); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// stop stops the shared server, if it was started, and removes its
// directory.
func stop() error {
	if shared == nil {
		return nil
	}
	defer os.RemoveAll(shared.Dir)
	return shared.Close()
}

// DSN returns the connection URL (postgres://…, TCP on loopback) of a new,
// empty database on the shared server, starting the server on first use.
// The database is dropped, connections and all, when the test ends.
func DSN(t testing.TB) string {
	t.Helper()
	if testing.Short() && os.Getenv(RequireEnv) != "1" {
		t.Skip("integration test: needs PostgreSQL; skipped under -short")
	}
	once.Do(func() { shared, openErr = start() })
	if openErr != nil {
		msg := fmt.Sprintf("pgtest: PostgreSQL (install it with `scripts/install-deps.sh postgresql`): %v", openErr)
		if errors.Is(openErr, pgserver.ErrNotInstalled) && os.Getenv(RequireEnv) != "1" {
			t.Skip(msg)
		}
		t.Fatal(msg)
	}
	name := "t_" + randomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := shared.Admin(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := shared.Admin(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return shared.URL(name)
}

// start makes a cluster in a new temporary directory and starts its server.
func start() (*pgserver.Server, error) {
	dir, err := os.MkdirTemp("", "sparkgate-pg-")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	s, err := pgserver.Start(ctx, dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
