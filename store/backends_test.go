package store_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sparkgate/sparkgate/internal/pgtest"
	"github.com/sparkgate/sparkgate/store"
)

// The store's tests are a conformance suite: each TestX runs testX once
// per engine, each time with a fresh database.

func TestMain(m *testing.M) { pgtest.Main(m) }

// opener opens a fresh store that is closed when the test ends, and
// returns it with where it lives (the SQLite file or the PostgreSQL DSN),
// for openAt.
type opener func(testing.TB) (*store.DB, string)

var backends = []struct {
	name string
	open opener
}{
	{"sqlite", newStore},
	{"postgres", newPostgres},
}

// eachBackend runs test on every engine, as subtests named after it.
func eachBackend(t *testing.T, test func(*testing.T, opener)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { test(t, b.open) })
	}
}

// newPostgres opens a store on a fresh PostgreSQL database.
func newPostgres(t testing.TB) (*store.DB, string) {
	t.Helper()
	dsn := pgtest.DSN(t)
	s, err := store.OpenPostgres(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s, dsn
}

// openAt opens the store at where again (an opener's second result).
func openAt(ctx context.Context, where string) (*store.DB, error) {
	if store.IsPostgresDSN(where) {
		return store.OpenPostgres(ctx, where)
	}
	return store.Open(ctx, where)
}

// TestMigrationsMirror: the PostgreSQL migrations are the SQLite ones,
// version for version and name for name, so one store version means one
// schema on either engine.
func TestMigrationsMirror(t *testing.T) {
	list := func(dir string) []string {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".sql") {
				out = append(out, e.Name())
			}
		}
		return out
	}
	lite, pg := list("migrations"), list(filepath.Join("migrations", "postgres"))
	if len(lite) == 0 || !slices.Equal(lite, pg) {
		t.Fatalf("migrations differ:\nsqlite   %v\npostgres %v", lite, pg)
	}
}

func TestIsPostgresDSN(t *testing.T) {
	for dsn, want := range map[string]bool{
		"postgres://u@127.0.0.1/db": true, "postgresql://h/db": true,
		"": false, "sqlite": false, "/var/lib/x.db": false, "host=x dbname=y": false,
	} {
		if got := store.IsPostgresDSN(dsn); got != want {
			t.Errorf("IsPostgresDSN(%q) = %v", dsn, want)
		}
	}
}
