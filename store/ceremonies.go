package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sparkgate/sparkgate/auth"
)

var _ auth.CeremonyStore = (*DB)(nil)

// PutCeremony stores a pending passkey ceremony's state under id until
// expires, unless max ceremonies not expired at now are stored already
// (auth.ErrTooManyCeremonies). The count and the insert are two
// statements: nodes beginning ceremonies at the same instant may pass max
// by a few, which bounds the table all the same.
func (s *DB) PutCeremony(ctx context.Context, id string, state []byte, expires, now time.Time, max int) error {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM webauthn_ceremonies WHERE expires_at > ?`, ms(now)).Scan(&n); err != nil {
		return fmt.Errorf("store: count ceremonies: %w", err)
	}
	if n >= max {
		return auth.ErrTooManyCeremonies
	}
	if _, err := s.exec(ctx, `INSERT INTO webauthn_ceremonies (id, state, expires_at) VALUES (?, ?, ?)`, id, state, ms(expires)); err != nil {
		return fmt.Errorf("store: put ceremony: %w", err)
	}
	return nil
}

// TakeCeremony removes the ceremony id and returns its state and expiry
// (ok false when there is none). One statement: two nodes finishing the
// same ceremony at once cannot both get it.
func (s *DB) TakeCeremony(ctx context.Context, id string) (state []byte, expires time.Time, ok bool, err error) {
	var exp int64
	err = s.db.QueryRowContext(ctx, `DELETE FROM webauthn_ceremonies WHERE id = ? RETURNING state, expires_at`, id).Scan(&state, &exp)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, time.Time{}, false, nil
	case err != nil:
		return nil, time.Time{}, false, fmt.Errorf("store: take ceremony: %w", err)
	}
	return state, time.UnixMilli(exp), true, nil
}
