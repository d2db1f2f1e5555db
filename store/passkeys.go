package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sparkgate/sparkgate/auth"
)

var _ auth.PasskeyStore = (*DB)(nil)

// WebAuthnHandle returns the user's WebAuthn user handle, storing candidate
// when there is none yet.
func (s *DB) WebAuthnHandle(ctx context.Context, user string, candidate []byte) ([]byte, error) {
	var handle []byte
	err := s.tx(ctx, func(tx *txn) error {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO webauthn_users (user_jid, handle) VALUES (?, ?) ON CONFLICT (user_jid) DO NOTHING`,
			user, candidate)
		if err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT handle FROM webauthn_users WHERE user_jid = ?`, user).Scan(&handle)
	})
	if err != nil {
		return nil, fmt.Errorf("store: webauthn handle: %w", err)
	}
	return handle, nil
}

// UserByWebAuthnHandle returns the user owning handle.
func (s *DB) UserByWebAuthnHandle(ctx context.Context, handle []byte) (string, error) {
	var user string
	err := s.db.QueryRowContext(ctx, `SELECT user_jid FROM webauthn_users WHERE handle = ?`, handle).Scan(&user)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", fmt.Errorf("store: webauthn user: %w", ErrNotFound)
	case err != nil:
		return "", fmt.Errorf("store: webauthn user: %w", err)
	}
	return user, nil
}

// PasskeyCredentials returns the user's credentials, oldest first.
func (s *DB) PasskeyCredentials(ctx context.Context, user string) ([]auth.PasskeyCredential, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT id, name, data, created_at, last_used_at FROM webauthn_credentials
		 WHERE user_jid = ? ORDER BY created_at, id`, user)
	if err != nil {
		return nil, fmt.Errorf("store: passkeys: %w", err)
	}
	defer rows.Close()
	var out []auth.PasskeyCredential
	for rows.Next() {
		c := auth.PasskeyCredential{User: user}
		var created, used int64
		if err := rows.Scan(&c.ID, &c.Name, &c.Data, &created, &used); err != nil {
			return nil, fmt.Errorf("store: passkeys: %w", err)
		}
		c.CreatedAt, c.LastUsedAt = fromMS(created), fromMS(used)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: passkeys: %w", err)
	}
	return out, nil
}

// AddPasskeyCredential stores a new credential; the user must have a
// handle (WebAuthnHandle) first. A duplicate id is ErrExists.
func (s *DB) AddPasskeyCredential(ctx context.Context, c auth.PasskeyCredential) error {
	_, err := s.exec(ctx,
		`INSERT INTO webauthn_credentials (id, user_jid, name, data, created_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?)`,
		c.ID, c.User, c.Name, c.Data, ms(c.CreatedAt), msOrZero(c.LastUsedAt))
	if isDuplicate(err) {
		return fmt.Errorf("store: add passkey: %w", ErrExists)
	}
	if err != nil {
		return fmt.Errorf("store: add passkey: %w", err)
	}
	return nil
}

// UpdatePasskeyCredential replaces a credential's data and last use time.
func (s *DB) UpdatePasskeyCredential(ctx context.Context, user string, id, data []byte, lastUsed time.Time) error {
	res, err := s.exec(ctx,
		`UPDATE webauthn_credentials SET data = ?, last_used_at = ? WHERE user_jid = ? AND id = ?`,
		data, msOrZero(lastUsed), user, id)
	return affected(res, err, "update passkey")
}

// DeletePasskeyCredential removes one of the user's credentials.
func (s *DB) DeletePasskeyCredential(ctx context.Context, user string, id []byte) error {
	res, err := s.exec(ctx, `DELETE FROM webauthn_credentials WHERE user_jid = ? AND id = ?`, user, id)
	return affected(res, err, "delete passkey")
}

func msOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return ms(t)
}

// DeleteUserPasskeys removes all of the user's passkey credentials and its
// WebAuthn user handle (for a deleted account). A user without any is not
// an error.
func (s *DB) DeleteUserPasskeys(ctx context.Context, user string) error {
	err := s.tx(ctx, func(tx *txn) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM webauthn_credentials WHERE user_jid = ?`, user); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM webauthn_users WHERE user_jid = ?`, user)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: delete passkeys: %w", err)
	}
	return nil
}
