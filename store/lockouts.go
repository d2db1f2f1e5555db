package store

import (
	"context"
	"fmt"
	"time"
)

// LockUser records that an operator locked user out at at; a user locked
// out already keeps the first time (gateway.LockoutStore).
func (s *DB) LockUser(ctx context.Context, user string, at time.Time) error {
	if _, err := s.exec(ctx,
		`INSERT INTO operator_lockouts (user_jid, locked_at) VALUES (?, ?) ON CONFLICT (user_jid) DO NOTHING`,
		user, ms(at)); err != nil {
		return fmt.Errorf("store: lock user: %w", err)
	}
	return nil
}

// UnlockUser forgets the user's lockout; none is no error.
func (s *DB) UnlockUser(ctx context.Context, user string) error {
	if _, err := s.exec(ctx, `DELETE FROM operator_lockouts WHERE user_jid = ?`, user); err != nil {
		return fmt.Errorf("store: unlock user: %w", err)
	}
	return nil
}

// UserLocked reports whether an operator locked user out.
func (s *DB) UserLocked(ctx context.Context, user string) (bool, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM operator_lockouts WHERE user_jid = ?`, user).Scan(&n); err != nil {
		return false, fmt.Errorf("store: user locked: %w", err)
	}
	return n > 0, nil
}
