// Package rooms is what the gateway keeps of the group chats (XEP-0045)
// a user is in, so that they outlive the user's XMPP session and the
// gateway's process: the room, the nick, the room password and how far
// the user has read (the room archive's id of the last message seen).
// The gateway writes an entry on join, updates its position as the
// user's session reads (coalesced, about once a second) and when the
// session ends,
// removes it on leave (or when the room made the user leave), and rejoins
// the rooms when the user's session opens again, catching up from the
// room's archive after LastID. The store implements Store.
package rooms

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned for a user and room with no entry.
var ErrNotFound = errors.New("rooms: not found")

// Joined is one room a user is in.
type Joined struct {
	User     string // bare JID
	Room     string // the room's bare JID
	Nick     string
	Password string // the room's password, needed to enter it again; "" for none
	// LastID is the room archive's id (XEP-0359 stanza-id by the room) of
	// the last message the user's session delivered; "" when unknown.
	LastID string
	// LastSeen is when the session last heard from the room; the catch-up
	// reads the archive since then when LastID is unknown.
	LastSeen time.Time
}

// Store keeps the rooms users are in. Implementations are safe for
// concurrent use.
type Store interface {
	// PutJoined stores j, replacing the user's entry for the room.
	PutJoined(ctx context.Context, j Joined) error
	// SetPositions records how far each user has read in a room they are
	// in (Joined.LastID and LastSeen; User and Room name the entry, Nick
	// and Password are not used), all in one write; a room with no entry
	// (the user left it) is left without one, and that is not an error.
	SetPositions(ctx context.Context, positions []Joined) error
	// DeleteJoined removes the user's entry for the room; none is not an
	// error.
	DeleteJoined(ctx context.Context, user, room string) error
	// Joined lists the rooms the user is in, by room.
	Joined(ctx context.Context, user string) ([]Joined, error)
}
