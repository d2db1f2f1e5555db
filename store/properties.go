package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// UserProperties returns the stored properties of user (a bare JID) by
// name; a user without properties has an empty, non-nil map.
func (s *DB) UserProperties(ctx context.Context, user string) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, value FROM user_properties WHERE user_jid = ?`, user)
	if err != nil {
		return nil, fmt.Errorf("store: user properties: %w", err)
	}
	defer rows.Close()
	props := make(map[string]string)
	for rows.Next() {
		var n, v string
		if err := rows.Scan(&n, &v); err != nil {
			return nil, fmt.Errorf("store: user properties: %w", err)
		}
		props[n] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: user properties: %w", err)
	}
	return props, nil
}

// SetUserProperties changes the properties of user in one transaction:
// each name in remove is deleted, then each name in set inserted or
// replaced. When maxCount is positive and the user would end with more
// properties than that, nothing changes and ok is false.
func (s *DB) SetUserProperties(ctx context.Context, user string, set map[string]string, remove []string, maxCount int) (ok bool, err error) {
	now := ms(time.Now())
	err = s.tx(ctx, func(tx *txn) error {
		for _, n := range remove {
			if _, err := tx.ExecContext(ctx, `DELETE FROM user_properties WHERE user_jid = ? AND name = ?`, user, n); err != nil {
				return err
			}
		}
		for n, v := range set {
			if _, err := tx.ExecContext(ctx,
				`INSERT INTO user_properties (user_jid, name, value, updated_at) VALUES (?, ?, ?, ?)
				 ON CONFLICT (user_jid, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
				user, n, v, now); err != nil {
				return err
			}
		}
		if maxCount > 0 {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM user_properties WHERE user_jid = ?`, user).Scan(&n); err != nil {
				return err
			}
			if n > maxCount {
				return errTooMany
			}
		}
		return nil
	})
	switch {
	case errors.Is(err, errTooMany):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("store: set user properties: %w", err)
	}
	return true, nil
}

// errTooMany rolls back a SetUserProperties that went over its limit.
var errTooMany = errors.New("store: too many properties")

// DeleteUserProperties removes every property of user (when the account
// is deleted). A user without properties is not an error.
func (s *DB) DeleteUserProperties(ctx context.Context, user string) error {
	if _, err := s.exec(ctx, `DELETE FROM user_properties WHERE user_jid = ?`, user); err != nil {
		return fmt.Errorf("store: delete user properties: %w", err)
	}
	return nil
}

// UsersWithProperty returns the users (bare JIDs, sorted) that have the
// property name; when matchValue is true, only those whose value equals
// value. At most limit users are returned when limit is positive.
func (s *DB) UsersWithProperty(ctx context.Context, name, value string, matchValue bool, limit int) ([]string, error) {
	q := `SELECT user_jid FROM user_properties WHERE name = ?`
	args := []any{name}
	if matchValue {
		q += ` AND value = ?`
		args = append(args, value)
	}
	q += ` ORDER BY user_jid`
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: users with property: %w", err)
	}
	defer rows.Close()
	var users []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, fmt.Errorf("store: users with property: %w", err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: users with property: %w", err)
	}
	return users, nil
}
