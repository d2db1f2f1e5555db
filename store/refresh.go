package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sparkgate/sparkgate/auth"
)

var _ auth.RefreshStore = (*DB)(nil)

// AddRefreshToken stores a new refresh token. See auth.RefreshStore.
func (s *DB) AddRefreshToken(ctx context.Context, rt auth.RefreshToken) error {
	res, err := s.exec(ctx,
		`INSERT INTO refresh_tokens (hash, family_id, user_jid, device, method, remember, started_at, issued_at, expires_at, used_at, parent)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING`,
		rt.Hash, rt.Family, rt.User, rt.Device, rt.Method, rt.Remember,
		ms(rt.StartedAt), ms(rt.IssuedAt), ms(rt.ExpiresAt), msOrZero(rt.UsedAt), rt.Parent)
	if err != nil {
		return fmt.Errorf("store: add refresh token: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: add refresh token: %w", err)
	} else if n == 0 {
		return fmt.Errorf("store: add refresh token: %w", auth.ErrExists)
	}
	return nil
}

// SpendRefreshToken marks the token spent unless it already is, in one
// transaction. See auth.RefreshStore.
func (s *DB) SpendRefreshToken(ctx context.Context, hash []byte, at time.Time) (auth.RefreshToken, bool, error) {
	var (
		rt    auth.RefreshToken
		spent bool
	)
	err := s.tx(ctx, func(tx *txn) error {
		rt, spent = auth.RefreshToken{}, false
		var started, issued, expires, used int64
		err := tx.QueryRowContext(ctx,
			`SELECT family_id, user_jid, device, method, remember, started_at, issued_at, expires_at, used_at
			 FROM refresh_tokens WHERE hash = ?`, hash).
			Scan(&rt.Family, &rt.User, &rt.Device, &rt.Method, &rt.Remember, &started, &issued, &expires, &used)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("refresh token: %w", auth.ErrNotFound)
		}
		if err != nil {
			return err
		}
		rt.Hash = append([]byte(nil), hash...)
		rt.StartedAt, rt.IssuedAt, rt.ExpiresAt, rt.UsedAt = fromMS(started), fromMS(issued), fromMS(expires), fromMS(used)
		if used != 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET used_at = ? WHERE hash = ? AND used_at = 0`, ms(at), hash); err != nil {
			return err
		}
		spent = true
		return nil
	})
	if err != nil {
		return auth.RefreshToken{}, false, fmt.Errorf("store: spend refresh token: %w", err)
	}
	return rt, spent, nil
}

// DeleteRefreshFamily deletes every token of the user's family.
func (s *DB) DeleteRefreshFamily(ctx context.Context, user, family string) error {
	if _, err := s.exec(ctx, `DELETE FROM refresh_tokens WHERE user_jid = ? AND family_id = ?`, user, family); err != nil {
		return fmt.Errorf("store: delete refresh family: %w", err)
	}
	return nil
}

// DeleteUserRefreshTokens deletes every refresh token of user.
func (s *DB) DeleteUserRefreshTokens(ctx context.Context, user string) error {
	if _, err := s.exec(ctx, `DELETE FROM refresh_tokens WHERE user_jid = ?`, user); err != nil {
		return fmt.Errorf("store: delete refresh tokens: %w", err)
	}
	return nil
}

// RespendRefreshToken spends, for a retried refresh, the successor of the
// token with this hash, in one transaction. See auth.RefreshStore.
func (s *DB) RespendRefreshToken(ctx context.Context, hash []byte, spentAt, at time.Time) (bool, error) {
	var ok bool
	err := s.tx(ctx, func(tx *txn) error {
		ok = false
		var family, user string
		var used int64
		err := tx.QueryRowContext(ctx, `SELECT family_id, user_jid, used_at FROM refresh_tokens WHERE hash = ?`, hash).
			Scan(&family, &user, &used)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && (used == 0 || used != ms(spentAt))) {
			return nil
		}
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx,
			`UPDATE refresh_tokens SET used_at = ?
			 WHERE user_jid = ? AND family_id = ? AND parent = ? AND used_at = 0 AND expires_at > ?`,
			ms(at), user, family, hash, ms(at))
		if err != nil {
			return err
		}
		switch n, err := res.RowsAffected(); {
		case err != nil:
			return err
		case n == 0: // spent already, or never stored: the caller revokes
			return nil
		case n > 1: // one token is issued per spend; roll back what is not
			return fmt.Errorf("%d unspent successors", n)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET used_at = ? WHERE hash = ?`, ms(at), hash); err != nil {
			return err
		}
		ok = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: respend refresh token: %w", err)
	}
	return ok, nil
}

// ListRefreshFamilies returns the user's live families. See
// auth.RefreshStore.
func (s *DB) ListRefreshFamilies(ctx context.Context, user string, now time.Time) ([]auth.Login, error) {
	// One unspent token per family is the rule (RespendRefreshToken rolls
	// back a second); the grouping keeps the answer one row per family
	// should a race ever leave two.
	rows, err := s.db.QueryContext(ctx,
		`SELECT family_id, device, method, remember, started_at, MAX(issued_at), MAX(expires_at)
		 FROM refresh_tokens WHERE user_jid = ? AND used_at = 0 AND expires_at > ?
		 GROUP BY family_id, device, method, remember, started_at`, user, ms(now))
	if err != nil {
		return nil, fmt.Errorf("store: list refresh families: %w", err)
	}
	defer rows.Close()
	var out []auth.Login
	for rows.Next() {
		var l auth.Login
		var started, issued, expires int64
		if err := rows.Scan(&l.Family, &l.Device, &l.Method, &l.Remember, &started, &issued, &expires); err != nil {
			return nil, fmt.Errorf("store: list refresh families: %w", err)
		}
		l.StartedAt, l.LastUsedAt, l.ExpiresAt = fromMS(started), fromMS(issued), fromMS(expires)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list refresh families: %w", err)
	}
	return out, nil
}
