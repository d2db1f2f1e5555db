package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/sparkgate/sparkgate/webpush"
)

var _ webpush.RoomPushStore = (*DB)(nil)

// PutRoomPush stores rp, replacing the user's entry for the room.
func (s *DB) PutRoomPush(ctx context.Context, rp webpush.RoomPush) error {
	if _, err := s.exec(ctx,
		`INSERT INTO room_push (user_jid, room, nick, policy) VALUES (?, ?, ?, ?)
		 ON CONFLICT (user_jid, room) DO UPDATE SET nick = excluded.nick, policy = excluded.policy`,
		rp.User, rp.Room, rp.Nick, rp.Policy); err != nil {
		return fmt.Errorf("store: put room push: %w", err)
	}
	return nil
}

// RoomPush returns the user's entry for the room; the error matches
// ErrNotFound and webpush.ErrNotFound when there is none.
func (s *DB) RoomPush(ctx context.Context, user, room string) (webpush.RoomPush, error) {
	rp := webpush.RoomPush{User: user, Room: room}
	err := s.db.QueryRowContext(ctx, `SELECT nick, policy FROM room_push WHERE user_jid = ? AND room = ?`, user, room).
		Scan(&rp.Nick, &rp.Policy)
	if errors.Is(err, sql.ErrNoRows) {
		return webpush.RoomPush{}, fmt.Errorf("store: room push: %w (%w)", ErrNotFound, webpush.ErrNotFound)
	}
	if err != nil {
		return webpush.RoomPush{}, fmt.Errorf("store: room push: %w", err)
	}
	return rp, nil
}

// DeleteRoomPush removes the user's entry for the room; none is not an
// error.
func (s *DB) DeleteRoomPush(ctx context.Context, user, room string) error {
	if _, err := s.exec(ctx, `DELETE FROM room_push WHERE user_jid = ? AND room = ?`, user, room); err != nil {
		return fmt.Errorf("store: delete room push: %w", err)
	}
	return nil
}
