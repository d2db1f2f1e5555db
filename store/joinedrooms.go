package store

import (
	"context"
	"fmt"
	"time"

	"github.com/sparkgate/sparkgate/rooms"
)

var _ rooms.Store = (*SQLite)(nil)

// PutJoined stores j, replacing the user's entry for the room.
func (s *SQLite) PutJoined(ctx context.Context, j rooms.Joined) error {
	var seen int64
	if !j.LastSeen.IsZero() {
		seen = j.LastSeen.Unix()
	}
	if _, err := s.exec(ctx,
		`INSERT INTO joined_rooms (user_jid, room, nick, password, last_id, last_seen) VALUES (?, ?, ?, ?, ?, ?)
		 ON CONFLICT (user_jid, room) DO UPDATE SET nick = excluded.nick, password = excluded.password,
		   last_id = excluded.last_id, last_seen = excluded.last_seen`,
		j.User, j.Room, j.Nick, j.Password, j.LastID, seen); err != nil {
		return fmt.Errorf("store: put joined room: %w", err)
	}
	return nil
}

// SetPositions records read positions, in one transaction: the gateway
// writes those that moved each second, up to one per member of a busy
// room, and a transaction each cost ten times as much.
func (s *SQLite) SetPositions(ctx context.Context, positions []rooms.Joined) error {
	if len(positions) == 0 {
		return nil
	}
	err := s.tx(ctx, func(tx *txn) error {
		for _, p := range positions {
			var seen int64
			if !p.LastSeen.IsZero() {
				seen = p.LastSeen.Unix()
			}
			if _, err := tx.ExecContext(ctx, `UPDATE joined_rooms SET last_id = ?, last_seen = ? WHERE user_jid = ? AND room = ?`,
				p.LastID, seen, p.User, p.Room); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: set room positions: %w", err)
	}
	return nil
}

// DeleteJoined removes the user's entry for the room; none is not an
// error.
func (s *SQLite) DeleteJoined(ctx context.Context, user, room string) error {
	if _, err := s.exec(ctx, `DELETE FROM joined_rooms WHERE user_jid = ? AND room = ?`, user, room); err != nil {
		return fmt.Errorf("store: delete joined room: %w", err)
	}
	return nil
}

// Joined lists the rooms the user is in, by room.
func (s *SQLite) Joined(ctx context.Context, user string) ([]rooms.Joined, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT room, nick, password, last_id, last_seen FROM joined_rooms WHERE user_jid = ? ORDER BY room`, user)
	if err != nil {
		return nil, fmt.Errorf("store: joined rooms: %w", err)
	}
	defer rows.Close()
	var out []rooms.Joined
	for rows.Next() {
		j := rooms.Joined{User: user}
		var seen int64
		if err := rows.Scan(&j.Room, &j.Nick, &j.Password, &j.LastID, &seen); err != nil {
			return nil, fmt.Errorf("store: joined rooms: %w", err)
		}
		if seen > 0 {
			j.LastSeen = time.Unix(seen, 0)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: joined rooms: %w", err)
	}
	return out, nil
}

// RewriteRoomPasswords replaces every stored room password by f's
// answer for it, in one transaction, and returns how many changed
// (rooms.SealExisting seals those stored in plain text).
func (s *SQLite) RewriteRoomPasswords(ctx context.Context, f func(user, room, stored string) (string, error)) (int, error) {
	n := 0
	err := s.tx(ctx, func(tx *txn) error {
		rows, err := tx.QueryContext(ctx, `SELECT user_jid, room, password FROM joined_rooms WHERE password <> ''`)
		if err != nil {
			return err
		}
		type row struct{ user, room, pw string }
		var all []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.user, &r.room, &r.pw); err != nil {
				rows.Close()
				return err
			}
			all = append(all, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, r := range all {
			pw, err := f(r.user, r.room, r.pw)
			if err != nil {
				return err
			}
			if pw == r.pw {
				continue
			}
			if _, err := tx.ExecContext(ctx, `UPDATE joined_rooms SET password = ? WHERE user_jid = ? AND room = ?`, pw, r.user, r.room); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: rewrite room passwords: %w", err)
	}
	return n, nil
}
