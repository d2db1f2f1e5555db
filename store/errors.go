package store

import "github.com/sparkgate/sparkgate/auth"

// ErrExists is returned (wrapped) when a row with the same key exists. It
// also matches auth.ErrExists.
var ErrExists error = exists{}

type exists struct{}

func (exists) Error() string { return "store: already exists" }

// Is lets errors.Is(err, auth.ErrExists) succeed for ErrExists.
func (exists) Is(target error) bool { return target == auth.ErrExists }

// ErrNotFound is returned (wrapped) for a missing row. It also matches
// auth.ErrNotFound, the sentinel the auth package's Store contract names.
var ErrNotFound error = notFound{}

type notFound struct{}

func (notFound) Error() string { return "store: not found" }

// Is lets errors.Is(err, auth.ErrNotFound) succeed for ErrNotFound.
func (notFound) Is(target error) bool { return target == auth.ErrNotFound }
