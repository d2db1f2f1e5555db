package gateway

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"
)

// An operator's lockout is the gateway's own, kept whatever the XMPP
// server can do: ejabberd 23.01 has no lockout that can be undone (its
// ban_account replaces the password), and the gateway must refuse a
// locked-out user's logins and session reconnects itself anyway. The
// check sits where every session opens (openSession) and where a session
// gets its login tokens (tokenIssuer), so password, TOTP and passkey
// logins, a token's session reopened after a restart, and a session
// reconnecting after the XMPP server kicked it are all refused.

// LockoutStore keeps the users an operator locked out. Users are bare
// JIDs. Implementations are safe for concurrent use (store.SQLite and
// store.Postgres are; PostgreSQL shares the lockouts between nodes).
type LockoutStore interface {
	// LockUser records that user is locked out since at; locking a
	// locked-out user again keeps the first time.
	LockUser(ctx context.Context, user string, at time.Time) error
	// UnlockUser forgets the user's lockout, if any.
	UnlockUser(ctx context.Context, user string) error
	// UserLocked reports whether user is locked out.
	UserLocked(ctx context.Context, user string) (bool, error)
}

// memoryLockouts is the LockoutStore of one process.
type memoryLockouts struct {
	mu    sync.Mutex
	users map[string]time.Time
}

func newMemoryLockouts() *memoryLockouts { return &memoryLockouts{users: map[string]time.Time{}} }

func (m *memoryLockouts) LockUser(_ context.Context, user string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.users[user]; !ok {
		m.users[user] = at
	}
	return nil
}

func (m *memoryLockouts) UnlockUser(_ context.Context, user string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.users, user)
	return nil
}

func (m *memoryLockouts) UserLocked(_ context.Context, user string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.users[user]
	return ok, nil
}

// errLockedOut is what a locked-out user's login or reconnect fails with.
var errLockedOut = errors.New("gateway: an operator has locked this account out")

// checkLockout returns a 403 that matches errLockedOut when an operator
// locked user (a bare JID) out.
func (s *Server) checkLockout(ctx context.Context, user string) error {
	locked, err := s.op.lockouts.UserLocked(ctx, user)
	switch {
	case err != nil:
		return err
	case locked:
		return wrap(http.StatusForbidden, "an operator has locked this account out", errLockedOut)
	}
	return nil
}

// operatorLocked is checkLockout for a localpart (tokenIssuer's).
func (s *Server) operatorLocked(ctx context.Context, local string) error {
	return s.checkLockout(ctx, s.bareJID(local))
}
