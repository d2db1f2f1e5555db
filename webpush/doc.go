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
//
// # Delivery
//
// A push service's answer decides what happens next (RFC 8030 section 8):
// 2xx is done; 404 and 410 remove the subscription from the Store; 429,
// 5xx and network errors are retried with a doubling backoff (at least the
// Retry-After the service asks for), a bounded number of times; anything
// else is logged and dropped. Every request carries a TTL (DefaultTTL
// unless set), an Urgency and, for notifications with a topic, a Topic
// header derived from it.
//
// # Security
//
// An endpoint is a URL a browser chose, so it is untrusted: subscriptions
// must use https on a public host, and the default HTTP client refuses to
// connect to loopback, private and link-local addresses after DNS
// resolution and follows no redirects. Endpoints, keys and payloads are
// never logged; a Subscription logs as its user, resource and host.
package webpush
