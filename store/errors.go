package store

import (
	"errors"
	"fmt"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/sparkgate/sparkgate/auth"
)

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

// ErrFull is returned (wrapped, with the engine's own error) when a write
// failed because the disk, or the database's page limit, is full
// (SQLite's SQLITE_FULL, "database or disk is full"; PostgreSQL's
// disk_full, 53100). Nothing was written; reads
// still work, and writes work again once there is space. It has a
// StorageFull method returning true, the behaviour the gateway maps to
// 507 Insufficient Storage without importing this package.
var ErrFull error = full{}

type full struct{}

func (full) Error() string { return "store: database or disk is full" }

// StorageFull reports true: see ErrFull.
func (full) StorageFull() bool { return true }

// sqliteFull is SQLITE_FULL, the primary result code (the low byte of an
// extended one).
const sqliteFull = 13

// markFull returns err, matching ErrFull too when the engine says the
// database or disk is full.
func markFull(err error) error {
	if err == nil || errors.Is(err, ErrFull) {
		return err
	}
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqliteFull || pgCode(err) == pgDiskFull {
		return fmt.Errorf("%w: %w", ErrFull, err)
	}
	return err
}

// isDuplicate reports whether err is a violation of a primary key or
// unique constraint.
func isDuplicate(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
	}
	return pgCode(err) == pgUniqueViolation
}
