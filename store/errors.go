package store

import "github.com/sparkgate/sparkgate/auth"

// ErrNotFound is returned (wrapped) for a missing row. It also matches
// auth.ErrNotFound, the sentinel the auth package's Store contract names.
var ErrNotFound error = notFound{}

type notFound struct{}

func (notFound) Error() string { return "store: not found" }

// Is lets errors.Is(err, auth.ErrNotFound) succeed for ErrNotFound.
func (notFound) Is(target error) bool { return target == auth.ErrNotFound }
