package store

import (
	"context"
	"fmt"
	"time"
)

// TakeAttempt spends one attempt of bucket, a token bucket that holds
// burst attempts and earns one back every every (the generic cell rate
// algorithm: the bucket is one stored time, so one statement decides, and
// gateways sharing the store share the bucket). When none is left it
// returns false and how long until one is; nothing is spent then.
func (s *DB) TakeAttempt(ctx context.Context, bucket string, now time.Time, every time.Duration, burst int) (bool, time.Duration, error) {
	t := max(every.Milliseconds(), 1)
	n := ms(now)
	// tat: when the bucket is full again; each attempt moves it by t, and
	// an attempt is allowed while the moved tat is at most burst×t ahead.
	res, err := s.exec(ctx,
		`INSERT INTO attempt_buckets (bucket, tat) VALUES (?, ?)
		 ON CONFLICT (bucket) DO UPDATE SET tat = (CASE WHEN attempt_buckets.tat > ? THEN attempt_buckets.tat ELSE ? END) + ?
		 WHERE (CASE WHEN attempt_buckets.tat > ? THEN attempt_buckets.tat ELSE ? END) + ? <= ?`,
		bucket, n+t, n, n, t, n, n, t, n+int64(burst)*t)
	if err != nil {
		return false, 0, fmt.Errorf("store: take attempt: %w", err)
	}
	if burst > 0 {
		if k, err := res.RowsAffected(); err != nil {
			return false, 0, fmt.Errorf("store: take attempt: %w", err)
		} else if k == 1 {
			return true, 0, nil
		}
	}
	var tat int64
	if err := s.db.QueryRowContext(ctx, `SELECT tat FROM attempt_buckets WHERE bucket = ?`, bucket).Scan(&tat); err != nil {
		return false, 0, fmt.Errorf("store: take attempt: %w", err)
	}
	wait := time.Duration(tat+t-int64(burst)*t-n) * time.Millisecond
	return false, max(wait, time.Millisecond), nil
}
