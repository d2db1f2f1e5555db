package gatewayenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sparkgate/sparkgate/store"
)

// migratedStore is a SQLite database file with every migration applied,
// made once per test process. Each Env starts from a copy of it instead of
// migrating a new file: migrating costs about 0.3 s of CPU under the race
// detector (goose parses every migration's SQL, and sync.Pool keeps
// nothing under -race), paid by every test that starts a gateway, dozens
// of them at once on two cores. store.Open still runs on the copy and
// finds nothing to apply, so a migration that fails is still a failure.
var migratedStore = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "sparkgate-store-template-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "sparkgate.db")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	if err := st.Close(); err != nil {
		return nil, err
	}
	// Closing the last connection checkpoints the write-ahead log into
	// the file and removes it; a log left over would hold part of the
	// schema, and the copy would lack it.
	if _, err := os.Stat(path + "-wal"); !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("gatewayenv: the template store kept its write-ahead log (%v)", err)
	}
	return os.ReadFile(path)
})

// openSQLite opens the Env's SQLite store at path, from the migrated
// template when path is new.
func openSQLite(ctx context.Context, path string) (*store.DB, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		b, err := migratedStore()
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return nil, err
		}
	}
	return store.Open(ctx, path)
}
