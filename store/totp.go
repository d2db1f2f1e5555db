package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sparkgate/sparkgate/auth"
)

// PutTOTPSecret inserts or replaces the user's sealed secret.
func (s *DB) PutTOTPSecret(ctx context.Context, sec auth.TOTPSecret) error {
	active := 0
	if sec.Active {
		active = 1
	}
	_, err := s.exec(ctx,
		`INSERT INTO totp_secrets (user_jid, ciphertext, nonce, active, created_at) VALUES (?, ?, ?, ?, ?)
		 ON CONFLICT (user_jid) DO UPDATE SET ciphertext = excluded.ciphertext, nonce = excluded.nonce,
		   active = excluded.active, created_at = excluded.created_at`,
		sec.User, sec.Ciphertext, sec.Nonce, active, ms(sec.CreatedAt))
	if err != nil {
		return fmt.Errorf("store: put totp secret: %w", err)
	}
	return nil
}

// TOTPSecret returns the user's sealed secret or an error matching
// ErrNotFound.
func (s *DB) TOTPSecret(ctx context.Context, user string) (auth.TOTPSecret, error) {
	sec := auth.TOTPSecret{User: user}
	var active int
	var created int64
	err := s.db.QueryRowContext(ctx,
		`SELECT ciphertext, nonce, active, created_at FROM totp_secrets WHERE user_jid = ?`, user).
		Scan(&sec.Ciphertext, &sec.Nonce, &active, &created)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return auth.TOTPSecret{}, fmt.Errorf("store: totp secret: %w", ErrNotFound)
	case err != nil:
		return auth.TOTPSecret{}, fmt.Errorf("store: totp secret: %w", err)
	}
	sec.Active = active != 0
	sec.CreatedAt = fromMS(created)
	return sec, nil
}

// ActivateTOTPSecret marks the user's secret active.
func (s *DB) ActivateTOTPSecret(ctx context.Context, user string) error {
	res, err := s.exec(ctx, `UPDATE totp_secrets SET active = 1 WHERE user_jid = ?`, user)
	return affected(res, err, "activate totp secret")
}

// DeleteTOTPSecret removes the user's secret together with its used steps
// and failures.
func (s *DB) DeleteTOTPSecret(ctx context.Context, user string) error {
	return s.tx(ctx, func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM totp_secrets WHERE user_jid = ?`, user)
		if err := affected(res, err, "delete totp secret"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM totp_used_steps WHERE user_jid = ?`, user); err != nil {
			return fmt.Errorf("store: delete totp steps: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM totp_recovery_codes WHERE user_jid = ?`, user); err != nil {
			return fmt.Errorf("store: delete recovery codes: %w", err)
		}
		return nil
	})
}

// PutRecoveryCodes replaces the user's recovery codes by macs, in one
// transaction.
func (s *DB) PutRecoveryCodes(ctx context.Context, user string, macs [][]byte) error {
	return s.tx(ctx, func(tx *txn) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM totp_recovery_codes WHERE user_jid = ?`, user); err != nil {
			return fmt.Errorf("store: put recovery codes: %w", err)
		}
		for _, mac := range macs {
			if _, err := tx.ExecContext(ctx,
				`INSERT INTO totp_recovery_codes (user_jid, code_mac) VALUES (?, ?) ON CONFLICT DO NOTHING`, user, mac); err != nil {
				return fmt.Errorf("store: put recovery codes: %w", err)
			}
		}
		return nil
	})
}

// UseRecoveryCode deletes the user's code with mac and reports whether it
// was there: of two concurrent uses, one deletes the row.
func (s *DB) UseRecoveryCode(ctx context.Context, user string, mac []byte) (bool, error) {
	res, err := s.exec(ctx, `DELETE FROM totp_recovery_codes WHERE user_jid = ? AND code_mac = ?`, user, mac)
	if err != nil {
		return false, fmt.Errorf("store: use recovery code: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: use recovery code: %w", err)
	}
	return n == 1, nil
}

// RecoveryCodes counts the user's unused recovery codes.
func (s *DB) RecoveryCodes(ctx context.Context, user string) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM totp_recovery_codes WHERE user_jid = ?`, user).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: recovery codes: %w", err)
	}
	return n, nil
}

// UseTOTPStep records that user consumed step and reports whether it was
// the first use.
func (s *DB) UseTOTPStep(ctx context.Context, user string, step int64, expiresAt time.Time) (bool, error) {
	res, err := s.exec(ctx,
		`INSERT INTO totp_used_steps (user_jid, step, expires_at) VALUES (?, ?, ?)
		 ON CONFLICT (user_jid, step) DO NOTHING`,
		user, step, ms(expiresAt))
	if err != nil {
		return false, fmt.Errorf("store: use totp step: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: use totp step: %w", err)
	}
	return n == 1, nil
}

// AddTOTPFailure records a failed attempt.
func (s *DB) AddTOTPFailure(ctx context.Context, user string, at time.Time) error {
	_, err := s.exec(ctx,
		`INSERT INTO totp_failures (user_jid, failed_at) VALUES (?, ?)`, user, ms(at))
	if err != nil {
		return fmt.Errorf("store: add totp failure: %w", err)
	}
	return nil
}

// TOTPFailures returns the user's failures at or after since, oldest first.
func (s *DB) TOTPFailures(ctx context.Context, user string, since time.Time) ([]time.Time, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT failed_at FROM totp_failures WHERE user_jid = ? AND failed_at >= ? ORDER BY failed_at`,
		user, ms(since))
	if err != nil {
		return nil, fmt.Errorf("store: totp failures: %w", err)
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("store: totp failures: %w", err)
		}
		out = append(out, fromMS(v))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: totp failures: %w", err)
	}
	return out, nil
}

// ClearTOTPFailures forgets the user's failures.
func (s *DB) ClearTOTPFailures(ctx context.Context, user string) error {
	if _, err := s.exec(ctx, `DELETE FROM totp_failures WHERE user_jid = ?`, user); err != nil {
		return fmt.Errorf("store: clear totp failures: %w", err)
	}
	return nil
}

// affected turns an Exec result into ErrNotFound when no row matched.
func affected(res sql.Result, err error, step string) error {
	if err != nil {
		return fmt.Errorf("store: %s: %w", step, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: %s: %w", step, err)
	}
	if n == 0 {
		return fmt.Errorf("store: %s: %w", step, ErrNotFound)
	}
	return nil
}
