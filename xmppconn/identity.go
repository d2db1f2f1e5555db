package xmppconn

import (
	"errors"
	"fmt"

	"github.com/sparkgate/sparkgate/jid"
)

// ErrIdentity is returned by Dial when the server bound the stream to a
// bare JID other than the one the caller logged in as. The gateway keys
// all it keeps about a user on the canonical name (package jid); a server
// that prepares names differently would otherwise let two gateway users
// share one account, or one user appear under two keys. It also matches
// ErrNotAuthorized: retrying with the same name gives the same answer.
var ErrIdentity = errors.New("xmppconn: the server bound another identity")

// checkBound compares the full JID the server bound with user@domain,
// both in canonical form.
func checkBound(bound, user, domain string) error {
	want, err := jid.User(user, domain)
	if err != nil {
		return fmt.Errorf("%w: %w: %w", ErrIdentity, ErrNotAuthorized, err)
	}
	got, err := jid.Parse(bound)
	if err != nil || got.Bare() != want {
		return fmt.Errorf("%w: %w: asked for %s, bound %q", ErrIdentity, ErrNotAuthorized, want, bound)
	}
	return nil
}
