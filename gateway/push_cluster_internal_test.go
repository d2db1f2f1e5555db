package gateway

import (
	"context"
	"errors"
	"testing"
)

// fakeHolders is an Ownership that tells who holds each user.
type fakeHolders struct {
	Ownership
	held map[string]string
	err  error
}

func (f fakeHolders) Holder(_ context.Context, user string) (string, error) {
	return f.held[user], f.err
}

// TestHeldByNode: push renewals and component notifications skip a user
// whose session some node holds (the lease's holder), and only when the
// Ownership can tell.
func TestHeldByNode(t *testing.T) {
	for i, tc := range []struct {
		own  Ownership
		user string
		want bool
	}{
		{nil, "a@x", false},
		{fakeHolders{held: map[string]string{"a@x": "node-2"}}, "a@x", true},
		{fakeHolders{held: map[string]string{"a@x": "node-2"}}, "b@x", false},
		{fakeHolders{held: map[string]string{"a@x": "node-2"}, err: errors.New("NATS away")}, "a@x", false},
	} {
		s := &Server{}
		s.cfg.Ownership = tc.own
		if got := s.heldByNode(t.Context(), tc.user); got != tc.want {
			t.Errorf("%d: heldByNode(%s) = %v, want %v", i, tc.user, got, tc.want)
		}
	}
}
