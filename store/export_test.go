package store

import "context"

// Migrate runs the migrations again and returns how many were applied.
func (s *DB) Migrate(ctx context.Context) (int, error) { return s.migrate(ctx) }
