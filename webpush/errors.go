package webpush

import "errors"

var (
	// ErrInvalidSubscription is returned (wrapped, with the reason) by
	// ParseSubscription and CheckSubscription for a subscription that
	// cannot be used.
	ErrInvalidSubscription = errors.New("webpush: invalid subscription")
	// ErrInvalidKey is returned (wrapped) for a VAPID key pair that is
	// malformed or whose halves do not match.
	ErrInvalidKey = errors.New("webpush: invalid vapid key")
	// ErrNotFound is returned (wrapped) by Store.DeletePushSubscription when
	// the user has no subscription under that resource.
	ErrNotFound = errors.New("webpush: subscription not found")
	// ErrTooLarge is returned by Sender.Send for a payload longer than
	// MaxPayload.
	ErrTooLarge = errors.New("webpush: payload too large")
	// ErrQueueFull is returned by Sender.Send when the queue is full; the
	// notification is dropped.
	ErrQueueFull = errors.New("webpush: queue full")
	// ErrForbiddenAddress is the error of a request to an endpoint that
	// resolves to a non-public address (see SenderConfig.AllowPrivate).
	ErrForbiddenAddress = errors.New("webpush: endpoint address is not public")
	// ErrClosed is returned by Sender.Send after Close.
	ErrClosed = errors.New("webpush: sender closed")
	// ErrSkip, from a Notification's Build, drops the notification as no
	// failure: the user does not want it (a muted conversation).
	ErrSkip = errors.New("webpush: not wanted")
)
