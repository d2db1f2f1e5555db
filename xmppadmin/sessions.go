package xmppadmin

import (
	"context"
	"strings"
	"time"
)

// ServerSession is one client (c2s) session the XMPP server holds, as its
// admin API reports it. Fields the API does not give are zero.
type ServerSession struct {
	// JID is the session's full JID (user@domain/resource).
	JID string
	// IP is the client's address as the server sees it.
	IP string
	// Node is the server node (a cluster member) holding the session.
	Node string
	// Priority is the session's presence priority.
	Priority int
	// Status is its presence ("available", "away", "dnd", ...).
	Status string
	// Since is when the session started; zero when unknown.
	Since time.Time
}

// Sessions is implemented by directories that see and end the XMPP
// server's client sessions (an operator's view of who is online).
type Sessions interface {
	// ServerSessions lists the client sessions of the domain.
	ServerSessions(ctx context.Context) ([]ServerSession, error)
	// Kick ends every client session of user and reports how many there
	// were (-1 when the server does not say). The user may log in again:
	// Kick is not a lockout.
	Kick(ctx context.Context, user string) (int, error)
}

// Broadcast is a message from the server to every online user.
type Broadcast struct {
	// From is the sender's JID; empty means the domain itself.
	From string
	// Type is the XMPP message type: "headline" (a notice, not part of a
	// conversation) or "chat".
	Type string
	// Subject is optional.
	Subject string
	// Body is the text.
	Body string
}

// Broadcaster is implemented by directories that send a message from the
// server to every user online at the time (a maintenance notice).
type Broadcaster interface {
	// Broadcast sends m and reports to how many users (-1 when the
	// server does not say).
	Broadcast(ctx context.Context, m Broadcast) (int, error)
}

// inDomain reports whether the full or bare JID j is of domain (a server
// with several virtual hosts lists the sessions of all of them).
func inDomain(j, domain string) bool {
	bare, _, _ := strings.Cut(j, "/")
	_, host, ok := strings.Cut(bare, "@")
	return ok && strings.EqualFold(host, domain)
}
