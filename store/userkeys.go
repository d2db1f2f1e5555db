package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/sparkgate/sparkgate/auth"
)

// Canonical user keys. The store keys per-user rows on the user's bare
// JID, in the form the gateway makes of it. Before issue 24 that form was
// the name in lower case; it is now the XMPP server's (Nodeprep), and for
// names beyond ASCII the two differ ("straße" is "strasse", a full-width
// "ａlice" is "alice"). A row under an old key is out of every request's
// reach: a TOTP secret there is no longer asked for (a silent downgrade to
// the password alone), and what an attacker stored under another spelling
// lingers. SweepUserKeys brings the store back to canonical keys.

// KeyForms tells SweepUserKeys the canonical forms of what the store
// keeps; the store does not prepare names itself (package jid does, in the
// caller). Every field is required.
type KeyForms struct {
	// User returns the canonical form of a stored bare JID, or an error
	// when it has none (the name is refused by today's rules).
	User func(bare string) (string, error)
	// Local returns the canonical form of a stored username: bookmark
	// audiences name users by their local part.
	Local func(name string) (string, error)
	// MoveTOTP returns a TOTP secret sealed for another user
	// (auth.Keys.ResealTOTP): a sealed secret opens only for the user it
	// was sealed for.
	MoveTOTP func(sec auth.TOTPSecret, user string) (auth.TOTPSecret, error)
}

// KeySweep counts what SweepUserKeys did; it holds no names or secrets.
type KeySweep struct {
	Keys          int   // user keys found that are not canonical
	TOTPMoved     int   // active TOTP secrets moved to their canonical key
	TOTPDropped   int   // TOTP secrets deleted: pending, or the canonical key has an active one, or no canonical key
	CutoffsMerged int   // revocation cutoffs carried to the canonical key (the later of the two kept)
	Audience      int   // bookmark audience names made canonical (or deleted when they have no canonical form)
	Rows          int64 // rows deleted under non-canonical keys
}

// userTables are the tables with a user_jid column, each row owned by
// that user.
var userTables = []string{"totp_secrets", "totp_used_steps", "totp_failures", "totp_recovery_codes",
	"webauthn_credentials", "webauthn_users", "push_subscriptions", "push_nodes", "room_push", "joined_rooms", "user_properties",
	"refresh_tokens", "login_failures", "unread", "contact_requests", "operator_lockouts", "muted"}

// SweepUserKeys finds every user key in the per-user tables that is not
// canonical (forms.User(key) != key) and, for each, in one transaction:
// an active TOTP secret moves to the canonical key, sealed again, with its
// used steps, failures and recovery codes, unless the canonical key has an
// active secret of its own (a second factor is never lost: the move fails
// closed); the
// revocation cutoff moves too, the later of the two kept, so no token the
// old key revoked comes back; then everything else under the old key is
// deleted (passkeys, push subscriptions, properties, bookmarks it created,
// and the old rows themselves; passkeys never move, as one an attacker
// registered under a spelling would log in as the user). Tokens issued to
// the old key are refused by the gateway, whose subjects are canonical.
// Bookmark audiences naming a user by a non-canonical name are rewritten.
//
// Of several old keys of one user with an active secret, the first in key
// order moves and the others are dropped.
//
// It is idempotent: a second run finds no key to sweep. A secret that does
// not open for its own key stops the sweep with an error (it is left where
// it is): the gateway should not start over TOTP secrets it cannot read.
func (s *DB) SweepUserKeys(ctx context.Context, forms KeyForms) (KeySweep, error) {
	var sw KeySweep
	if forms.User == nil || forms.Local == nil || forms.MoveTOTP == nil {
		return sw, errors.New("store: sweep user keys: KeyForms is incomplete")
	}
	keys, err := s.strings(ctx, userKeysQuery())
	if err != nil {
		return sw, fmt.Errorf("store: sweep user keys: %w", err)
	}
	for _, key := range keys {
		canon, err := forms.User(key)
		if err == nil && canon == key {
			continue
		}
		if err != nil {
			canon = "" // nobody can sign in under this name any more
		}
		var one KeySweep
		if err := s.tx(ctx, func(tx *txn) error {
			one = KeySweep{Keys: 1}
			return sweepKey(ctx, tx, forms, key, canon, &one)
		}); err != nil {
			return sw, fmt.Errorf("store: sweep user keys: %w", err)
		}
		sw.add(one)
	}
	n, err := s.sweepAudience(ctx, forms.Local)
	if err != nil {
		return sw, fmt.Errorf("store: sweep bookmark audience: %w", err)
	}
	sw.Audience = n
	return sw, nil
}

func (sw *KeySweep) add(o KeySweep) {
	sw.Keys += o.Keys
	sw.TOTPMoved += o.TOTPMoved
	sw.TOTPDropped += o.TOTPDropped
	sw.CutoffsMerged += o.CutoffsMerged
	sw.Rows += o.Rows
}

// userKeysQuery lists every user key of the store once.
func userKeysQuery() string {
	q := `SELECT user_jid FROM user_revocations UNION SELECT creator FROM bookmarks`
	for _, t := range userTables {
		q += ` UNION SELECT user_jid FROM ` + t
	}
	return q + ` ORDER BY 1`
}

// sweepKey moves what must survive from key to canon ("" when key has no
// canonical form) and deletes the rest, counting into sw.
func sweepKey(ctx context.Context, tx *txn, forms KeyForms, key, canon string, sw *KeySweep) error {
	moved, err := moveTOTP(ctx, tx, forms, key, canon)
	if err != nil {
		return err
	}
	var secrets int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM totp_secrets WHERE user_jid = ?`, key).Scan(&secrets); err != nil {
		return err
	}
	if moved {
		sw.TOTPMoved++
	} else {
		sw.TOTPDropped += secrets
	}
	if canon != "" {
		var had int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM user_revocations WHERE user_jid = ?`, key).Scan(&had); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx,
			`INSERT INTO user_revocations (user_jid, cutoff) SELECT ?, cutoff FROM user_revocations WHERE user_jid = ?
			 ON CONFLICT (user_jid) DO UPDATE SET cutoff = excluded.cutoff WHERE excluded.cutoff > user_revocations.cutoff`,
			canon, key)
		if err != nil {
			return fmt.Errorf("merge revocation cutoff: %w", err)
		}
		sw.CutoffsMerged += had
	}
	stmts := []string{`DELETE FROM user_revocations WHERE user_jid = ?`, `DELETE FROM bookmarks WHERE creator = ?`}
	for _, t := range userTables {
		stmts = append(stmts, `DELETE FROM `+t+` WHERE user_jid = ?`)
	}
	for _, q := range stmts {
		res, err := tx.ExecContext(ctx, q, key)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		sw.Rows += n
	}
	return nil
}

// moveTOTP moves key's active TOTP secret, its used steps and failures to
// canon, sealed for canon, unless canon already has an active secret (a
// pending one of canon's gives way). It reports whether it moved one.
func moveTOTP(ctx context.Context, tx *txn, forms KeyForms, key, canon string) (bool, error) {
	if canon == "" {
		return false, nil
	}
	sec, err := totpSecretTx(ctx, tx, key)
	if errors.Is(err, sql.ErrNoRows) || err == nil && !sec.Active {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	theirs, err := totpSecretTx(ctx, tx, canon)
	switch {
	case err == nil && theirs.Active:
		return false, nil
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return false, err
	}
	moved, err := forms.MoveTOTP(sec, canon)
	if err != nil {
		return false, fmt.Errorf("move the totp secret of a non-canonical key: %w", err)
	}
	stmts := []struct {
		q    string
		args []any
	}{
		{`DELETE FROM totp_secrets WHERE user_jid = ?`, []any{canon}},
		{`INSERT INTO totp_secrets (user_jid, ciphertext, nonce, active, created_at) VALUES (?, ?, ?, 1, ?)`,
			[]any{canon, moved.Ciphertext, moved.Nonce, ms(moved.CreatedAt)}},
		{`INSERT INTO totp_used_steps (user_jid, step, expires_at) SELECT ?, step, expires_at FROM totp_used_steps
		  WHERE user_jid = ? ON CONFLICT (user_jid, step) DO NOTHING`, []any{canon, key}},
		{`INSERT INTO totp_failures (user_jid, failed_at) SELECT ?, failed_at FROM totp_failures WHERE user_jid = ?`,
			[]any{canon, key}},
		// The codes' MACs do not name the user: they move as they are.
		{`DELETE FROM totp_recovery_codes WHERE user_jid = ?`, []any{canon}},
		{`INSERT INTO totp_recovery_codes (user_jid, code_mac) SELECT ?, code_mac FROM totp_recovery_codes WHERE user_jid = ?`,
			[]any{canon, key}},
	}
	for _, st := range stmts {
		if _, err := tx.ExecContext(ctx, st.q, st.args...); err != nil {
			return false, fmt.Errorf("move totp secret: %w", err)
		}
	}
	return true, nil
}

// totpSecretTx reads user's sealed secret inside tx; sql.ErrNoRows when
// there is none.
func totpSecretTx(ctx context.Context, tx *txn, user string) (auth.TOTPSecret, error) {
	sec := auth.TOTPSecret{User: user}
	var active int
	var created int64
	err := tx.QueryRowContext(ctx, `SELECT ciphertext, nonce, active, created_at FROM totp_secrets WHERE user_jid = ?`, user).
		Scan(&sec.Ciphertext, &sec.Nonce, &active, &created)
	sec.Active = active != 0
	sec.CreatedAt = fromMS(created)
	return sec, err
}

// sweepAudience rewrites the user names of bookmark audiences to their
// canonical form (deleting those that have none) and returns how many it
// changed.
func (s *DB) sweepAudience(ctx context.Context, local func(string) (string, error)) (int, error) {
	names, err := s.strings(ctx, `SELECT DISTINCT name FROM bookmark_audience WHERE kind = 'user'`)
	if err != nil {
		return 0, err
	}
	changed := 0
	for _, name := range names {
		canon, perr := local(name)
		if perr == nil && canon == name {
			continue
		}
		err := s.tx(ctx, func(tx *txn) error {
			if perr == nil {
				if _, err := tx.ExecContext(ctx,
					`INSERT INTO bookmark_audience (bookmark_id, kind, name) SELECT bookmark_id, kind, ? FROM bookmark_audience
					 WHERE kind = 'user' AND name = ? ON CONFLICT (bookmark_id, kind, name) DO NOTHING`, canon, name); err != nil {
					return err
				}
			}
			_, err := tx.ExecContext(ctx, `DELETE FROM bookmark_audience WHERE kind = 'user' AND name = ?`, name)
			return err
		})
		if err != nil {
			return changed, err
		}
		changed++
	}
	return changed, nil
}

// strings runs a query of one text column and returns its values.
func (s *DB) strings(ctx context.Context, query string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
