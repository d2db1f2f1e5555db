package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/sparkgate/sparkgate/unread"
)

var _ unread.Store = (*SQLite)(nil)

// AddUnread adds one to the user's count for peer.
func (s *SQLite) AddUnread(ctx context.Context, user, peer string, room bool) (unread.Count, error) {
	c := unread.Count{Peer: peer}
	err := s.db.QueryRowContext(ctx,
		`INSERT INTO unread (user_jid, peer, room, unread) VALUES (?, ?, ?, 1)
		 ON CONFLICT (user_jid, peer) DO UPDATE SET unread = unread.unread + 1, room = excluded.room
		 RETURNING room, unread, last_read`, user, peer, room).Scan(&c.Room, &c.Unread, &c.LastRead)
	if err != nil {
		return unread.Count{}, fmt.Errorf("store: add unread: %w", markFull(err))
	}
	return c, nil
}

// MarkRead clears the user's count for peer, read up to id.
func (s *SQLite) MarkRead(ctx context.Context, user, peer string, room bool, id string) (unread.Count, bool, error) {
	var before unread.Count
	found := true
	err := s.tx(ctx, func(tx *txn) error {
		before, found = unread.Count{}, true
		err := tx.QueryRowContext(ctx, `SELECT unread, last_read FROM unread WHERE user_jid = ? AND peer = ?`, user, peer).
			Scan(&before.Unread, &before.LastRead)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			found = false
		case err != nil:
			return err
		}
		_, err = tx.ExecContext(ctx,
			`INSERT INTO unread (user_jid, peer, room, unread, last_read) VALUES (?, ?, ?, 0, ?)
			 ON CONFLICT (user_jid, peer) DO UPDATE SET unread = 0, last_read = excluded.last_read`,
			user, peer, room, id)
		return err
	})
	if err != nil {
		return unread.Count{}, false, fmt.Errorf("store: mark read: %w", err)
	}
	changed := !found || before.Unread != 0 || before.LastRead != id
	return unread.Count{Peer: peer, Room: room, LastRead: id}, changed, nil
}

// Unread returns the user's conversations ordered by peer.
func (s *SQLite) Unread(ctx context.Context, user string) ([]unread.Count, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT peer, room, unread, last_read FROM unread WHERE user_jid = ? ORDER BY peer`, user)
	if err != nil {
		return nil, fmt.Errorf("store: unread: %w", err)
	}
	defer rows.Close()
	out := []unread.Count{}
	for rows.Next() {
		var c unread.Count
		if err := rows.Scan(&c.Peer, &c.Room, &c.Unread, &c.LastRead); err != nil {
			return nil, fmt.Errorf("store: unread: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: unread: %w", err)
	}
	return out, nil
}
