package webpush

import (
	"context"
	"time"
)

// Store keeps the push subscriptions, one per user and resource.
// Implementations are safe for concurrent use (store.SQLite is one).
type Store interface {
	// PutPushSubscription stores sub, replacing the user's subscription
	// under the same resource.
	PutPushSubscription(ctx context.Context, sub Subscription) error
	// PushSubscriptions returns the user's subscriptions, oldest first.
	PushSubscriptions(ctx context.Context, user string) ([]Subscription, error)
	// DeletePushSubscription removes the user's subscription under
	// resource, or returns an error matching ErrNotFound.
	DeletePushSubscription(ctx context.Context, user, resource string) error
	// DeletePushEndpoint removes the user's subscriptions with this
	// endpoint (the push service said it is gone); none is not an error.
	DeletePushEndpoint(ctx context.Context, user, endpoint string) error
	// DeleteLoginPushSubscriptions removes the user's subscriptions whose
	// Login is login (not empty) and returns how many; none is not an
	// error.
	DeleteLoginPushSubscriptions(ctx context.Context, user, login string) (int, error)
	// MoveLoginPushSubscriptions gives the user's subscriptions stored by
	// the login from (not empty) to the login to (the caller's new login
	// after a password change); none is not an error.
	MoveLoginPushSubscriptions(ctx context.Context, user, from, to string) error
	// PushSubscribers returns the users that have at least one
	// subscription, sorted.
	PushSubscribers(ctx context.Context) ([]string, error)
}

// PushNode is where a user's XMPP server sends push notifications
// (XEP-0357) when the gateway is its own push app server: the node names
// the user, the secret proves the notification came from the registration
// the user's session made.
type PushNode struct {
	User, Node, Secret string
}

// NodeStore keeps one PushNode per user. Implementations are safe for
// concurrent use (store.SQLite is one).
type NodeStore interface {
	// PushNode returns the user's node, or an error matching ErrNotFound.
	PushNode(ctx context.Context, user string) (PushNode, error)
	// PushNodeByNode returns the node's owner, or an error matching
	// ErrNotFound.
	PushNodeByNode(ctx context.Context, node string) (PushNode, error)
	// AddPushNode stores n unless the user has a node already, and returns
	// the user's node either way (two first subscriptions at once agree).
	AddPushNode(ctx context.Context, n PushNode) (PushNode, error)
	// DeletePushNode removes the user's node; none is not an error.
	DeletePushNode(ctx context.Context, user string) error
	// PushNodes returns every node, by user.
	PushNodes(ctx context.Context) ([]PushNode, error)
}

// Mute is a muted conversation of a user: its messages push nothing to
// the user's devices until Until, or until unmuted when Until is zero.
type Mute struct {
	Peer  string    // a contact's or a room's bare JID, a room occupant's room/nick, or MuteStrangers
	Until time.Time // zero: until unmuted
}

// MuteStrangers is the Peer of the mute that silences everyone outside
// the user's roster (gateway/strangers.go). It is no JID, so no
// conversation's mute can take its place.
const MuteStrangers = "*"

// MuteStore keeps each user's muted conversations. Implementations are
// safe for concurrent use (store.SQLite is one).
type MuteStore interface {
	// PutMute mutes the user's conversation with peer until until (zero:
	// until unmuted), replacing an earlier mute of it.
	PutMute(ctx context.Context, user, peer string, until time.Time) error
	// DeleteMute unmutes it and reports whether it was muted at now.
	DeleteMute(ctx context.Context, user, peer string, now time.Time) (bool, error)
	// Mutes returns the user's conversations muted at now, by peer.
	Mutes(ctx context.Context, user string, now time.Time) ([]Mute, error)
	// Muted reports whether the user's conversation with peer is muted
	// at now.
	Muted(ctx context.Context, user, peer string, now time.Time) (bool, error)
}

// Room push policies: what a user hears of a room while away.
const (
	RoomPushAll      = "all"
	RoomPushMentions = "mentions" // the default
	RoomPushNone     = "none"
)

// RoomPush is a user's subscription to a room's messages while away: the
// user's nick there and the policy.
type RoomPush struct {
	User, Room, Nick, Policy string
}

// RoomPushStore keeps RoomPush entries, one per user and room.
// Implementations are safe for concurrent use (store.SQLite is one).
type RoomPushStore interface {
	// PutRoomPush stores rp, replacing the user's entry for the room.
	PutRoomPush(ctx context.Context, rp RoomPush) error
	// RoomPush returns the user's entry for the room, or an error
	// matching ErrNotFound.
	RoomPush(ctx context.Context, user, room string) (RoomPush, error)
	// DeleteRoomPush removes it; none is not an error.
	DeleteRoomPush(ctx context.Context, user, room string) error
}
