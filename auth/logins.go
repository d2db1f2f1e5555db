package auth

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// A user's logins, as a list of signed-in devices. Each login started a
// refresh token family (Refresh.Start), and the family's one unspent,
// unexpired token is what keeps it signed in; Logins lists those, and
// EndLogin signs one out from another device (a lost phone, a shared
// computer left signed in) without ending the others, as "sign out
// everywhere" would.

// Login is a live refresh token family as its user sees it: one sign-in
// of one browser or app.
type Login struct {
	Family     string    // the family's id; the claim fam of its access tokens
	Device     string    // the client's label at the login (its User-Agent), maybe empty
	Method     string    // how it signed in: MethodPassword, MethodTOTP or MethodWebAuthn
	Remember   bool      // "stay signed in"
	StartedAt  time.Time // the login
	LastUsedAt time.Time // its latest refresh, or the login when none yet
	ExpiresAt  time.Time // when it is signed out unless it refreshes before
}

// Logins returns the user's live logins, the most recently used first.
func (r *Refresh) Logins(ctx context.Context, user string) ([]Login, error) {
	ls, err := r.store.ListRefreshFamilies(ctx, user, r.now())
	if err != nil {
		return nil, fmt.Errorf("auth: logins: %w", err)
	}
	slices.SortFunc(ls, func(a, b Login) int {
		if c := b.LastUsedAt.Compare(a.LastUsedAt); c != 0 {
			return c
		}
		return b.StartedAt.Compare(a.StartedAt)
	})
	return ls, nil
}

// EndLogin revokes the user's login with this family id, as RevokeFamily
// does, and returns it. A family that is not one of the user's live
// logins is an error matching ErrNotFound, and nothing is revoked: family
// ids are no secret to their user, and one user must not end another's.
func (r *Refresh) EndLogin(ctx context.Context, user, family string) (Login, error) {
	ls, err := r.store.ListRefreshFamilies(ctx, user, r.now())
	if err != nil {
		return Login{}, fmt.Errorf("auth: end login: %w", err)
	}
	i := slices.IndexFunc(ls, func(l Login) bool { return l.Family == family })
	if i < 0 {
		return Login{}, fmt.Errorf("auth: end login: %w", ErrNotFound)
	}
	if err := r.RevokeFamily(ctx, user, family); err != nil {
		return Login{}, err
	}
	return ls[i], nil
}
