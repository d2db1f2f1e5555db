package store

import (
	"context"
	"fmt"
	"time"
)

// AllAddrs is the client address under which a user's failed logins from
// every address are counted (AddLoginFailure records each failure under
// its address and under AllAddrs).
const AllAddrs = "*"

// AddLoginFailure records a failed login of user from addr at at, under
// addr and under AllAddrs, in one statement.
func (s *DB) AddLoginFailure(ctx context.Context, user, addr string, at time.Time) error {
	if _, err := s.exec(ctx,
		`INSERT INTO login_failures (user_jid, addr, failed_at) VALUES (?, ?, ?), (?, ?, ?)`,
		user, addr, ms(at), user, AllAddrs, ms(at)); err != nil {
		return fmt.Errorf("store: add login failure: %w", err)
	}
	return nil
}

// LoginFailures returns the newest failed logins of user from addr (or
// AllAddrs) at or after since, at most limit of them, newest first.
func (s *DB) LoginFailures(ctx context.Context, user, addr string, since time.Time, limit int) ([]time.Time, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT failed_at FROM login_failures WHERE user_jid = ? AND addr = ? AND failed_at >= ?
		 ORDER BY failed_at DESC LIMIT ?`, user, addr, ms(since), limit)
	if err != nil {
		return nil, fmt.Errorf("store: login failures: %w", err)
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("store: login failures: %w", err)
		}
		out = append(out, fromMS(v))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: login failures: %w", err)
	}
	return out, nil
}

// ClearLoginFailures forgets the failed logins of user from addr; with
// addr "" every count of the user, AllAddrs included.
func (s *DB) ClearLoginFailures(ctx context.Context, user, addr string) error {
	q, args := `DELETE FROM login_failures WHERE user_jid = ? AND addr = ?`, []any{user, addr}
	if addr == "" {
		q, args = `DELETE FROM login_failures WHERE user_jid = ?`, []any{user}
	}
	if _, err := s.exec(ctx, q, args...); err != nil {
		return fmt.Errorf("store: clear login failures: %w", err)
	}
	return nil
}
