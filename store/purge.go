package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"
)

// failureRetention is how long failed TOTP attempts are kept; it must exceed
// any lockout window the auth package is configured with.
const failureRetention = 24 * time.Hour

// Purge deletes rows that can no longer matter at now: revoked token ids and
// used TOTP steps past their expiry, and TOTP failures older than a day. It
// returns the number of rows deleted.
func (s *SQLite) Purge(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		total = 0
		for _, q := range []struct {
			sql string
			arg int64
		}{
			{`DELETE FROM revoked_tokens WHERE expires_at <= ?`, ms(now)},
			{`DELETE FROM totp_used_steps WHERE expires_at <= ?`, ms(now)},
			{`DELETE FROM totp_failures WHERE failed_at < ?`, ms(now.Add(-failureRetention))},
		} {
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
	if err != nil {
		return 0, fmt.Errorf("store: purge: %w", err)
	}
	return total, nil
}

// RunPurger calls Purge every interval until ctx is done, logging failures
// to log (nil means slog.Default()). It blocks; run it in a goroutine the
// caller owns and waits for.
func (s *SQLite) RunPurger(ctx context.Context, every time.Duration, log *slog.Logger) {
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
