package store

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// failureRetention is how long failed TOTP attempts are kept; it must exceed
// any lockout window the auth package is configured with.
const failureRetention = 24 * time.Hour

// Purge deletes rows that can no longer matter at now: revoked token ids,
// refresh tokens (spent or not) and used TOTP steps past their expiry,
// TOTP and login failures older than a day, attempt buckets full again,
// passkey ceremonies past their expiry, and mutes that have run out. It returns the number of rows deleted.
//
// Each deletion is a statement of its own, not one transaction: every row
// it removes is already dead, so nothing is gained by removing them all at
// once, and on PostgreSQL a serializable transaction over six busy tables
// lost to concurrent logins often enough to exhaust its retries (seen in
// TestConcurrentWriters under load).
func (s *DB) Purge(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	for _, q := range []query{
		{`DELETE FROM revoked_tokens WHERE expires_at <= ?`, ms(now)},
		{`DELETE FROM refresh_tokens WHERE expires_at <= ?`, ms(now)},
		{`DELETE FROM totp_used_steps WHERE expires_at <= ?`, ms(now)},
		{`DELETE FROM totp_failures WHERE failed_at < ?`, ms(now.Add(-failureRetention))},
		{`DELETE FROM login_failures WHERE failed_at < ?`, ms(now.Add(-failureRetention))},
		{`DELETE FROM attempt_buckets WHERE tat <= ?`, ms(now)},
		{`DELETE FROM webauthn_ceremonies WHERE expires_at <= ?`, ms(now)},
		{`DELETE FROM muted WHERE until_at > 0 AND until_at <= ?`, ms(now)},
	} {
		res, err := s.exec(ctx, q.sql, q.arg)
		if err != nil {
			return total, fmt.Errorf("store: purge: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("store: purge: %w", err)
		}
		total += n
	}
	return total, nil
}

// PurgeUser deletes everything the store keeps for user (a bare JID)
// whose account no longer exists: TOTP secret, used steps and failures,
// passkeys and WebAuthn user handle, push subscriptions, properties and
// refresh tokens.
// The user's token revocation cutoff stays, so that tokens issued before
// the account was removed never work again. Bookmarks are the gateway's
// to remove (they have an audience). A user with nothing stored is not an
// error.
func (s *DB) PurgeUser(ctx context.Context, user string) error {
	var qs []query
	for _, table := range userTables {
		qs = append(qs, query{`DELETE FROM ` + table + ` WHERE user_jid = ?`, user})
	}
	if _, err := s.deleteAll(ctx, qs); err != nil {
		return fmt.Errorf("store: purge user: %w", err)
	}
	return nil
}

// query is one statement of deleteAll with its one argument.
type query struct {
	sql string
	arg any
}

// deleteAll runs the deletions in one transaction and returns how many
// rows they deleted.
func (s *DB) deleteAll(ctx context.Context, qs []query) (int64, error) {
	var total int64
	err := s.tx(ctx, func(tx *txn) error {
		total = 0
		for _, q := range qs {
			res, err := tx.ExecContext(ctx, q.sql, q.arg)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			total += n
		}
		return nil
	})
	return total, err
}

// RunPurger calls Purge every interval until ctx is done, logging failures
// to log (nil means slog.Default()). It blocks; run it in a goroutine the
// caller owns and waits for.
func (s *DB) RunPurger(ctx context.Context, every time.Duration, log *slog.Logger) {
	if log == nil {
		log = slog.Default()
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			n, err := s.Purge(ctx, now)
			if err != nil && ctx.Err() == nil {
				log.Warn("store purge failed", "err", err)
			} else if n > 0 {
				log.Debug("store purged", "rows", n)
			}
		}
	}
}
