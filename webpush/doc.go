// Package webpush sends Web Push notifications (RFC 8030) to the browsers
// of users who have no open event stream: payloads are encrypted for each
// subscription (RFC 8291, aes128gcm) and signed for the push service with
// the gateway's VAPID key (RFC 8292).
//
// LoadOrCreateVAPID keeps the one VAPID key pair of the gateway in its data
// directory. ParseSubscription checks a browser's PushSubscription JSON
// before it is stored in a Store. A Sender delivers notifications to every
// subscription of a user.
//
// # Concurrency
//
// A Sender owns a bounded queue and a fixed number of worker goroutines.
// Send never blocks: it queues the notification or fails at once with
// ErrQueueFull or ErrClosed, so it may be called from an XMPP read loop.
// Notifications for the same user and topic that are still waiting are
// collapsed into the latest one. Close stops the workers and returns when
// they have exited; what was still queued is dropped.
package webpush
