package pgserver

import (
	"testing"

	"github.com/sparkgate/sparkgate/internal/depstest"
)

// TestDeps: the server needs the PostgreSQL driver (to know it is ready)
// and a free port (internal/freeport), nothing else of ours.
func TestDeps(t *testing.T) {
	depstest.Only(t, "internal/pgserver", depstest.Imports(t, "."), "github.com/jackc/pgx/v5", depstest.Ours("internal/freeport"))
}
