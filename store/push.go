package store

import (
	"context"
	"fmt"
	"time"

	"github.com/sparkgate/sparkgate/webpush"
)

var _ webpush.Store = (*DB)(nil)

// PutPushSubscription stores sub, replacing the user's subscription under
// the same resource. Updated is set to now.
func (s *DB) PutPushSubscription(ctx context.Context, sub webpush.Subscription) error {
	var exp int64
	if !sub.Expires.IsZero() {
		exp = sub.Expires.UnixMilli()
	}
	_, err := s.exec(ctx,
		`INSERT INTO push_subscriptions (user_jid, resource, endpoint, p256dh, auth, expires_at, updated_at, family_id)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		 ON CONFLICT (user_jid, resource) DO UPDATE SET
		   endpoint = excluded.endpoint, p256dh = excluded.p256dh, auth = excluded.auth,
		   expires_at = excluded.expires_at, updated_at = excluded.updated_at, family_id = excluded.family_id`,
		sub.User, sub.Resource, sub.Endpoint, sub.P256dh, sub.Auth, exp, time.Now().UnixMilli(), sub.Login)
	if err != nil {
		return fmt.Errorf("store: put push subscription: %w", err)
	}
	return nil
}

// PushSubscriptions returns the user's subscriptions, oldest update first.
func (s *DB) PushSubscriptions(ctx context.Context, user string) ([]webpush.Subscription, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT resource, endpoint, p256dh, auth, expires_at, updated_at, family_id FROM push_subscriptions
		 WHERE user_jid = ? ORDER BY updated_at, resource`, user)
	if err != nil {
		return nil, fmt.Errorf("store: push subscriptions: %w", err)
	}
	defer rows.Close()
	var out []webpush.Subscription
	for rows.Next() {
		sub := webpush.Subscription{User: user}
		var exp, upd int64
		if err := rows.Scan(&sub.Resource, &sub.Endpoint, &sub.P256dh, &sub.Auth, &exp, &upd, &sub.Login); err != nil {
			return nil, fmt.Errorf("store: push subscriptions: %w", err)
		}
		if exp != 0 {
			sub.Expires = time.UnixMilli(exp).UTC()
		}
		sub.Updated = time.UnixMilli(upd).UTC()
		out = append(out, sub)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: push subscriptions: %w", err)
	}
	return out, nil
}

// DeletePushSubscription removes the user's subscription under resource;
// the error matches ErrNotFound and webpush.ErrNotFound when there is none.
func (s *DB) DeletePushSubscription(ctx context.Context, user, resource string) error {
	res, err := s.exec(ctx, `DELETE FROM push_subscriptions WHERE user_jid = ? AND resource = ?`, user, resource)
	if err != nil {
		return fmt.Errorf("store: delete push subscription: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("store: delete push subscription: %w (%w)", ErrNotFound, webpush.ErrNotFound)
	}
	return nil
}

// DeletePushEndpoint removes the user's subscriptions with this endpoint;
// none is not an error.
func (s *DB) DeletePushEndpoint(ctx context.Context, user, endpoint string) error {
	if _, err := s.exec(ctx, `DELETE FROM push_subscriptions WHERE user_jid = ? AND endpoint = ?`, user, endpoint); err != nil {
		return fmt.Errorf("store: delete push endpoint: %w", err)
	}
	return nil
}

// DeleteLoginPushSubscriptions removes the user's subscriptions stored by
// the login (refresh token family) and returns how many; none is not an
// error.
func (s *DB) DeleteLoginPushSubscriptions(ctx context.Context, user, login string) (int, error) {
	if login == "" {
		return 0, nil // '' is every subscription stored without a login
	}
	res, err := s.exec(ctx, `DELETE FROM push_subscriptions WHERE user_jid = ? AND family_id = ?`, user, login)
	if err != nil {
		return 0, fmt.Errorf("store: delete login's push subscriptions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: delete login's push subscriptions: %w", err)
	}
	return int(n), nil
}

// MoveLoginPushSubscriptions gives the user's subscriptions of the login
// from to the login to; none is not an error.
func (s *DB) MoveLoginPushSubscriptions(ctx context.Context, user, from, to string) error {
	if from == "" {
		return nil
	}
	if _, err := s.exec(ctx, `UPDATE push_subscriptions SET family_id = ? WHERE user_jid = ? AND family_id = ?`, to, user, from); err != nil {
		return fmt.Errorf("store: move login's push subscriptions: %w", err)
	}
	return nil
}

// PushSubscribers returns the users with at least one subscription, sorted.
func (s *DB) PushSubscribers(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT user_jid FROM push_subscriptions ORDER BY user_jid`)
	if err != nil {
		return nil, fmt.Errorf("store: push subscribers: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, fmt.Errorf("store: push subscribers: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: push subscribers: %w", err)
	}
	return out, nil
}
