package main

import (
	"context"
	"time"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/store"
)

// messagingSettings are the settings of the messaging area (config.Messaging).
type messagingSettings struct {
	Timeout     time.Duration
	KeywordScan int
}

// messagingOptions are the messaging area's settings; each sets a field of
// config.Messaging.
var messagingOptions = []option{
	{name: "xmpp-request-timeout", def: "15s", usage: "time limit of the XMPP round trips of one group chat, roster, presence or archive request (504 past it)",
		set: duration(func(c *config) *time.Duration { return &c.Messaging.Timeout })},
	{name: "archive-keyword-scan", def: "10000", usage: "archived messages one keyword search reads at most (the gateway matches keywords itself)",
		set: integer(func(c *config) *int { return &c.Messaging.KeywordScan })},
}

// wireMessaging fills gc.Messaging from the settings, building what the gateway
// needs on top of the store and the keys.
func wireMessaging(ctx context.Context, c *config, st *store.SQLite, keys *auth.Keys, gc *gateway.Config) error {
	gc.Messaging.Timeout = c.Messaging.Timeout
	gc.Messaging.KeywordScan = c.Messaging.KeywordScan
	gc.Messaging.Unread = st   // unread counts and last read ids (issue 19)
	gc.Messaging.Requests = st // contact requests waiting for an answer (issue 25)
	gc.Messaging.Mutes = st    // muted conversations, whose messages push nothing
	return nil
}
