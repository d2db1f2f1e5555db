// Package xmppadmin manages the accounts of an XMPP server through its
// administration API: register and remove users, change passwords, issue
// OAuth tokens for X-OAUTH2 logins, and manage shared roster groups.
//
// Directory is what the gateway needs from any server; Ejabberd implements it
// over ejabberd's mod_http_api (POST <base>/<command> with a JSON object),
// Openfire over the Openfire REST API plugin and UserService over its User
// Service plugin (neither can issue tokens), Prosodyctl through a local
// Prosody's command-line tool (no tokens either).
// Other servers can be added behind the same interface.
//
// Errors callers branch on are the sentinels ErrUserExists, ErrUserNotFound,
// ErrInvalidUser, ErrInvalidPassword, ErrUnavailable and ErrUnsupported; anything else the
// server refuses comes back as an *APIError. No error ever carries a
// password or a token.
package xmppadmin

import (
	"context"
	"errors"
	"time"
)

var (
	// ErrUserExists is returned by Register when the account already exists.
	ErrUserExists = errors.New("xmppadmin: user already exists")

	// ErrUserNotFound is returned when the named account does not exist.
	ErrUserNotFound = errors.New("xmppadmin: user not found")

	// ErrInvalidUser is returned when the server refuses a user name as
	// malformed (RFC 7622 localpart rules).
	ErrInvalidUser = errors.New("xmppadmin: invalid user name")

	// ErrInvalidPassword is returned when the server cannot take a
	// password as given (Prosodyctl: one with a line break).
	ErrInvalidPassword = errors.New("xmppadmin: the server cannot take this password")

	// ErrUnavailable is returned when the server cannot be reached or says it
	// is not running: connection refused, a gateway error, or a status that
	// is not "running". Callers usually answer 502.
	ErrUnavailable = errors.New("xmppadmin: server unavailable")
)

// Directory is the account directory of one XMPP domain. User names are
// localparts ("alice", not "alice@example.com"). Implementations are safe for
// concurrent use.
type Directory interface {
	// Register creates an account, or returns ErrUserExists.
	Register(ctx context.Context, user, password string) error
	// Unregister removes an account and all its data, or returns
	// ErrUserNotFound.
	Unregister(ctx context.Context, user string) error
	// Exists reports whether the account exists.
	Exists(ctx context.Context, user string) (bool, error)
	// IssueToken issues an OAuth token that logs the user in with SASL
	// X-OAUTH2 until ttl has passed, or returns ErrUserNotFound.
	IssueToken(ctx context.Context, user string, ttl time.Duration) (string, error)
	// ChangePassword sets a new password, or returns ErrUserNotFound.
	ChangePassword(ctx context.Context, user, password string) error
	// Users lists the accounts of the domain.
	Users(ctx context.Context) ([]string, error)
	// Status returns nil when the server is running, ErrUnavailable
	// otherwise.
	Status(ctx context.Context) error
}

// GroupDirectory is implemented by directories that also manage shared
// roster groups: groups whose members see each other in their rosters.
type GroupDirectory interface {
	Directory
	// CreateGroup creates (or updates) the group id. display lists the
	// groups whose members are shown to this group's members; nil means the
	// group itself.
	CreateGroup(ctx context.Context, id, label, description string, display []string) error
	// DeleteGroup removes the group id.
	DeleteGroup(ctx context.Context, id string) error
	// Groups lists the group ids of the domain.
	Groups(ctx context.Context) ([]string, error)
	// GroupMembers lists the bare JIDs of the group's members.
	GroupMembers(ctx context.Context, id string) ([]string, error)
	// AddGroupMember adds the user to the group.
	AddGroupMember(ctx context.Context, id, user string) error
	// RemoveGroupMember removes the user from the group.
	RemoveGroupMember(ctx context.Context, id, user string) error
}

// Lockouts is implemented by directories that can lock a user out of the
// XMPP server (no login, open sessions ended, by the server's own rules)
// and let them back in.
type Lockouts interface {
	// LockOut locks the user out, or returns ErrUserNotFound.
	LockOut(ctx context.Context, user string) error
	// Unlock lets a locked-out user log in again.
	Unlock(ctx context.Context, user string) error
}

// RosterEntry is one contact in a user's roster, as an administrator
// sees it. Subscription is "none", "to", "from" or "both".
type RosterEntry struct {
	JID          string
	Nickname     string
	Subscription string
	Groups       []string
}

// RosterReader is implemented by directories that read a user's roster
// as an administrator (without the user's XMPP session).
type RosterReader interface {
	// RosterEntries lists the user's roster as the user's own client
	// would get it: the contacts the user added or accepted, and those a
	// shared roster group gives; a contact request to the user puts no
	// entry there. user is the local part.
	RosterEntries(ctx context.Context, user string) ([]RosterEntry, error)
}

// Rosters is implemented by directories that manage users' rosters as an
// administrator (without the user's XMPP session).
type Rosters interface {
	RosterReader
	// SetRosterEntry adds the entry to the user's roster, or updates the
	// entry of the same JID.
	SetRosterEntry(ctx context.Context, user string, e RosterEntry) error
	// RemoveRosterEntry removes the contact jid from the user's roster.
	RemoveRosterEntry(ctx context.Context, user, jid string) error
}

// IssuesTokens reports whether d can issue X-OAUTH2 login tokens
// (IssueToken). A directory that never can says so with a method
// IssuesTokens() bool; any other is taken to.
func IssuesTokens(d Directory) bool {
	if n, ok := d.(interface{ IssuesTokens() bool }); ok {
		return n.IssuesTokens()
	}
	return true
}
