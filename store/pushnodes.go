package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sparkgate/sparkgate/webpush"
)

var _ webpush.NodeStore = (*DB)(nil)

// PushNode returns the user's push node; the error matches ErrNotFound and
// webpush.ErrNotFound when there is none.
func (s *DB) PushNode(ctx context.Context, user string) (webpush.PushNode, error) {
	return s.pushNode(ctx, "push node", `SELECT user_jid, node, secret FROM push_nodes WHERE user_jid = ?`, user)
}

// PushNodeByNode returns the push node named node, with its owner.
func (s *DB) PushNodeByNode(ctx context.Context, node string) (webpush.PushNode, error) {
	return s.pushNode(ctx, "push node by node", `SELECT user_jid, node, secret FROM push_nodes WHERE node = ?`, node)
}

func (s *DB) pushNode(ctx context.Context, what, query, arg string) (webpush.PushNode, error) {
	var n webpush.PushNode
	err := s.db.QueryRowContext(ctx, query, arg).Scan(&n.User, &n.Node, &n.Secret)
	if errors.Is(err, sql.ErrNoRows) {
		return webpush.PushNode{}, fmt.Errorf("store: %s: %w (%w)", what, ErrNotFound, webpush.ErrNotFound)
	}
	if err != nil {
		return webpush.PushNode{}, fmt.Errorf("store: %s: %w", what, err)
	}
	return n, nil
}

// AddPushNode stores n unless its user has a node, and returns the user's
// node.
func (s *DB) AddPushNode(ctx context.Context, n webpush.PushNode) (webpush.PushNode, error) {
	if _, err := s.exec(ctx,
		`INSERT INTO push_nodes (user_jid, node, secret, created_at) VALUES (?, ?, ?, ?)
		 ON CONFLICT (user_jid) DO NOTHING`,
		n.User, n.Node, n.Secret, time.Now().UnixMilli()); err != nil {
		return webpush.PushNode{}, fmt.Errorf("store: add push node: %w", err)
	}
	return s.PushNode(ctx, n.User)
}

// PushNodes returns every push node, ordered by user.
func (s *DB) PushNodes(ctx context.Context) ([]webpush.PushNode, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT user_jid, node, secret FROM push_nodes ORDER BY user_jid`)
	if err != nil {
		return nil, fmt.Errorf("store: push nodes: %w", err)
	}
	defer rows.Close()
	var out []webpush.PushNode
	for rows.Next() {
		var n webpush.PushNode
		if err := rows.Scan(&n.User, &n.Node, &n.Secret); err != nil {
			return nil, fmt.Errorf("store: push nodes: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: push nodes: %w", err)
	}
	return out, nil
}

// DeletePushNode removes the user's push node; none is not an error.
func (s *DB) DeletePushNode(ctx context.Context, user string) error {
	if _, err := s.exec(ctx, `DELETE FROM push_nodes WHERE user_jid = ?`, user); err != nil {
		return fmt.Errorf("store: delete push node: %w", err)
	}
	return nil
}
