package gateway

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/xmppadmin"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// Account lifecycle. Accounts are created, removed and given new passwords
// through the gateway's own operations (POST /register, DELETE /user,
// PUT /user); POST /xmpp refuses XEP-0077 in-band registration stanzas.
// An account can still disappear behind the gateway's back (an operator's
// ejabberdctl, another XMPP client of the user): whenever the gateway
// learns that an account is gone, it forgets the user (forgetUser), so that
// whoever registers the name next starts clean.

// purgeTimeout bounds one forgetUser that no request waits for.
const purgeTimeout = 30 * time.Second

// forgetUser removes what the gateway keeps for user (a bare JID) whose
// account no longer exists: every token issued up to now is revoked, the
// XMPP session and event streams end, and properties, bookmarks and what
// Users.OnDelete removes (TOTP, passkeys, push subscriptions) are deleted.
// It returns the revocation cutoff: tokens issued from then on are valid.
// Only a failed revocation is an error; the other failures are logged.
func (s *Server) forgetUser(ctx context.Context, user, why string) (time.Time, error) {
	cutoff, err := s.revokeAll(ctx, user)
	if err != nil {
		return time.Time{}, err
	}
	s.sessions.End(ctx, user, chatapi.CloseEnded)
	s.hub.EndUser(user, chatapi.CloseEnded)
	s.endElsewhere(ctx, streamsEnd{User: user, All: true, EndSession: true, Reason: chatapi.CloseEnded}) // endeverywhere.go
	s.hub.Forget(user)
	if ps := s.cfg.Users.Properties; ps != nil {
		if err := ps.DeleteUserProperties(ctx, user); err != nil {
			s.log.Error("delete user properties", "user", user, "err", err)
		}
	}
	if err := s.forgetBookmarksOf(ctx, user); err != nil {
		s.log.Error("delete user bookmarks", "user", user, "err", err)
	}
	for _, fn := range s.cfg.Users.OnDelete {
		if err := fn(ctx, user); err != nil {
			s.log.Error("clean up a removed account", "user", user, "err", err)
		}
	}
	if err := s.authx.fails.forget(ctx, user); err != nil {
		s.log.Error("forget login failures", "user", user, "err", err)
	}
	// Whoever registers the name next is not locked out.
	if err := s.op.lockouts.UnlockUser(ctx, user); err != nil {
		s.log.Error("forget an operator's lockout", "user", user, "err", err)
	}
	s.log.Info("account forgotten", "user", user, "why", why)
	return cutoff, nil
}

// revokeAll revokes every token of user issued up to now and every
// refresh token family, and returns the cutoff: tokens issued from then on
// are valid (wait for it with time.Sleep(time.Until(cutoff)) before
// issuing one).
func (s *Server) revokeAll(ctx context.Context, user string) (time.Time, error) {
	// Tokens are stamped to the millisecond: the cutoff covers every token
	// issued up to the current millisecond.
	cutoff := time.Now().Truncate(time.Millisecond).Add(time.Millisecond)
	if err := s.tokens.RevokeUser(ctx, user, cutoff); err != nil {
		return time.Time{}, err
	}
	// The cutoff also refuses a refresh of any family started before it;
	// the refresh tokens themselves are no use to anyone any more.
	if s.refresh != nil {
		if err := s.refresh.RevokeUser(ctx, user); err != nil {
			return time.Time{}, err
		}
	}
	return cutoff, nil
}

// openSession is sessions.Open that notices a removed account: when the
// XMPP server says the user does not exist (a token login for a token or
// passkey of an account removed behind the gateway's back), the user is
// forgotten and the answer is 401. A user an operator locked out is 403.
func (s *Server) openSession(ctx context.Context, local string, cred xmppconn.Credentials) (*xmppconn.Session, error) {
	user := s.bareJID(local)
	if err := s.checkLockout(ctx, user); err != nil { // operator_lockouts.go
		return nil, err
	}
	if sess, ok := s.sessions.Get(user); ok && !s.ownsUser(user) {
		if err := s.endingSession(ctx, sess); err != nil { // ownership.go
			return nil, err
		}
	}
	if _, ok := s.sessions.Get(user); !ok {
		if err := s.clusterFull(ctx); err != nil { // census.go
			return nil, err
		}
		if err := s.own(ctx, user); err != nil {
			return nil, s.notOwned(ctx, local, cred, err)
		}
	}
	sess, err := s.sessions.Open(ctx, local, cred)
	if err != nil {
		if _, ok := s.sessions.Get(user); !ok {
			s.disown(user)
		}
	}
	if errors.Is(err, xmppadmin.ErrUserNotFound) {
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), purgeTimeout)
		defer cancel()
		if _, ferr := s.forgetUser(pctx, s.bareJID(local), "the XMPP server has no such account"); ferr != nil {
			return nil, ferr
		}
		return nil, wrap(http.StatusUnauthorized, "the account no longer exists", err)
	}
	return sess, err
}

// sessionRefused is xmppconn's OnRefused: the XMPP server ended a
// session's login (the account may have been removed, which ejabberd
// announces with a conflict). The directory says whether the account is
// gone; if it is, the user is forgotten. It runs in the background: the
// caller is the session's own goroutine.
func (s *Server) sessionRefused(user string) {
	s.bg.run(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, purgeTimeout)
		defer cancel()
		local, _, _ := cutJID(user)
		exists, err := s.dir.Exists(ctx, local)
		if err != nil {
			if ctx.Err() == nil { // not the gateway closing
				s.log.Warn("cannot tell whether a refused account exists", "user", user, "err", err)
			}
			return
		}
		if exists {
			return
		}
		if _, err := s.forgetUser(ctx, user, "the XMPP server removed the account"); err != nil {
			s.log.Error("forget a removed account", "user", user, "err", err)
		}
	})
}

// background runs the Server's own work that no request waits for, and
// waits for it on close.
type background struct {
	mu     sync.Mutex
	wg     sync.WaitGroup
	ctx    context.Context
	cancel context.CancelFunc
	closed bool
}

func newBackground() *background {
	b := &background{}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	return b
}

// run starts fn in a goroutine, unless the background is closed.
func (b *background) run(fn func(ctx context.Context)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.wg.Go(func() { fn(b.ctx) })
}

// enter counts work that runs on a goroutine the caller has (one a
// library started, say) as the background's: close cancels ctx and waits
// until done is called. ok is false once the background is closed.
func (b *background) enter() (ctx context.Context, done func(), ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, nil, false
	}
	b.wg.Add(1)
	return b.ctx, b.wg.Done, true
}

// close cancels the running work and waits for it to return.
func (b *background) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.cancel()
	b.wg.Wait()
}
