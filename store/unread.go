package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/sparkgate/sparkgate/unread"
)

var _ unread.Store = (*SQLite)(nil)

// AddUnread adds one to the user's count for peer.
func (s *SQLite) AddUnread(ctx context.Context, user, peer string, room bool) (unread.Count, error) {
	c, err := s.AddUnreads(ctx, []unread.Arrival{{User: user, Peer: peer, Room: room, N: 1}})
	if err != nil {
		return unread.Count{}, err
	}
	return c[0], nil
}

// unreadChunk bounds the rows of one upsert: 4 parameters each, well
// under either engine's limit on parameters per statement.
const unreadChunk = 256

// AddUnreads adds the arrivals' counts in one transaction, one upsert
// statement per unreadChunk arrivals (unread.Store).
func (s *SQLite) AddUnreads(ctx context.Context, arrivals []unread.Arrival) ([]unread.Count, error) {
	if len(arrivals) <= unreadChunk {
		// One statement: all or nothing without a transaction around it
		// (which would double the cost of a single arrival).
		out := make([]unread.Count, len(arrivals))
		if len(arrivals) > 0 {
			if err := addUnreadChunk(ctx, s.db, arrivals, out); err != nil {
				return nil, fmt.Errorf("store: add unread: %w", markFull(err))
			}
		}
		return out, nil
	}
	var out []unread.Count
	err := s.tx(ctx, func(tx *txn) error {
		out = make([]unread.Count, len(arrivals))
		for from := 0; from < len(arrivals); from += unreadChunk {
			if err := addUnreadChunk(ctx, tx, arrivals[from:min(from+unreadChunk, len(arrivals))], out[from:]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: add unread: %w", err)
	}
	return out, nil
}

// querier is a txn or the pool.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// addUnreadChunk upserts arrivals in one statement and writes their new
// states to out, in the order of arrivals.
func addUnreadChunk(ctx context.Context, tx querier, arrivals []unread.Arrival, out []unread.Count) error {
	var q strings.Builder
	q.WriteString(`INSERT INTO unread (user_jid, peer, room, unread) VALUES `)
	args := make([]any, 0, 4*len(arrivals))
	at := make(map[[2]string]int, len(arrivals))
	for i, a := range arrivals {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?)")
		args = append(args, a.User, a.Peer, a.Room, a.N)
		at[[2]string{a.User, a.Peer}] = i
	}
	q.WriteString(` ON CONFLICT (user_jid, peer) DO UPDATE SET unread = unread.unread + excluded.unread, room = excluded.room
		 RETURNING user_jid, peer, room, unread, last_read`)
	rows, err := tx.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var user string
		var c unread.Count
		if err := rows.Scan(&user, &c.Peer, &c.Room, &c.Unread, &c.LastRead); err != nil {
			return err
		}
		i, ok := at[[2]string{user, c.Peer}]
		if !ok {
			return fmt.Errorf("an upsert returned a row it was not given (%s, %s)", user, c.Peer)
		}
		out[i] = c
		n++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if n != len(arrivals) {
		return fmt.Errorf("an upsert of %d rows returned %d", len(arrivals), n)
	}
	return nil
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
