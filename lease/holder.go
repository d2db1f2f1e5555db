package lease

import "context"

// OwnerNode returns the node that holds the lease: the gateway finds it,
// through the wrapped errors of Owner.Own, by this method alone (it does
// not import lease), and sends the user's requests there.
func (e *HeldError) OwnerNode() string { return e.Node }

// Holder returns the node that holds user's lease, "" when none does,
// without taking it: the gateway carries a logout there.
func (o Owner) Holder(ctx context.Context, user string) (string, error) {
	return o.Leases.Holder(ctx, user)
}
