package xmppconn

import (
	"context"
	"time"
)

// The user's own name and email, from their vCard (XEP-0054), which the
// gateway puts in the first event of every event stream (SparkWeb's
// onConnect, whose reference took them from the Openfire profile). A
// stream opens at each page load and each reconnect, and the streams of
// a whole node reopen together after it restarts: read once and kept,
// the vCard is one IQ per session instead of one per stream. The
// session's own SetVCard keeps it current; a change made by another
// client of the account shows after ownProfileTTL.

// ownProfileTTL is how long a read vCard's name and email are taken as
// current.
const ownProfileTTL = 10 * time.Minute

// ownProfile is what OwnProfile keeps.
type ownProfile struct {
	name, email string
	at          time.Time
}

// OwnProfile returns the user's name (the vCard's FN) and preferred email
// address, each "" when the vCard has none, from a read at most
// ownProfileTTL old.
func (s *Session) OwnProfile(ctx context.Context) (name, email string, err error) {
	s.mu.Lock()
	p := s.profile
	s.mu.Unlock()
	if p != nil && time.Since(p.at) < ownProfileTTL {
		return p.name, p.email, nil
	}
	v, err := s.VCard(ctx, "")
	if err != nil {
		return "", "", err
	}
	s.keepProfile(v)
	return v.FN, v.Email(), nil
}

// keepProfile remembers the name and email of v, the user's vCard as
// just read or stored.
func (s *Session) keepProfile(v *VCard) {
	p := &ownProfile{name: v.FN, email: v.Email(), at: time.Now()}
	s.mu.Lock()
	s.profile = p
	s.mu.Unlock()
}
