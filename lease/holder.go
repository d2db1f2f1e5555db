package lease

// OwnerNode returns the node that holds the lease: the gateway finds it,
// through the wrapped errors of Owner.Own, by this method alone (it does
// not import lease), and sends the user's requests there.
func (e *HeldError) OwnerNode() string { return e.Node }
