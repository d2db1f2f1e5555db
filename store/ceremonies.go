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
// expires, for owner (a user; "" for none). Of owner's ceremonies only the
// newest perOwner-1 stay beside the new one: older ones are dropped first
// (perOwner 0: no such bound). Then it refuses (auth.ErrTooManyCeremonies)
// when max ceremonies not expired at now are stored already. The steps are
// separate statements: nodes beginning ceremonies at the same instant may
// pass either bound by a few, which bounds the table all the same.
// SpendCeremony's records (ids "spent:…") are not counted.
func (s *DB) PutCeremony(ctx context.Context, id, owner string, state []byte, expires, now time.Time, max, perOwner int) error {
	if owner != "" && perOwner > 0 {
		// The newest perOwner-1 of owner's stay; the rest, oldest first, go.
		if _, err := s.exec(ctx, `DELETE FROM webauthn_ceremonies WHERE owner = ? AND expires_at <= (
			SELECT expires_at FROM webauthn_ceremonies WHERE owner = ? ORDER BY expires_at DESC LIMIT 1 OFFSET ?)`,
			owner, owner, perOwner-1); err != nil {
			return fmt.Errorf("store: bound a user's ceremonies: %w", err)
		}
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM webauthn_ceremonies WHERE expires_at > ? AND id NOT LIKE 'spent:%'`, ms(now)).Scan(&n); err != nil {
		return fmt.Errorf("store: count ceremonies: %w", err)
	}
	if n >= max {
		return auth.ErrTooManyCeremonies
	}
	if _, err := s.exec(ctx, `INSERT INTO webauthn_ceremonies (id, owner, state, expires_at) VALUES (?, ?, ?, ?)`, id, owner, state, ms(expires)); err != nil {
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

// SpendCeremony records id, a finished ceremony that kept no state, until
// expires, and reports whether it was not recorded yet. One statement: of
// two nodes spending the same id at once, one gets fresh. Purge drops the
// record after expires, with the pending ceremonies.
func (s *DB) SpendCeremony(ctx context.Context, id string, expires time.Time) (bool, error) {
	res, err := s.exec(ctx, `INSERT INTO webauthn_ceremonies (id, state, expires_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING`, id, []byte("spent"), ms(expires))
	if err != nil {
		return false, fmt.Errorf("store: spend ceremony: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: spend ceremony: %w", err)
	}
	return n == 1, nil
}
