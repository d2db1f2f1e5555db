// Package webpush sends Web Push notifications (RFC 8030, RFC 8291, RFC 8292)
// to the browsers of users who have no open event stream.
package webpush
