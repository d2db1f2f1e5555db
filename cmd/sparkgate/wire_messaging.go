package main

import (
	"context"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/store"
)

// messagingSettings are the settings of the messaging area (config.Messaging).
type messagingSettings struct{}

// messagingOptions are the messaging area's settings; each sets a field of
// config.Messaging.
var messagingOptions = []option{}

// wireMessaging fills gc.Messaging from the settings, building what the gateway
// needs on top of the store and the keys.
func wireMessaging(ctx context.Context, c *config, st *store.SQLite, keys *auth.Keys, gc *gateway.Config) error {
	return nil
}
