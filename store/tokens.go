package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sparkgate/sparkgate/auth"
)

var _ auth.Store = (*DB)(nil)

// RevokeToken records jti as revoked until expiresAt and reports whether it
// was newly recorded. See auth.TokenStore.
func (s *DB) RevokeToken(ctx context.Context, jti string, expiresAt time.Time) (bool, error) {
	res, err := s.exec(ctx,
		`INSERT INTO revoked_tokens (jti, expires_at) VALUES (?, ?) ON CONFLICT (jti) DO NOTHING`,
		jti, ms(expiresAt))
	if err != nil {
		return false, fmt.Errorf("store: revoke token: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: revoke token: %w", err)
	}
	return n == 1, nil
}

// TokenRevoked reports whether jti was recorded by RevokeToken and not yet
// purged.
func (s *DB) TokenRevoked(ctx context.Context, jti string) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM revoked_tokens WHERE jti = ?`, jti).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("store: token revoked: %w", err)
	}
	return true, nil
}

// RevokeUserBefore records the user's revocation cutoff; a later cutoff
// replaces an earlier one, never the other way round.
func (s *DB) RevokeUserBefore(ctx context.Context, user string, cutoff time.Time) error {
	_, err := s.exec(ctx,
		`INSERT INTO user_revocations (user_jid, cutoff) VALUES (?, ?)
		 ON CONFLICT (user_jid) DO UPDATE SET cutoff = excluded.cutoff
		 WHERE excluded.cutoff > user_revocations.cutoff`,
		user, ms(cutoff))
	if err != nil {
		return fmt.Errorf("store: revoke user: %w", err)
	}
	return nil
}

// UserRevokedBefore returns the user's cutoff, or the zero Time.
func (s *DB) UserRevokedBefore(ctx context.Context, user string) (time.Time, error) {
	var v int64
	err := s.db.QueryRowContext(ctx, `SELECT cutoff FROM user_revocations WHERE user_jid = ?`, user).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return time.Time{}, nil
	case err != nil:
		return time.Time{}, fmt.Errorf("store: user revocation: %w", err)
	}
	return fromMS(v), nil
}
