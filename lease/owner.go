package lease

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// releaseTimeout bounds the deletion of a given-up lease's key.
const releaseTimeout = 2 * time.Second

// Log is what an Owner tells of its ownership changes: the users' event
// log (natslog.Log), whose appends follow the owner.
type Log interface {
	// Claim is called after the lease is taken, before the owner's first
	// append.
	Claim(ctx context.Context, user string) error
	// Release is called when the lease is lost or given up.
	Release(user string)
}

// Owner is the gateway's Ownership (gateway.Ownership, matched by shape)
// on leases: a node owns a user while it holds the user's lease.
type Owner struct {
	Leases *Leases
	// Log, when set, follows the ownership (see Log).
	Log Log
	// Elsewhere is wrapped in Own's error when another node holds the
	// lease (gateway.ErrOwnedElsewhere), beside the *HeldError.
	Elsewhere error
}

// Own takes user's lease (and claims the user's log). lost is called
// once, from the lease's goroutine, if the lease is lost later (the log is
// released first); the returned release gives the lease up.
func (o Owner) Own(ctx context.Context, user string, lost func()) (release func(), err error) {
	l, err := o.Leases.Acquire(ctx, user, func(error) {
		if o.Log != nil {
			o.Log.Release(user)
		}
		lost()
	})
	if errors.Is(err, ErrHeld) && o.Elsewhere != nil {
		return nil, fmt.Errorf("%w: %w", o.Elsewhere, err)
	}
	if err != nil {
		return nil, err
	}
	give := func() {
		if o.Log != nil {
			o.Log.Release(user)
		}
		ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
		defer cancel()
		l.Release(ctx) // a key left behind expires with the TTL
	}
	if o.Log != nil {
		if err := o.Log.Claim(ctx, user); err != nil {
			give()
			return nil, err
		}
	}
	return give, nil
}
