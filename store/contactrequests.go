package store

import (
	"context"
	"fmt"
	"time"
)

// AddContactRequest records that requester asked to see user's presence
// at at; a request already recorded keeps its first time.
func (s *DB) AddContactRequest(ctx context.Context, user, requester string, at time.Time) error {
	_, err := s.exec(ctx,
		`INSERT INTO contact_requests (user_jid, requester, asked_at) VALUES (?, ?, ?)
		 ON CONFLICT (user_jid, requester) DO NOTHING`, user, requester, ms(at))
	if err != nil {
		return fmt.Errorf("store: add contact request: %w", err)
	}
	return nil
}

// RemoveContactRequest forgets requester's request to user; none is no
// error.
func (s *DB) RemoveContactRequest(ctx context.Context, user, requester string) error {
	if _, err := s.exec(ctx, `DELETE FROM contact_requests WHERE user_jid = ? AND requester = ?`, user, requester); err != nil {
		return fmt.Errorf("store: remove contact request: %w", err)
	}
	return nil
}

// ContactRequests returns who waits for user's answer, oldest request
// first (never nil).
func (s *DB) ContactRequests(ctx context.Context, user string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT requester FROM contact_requests WHERE user_jid = ? ORDER BY asked_at, requester`, user)
	if err != nil {
		return nil, fmt.Errorf("store: contact requests: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var j string
		if err := rows.Scan(&j); err != nil {
			return nil, fmt.Errorf("store: contact requests: %w", err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: contact requests: %w", err)
	}
	return out, nil
}
