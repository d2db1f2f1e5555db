package store

import (
	"context"
	"fmt"
	"time"

	"github.com/sparkgate/sparkgate/webpush"
)

var _ webpush.MuteStore = (*DB)(nil)

// PutMute mutes the user's conversation with peer until until (zero:
// until unmuted), replacing an earlier mute of it.
func (s *DB) PutMute(ctx context.Context, user, peer string, until time.Time) error {
	if _, err := s.exec(ctx,
		`INSERT INTO muted (user_jid, peer, until_at) VALUES (?, ?, ?)
		 ON CONFLICT (user_jid, peer) DO UPDATE SET until_at = excluded.until_at`,
		user, peer, msOrZero(until)); err != nil {
		return fmt.Errorf("store: put mute: %w", err)
	}
	return nil
}

// DeleteMute unmutes the user's conversation with peer and reports
// whether it was muted at now.
func (s *DB) DeleteMute(ctx context.Context, user, peer string, now time.Time) (bool, error) {
	res, err := s.exec(ctx, `DELETE FROM muted WHERE user_jid = ? AND peer = ? AND (until_at = 0 OR until_at > ?)`, user, peer, ms(now))
	if err != nil {
		return false, fmt.Errorf("store: delete mute: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: delete mute: %w", err)
	}
	// A mute that ran out goes too, as if it never was.
	if _, err := s.exec(ctx, `DELETE FROM muted WHERE user_jid = ? AND peer = ?`, user, peer); err != nil {
		return false, fmt.Errorf("store: delete mute: %w", err)
	}
	return n > 0, nil
}

// Mutes returns the user's conversations muted at now, by peer.
func (s *DB) Mutes(ctx context.Context, user string, now time.Time) ([]webpush.Mute, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT peer, until_at FROM muted WHERE user_jid = ? AND (until_at = 0 OR until_at > ?) ORDER BY peer`, user, ms(now))
	if err != nil {
		return nil, fmt.Errorf("store: mutes: %w", err)
	}
	defer rows.Close()
	var out []webpush.Mute
	for rows.Next() {
		var m webpush.Mute
		var until int64
		if err := rows.Scan(&m.Peer, &until); err != nil {
			return nil, fmt.Errorf("store: mutes: %w", err)
		}
		if until != 0 {
			m.Until = fromMS(until)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: mutes: %w", err)
	}
	return out, nil
}

// Muted reports whether the user's conversation with peer is muted at
// now.
func (s *DB) Muted(ctx context.Context, user, peer string, now time.Time) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx,
		`SELECT COUNT(*) FROM muted WHERE user_jid = ? AND peer = ? AND (until_at = 0 OR until_at > ?)`, user, peer, ms(now)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: muted: %w", err)
	}
	return n > 0, nil
}
