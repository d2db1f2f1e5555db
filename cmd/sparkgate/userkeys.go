package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/jid"
	"github.com/sparkgate/sparkgate/store"
)

// sweepUserKeys brings the store's per-user keys to the canonical form of
// package jid before the gateway serves (store.SQLite.SweepUserKeys):
// state kept under a spelling from before usernames were canonical is
// moved (an active TOTP secret, the revocation cutoff) or forgotten. It
// logs counts, never names or secrets; a second start finds nothing.
func sweepUserKeys(ctx context.Context, st *store.SQLite, keys *auth.Keys, log *slog.Logger) error {
	sw, err := st.SweepUserKeys(ctx, store.KeyForms{
		User: func(bare string) (string, error) {
			j, err := jid.Parse(bare)
			if err != nil {
				return "", err
			}
			return j.Bare(), nil
		},
		Local:    jid.Localpart,
		MoveTOTP: keys.ResealTOTP,
	})
	if err != nil {
		return fmt.Errorf("canonical user keys: %w", err)
	}
	if sw == (store.KeySweep{}) {
		log.Debug("user keys are canonical")
		return nil
	}
	log.Warn("state under non-canonical usernames swept",
		"keys", sw.Keys, "totp_moved", sw.TOTPMoved, "totp_dropped", sw.TOTPDropped,
		"cutoffs_merged", sw.CutoffsMerged, "audience_names", sw.Audience, "rows_deleted", sw.Rows)
	return nil
}
