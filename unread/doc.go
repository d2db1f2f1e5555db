// Package unread keeps what each user has not read yet, per conversation
// (a contact's bare JID or a room's), so that every tab and device of the
// user sees the same counts: a message from someone else adds one, a read
// anywhere (a displayed marker the user sends through the gateway or from
// another XMPP client, which reaches the gateway through carbons) clears
// the conversation and remembers the id read up to.
//
// The counts live in a Store (package store keeps them in its database,
// so they survive a restart); a Tracker applies the changes in order on
// one goroutine and tells OnChange the new state of each conversation it
// changed.
//
// Arrivals queued together are stored together (batch.go): a room
// message is one arrival per member, and one statement for them all costs
// a tenth of one each. OnChange hears each conversation's state after a
// batch.
//
// # Concurrency
//
// A Tracker's methods are safe for concurrent use. Arrived never blocks
// (it is called from a session's read loop): when its bounded queue is
// full the message is not counted and a warning is logged. Read waits
// until its change is stored, so a GET that follows it sees it. Close
// stops the goroutine after the queued changes are applied.
package unread
