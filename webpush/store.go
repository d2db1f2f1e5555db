package webpush

import "context"

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
	// PushSubscribers returns the users that have at least one
	// subscription, sorted.
	PushSubscribers(ctx context.Context) ([]string, error)
}
