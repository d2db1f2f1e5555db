package main

import (
	"context"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/store"
)

// pushSettings are the settings of the push area (config.Push).
type pushSettings struct{}

// pushOptions are the push area's settings; each sets a field of
// config.Push.
var pushOptions = []option{}

// wirePush fills gc.Push from the settings, building what the gateway
// needs on top of the store and the keys.
func wirePush(ctx context.Context, c *config, st *store.SQLite, keys *auth.Keys, gc *gateway.Config) error {
	return nil
}
