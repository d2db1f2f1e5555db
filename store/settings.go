package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Setting returns the value of a gateway setting or an error matching
// ErrNotFound.
func (s *DB) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", fmt.Errorf("store: setting %q: %w", name, ErrNotFound)
	case err != nil:
		return "", fmt.Errorf("store: setting %q: %w", name, err)
	}
	return v, nil
}

// PutSetting inserts or replaces a gateway setting.
func (s *DB) PutSetting(ctx context.Context, name, value string) error {
	_, err := s.exec(ctx,
		`INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?)
		 ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		name, value, ms(time.Now()))
	if err != nil {
		return fmt.Errorf("store: put setting %q: %w", name, err)
	}
	return nil
}

// DeleteSetting removes a gateway setting or returns an error matching
// ErrNotFound.
func (s *DB) DeleteSetting(ctx context.Context, name string) error {
	res, err := s.exec(ctx, `DELETE FROM settings WHERE name = ?`, name)
	return affected(res, err, "delete setting")
}
