package main

import (
	"context"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/store"
)

// collabSettings are the settings of the collab area (config.Collab).
type collabSettings struct{}

// collabOptions are the collab area's settings; each sets a field of
// config.Collab.
var collabOptions = []option{}

// wireCollab fills gc.Collab from the settings, building what the gateway
// needs on top of the store and the keys.
func wireCollab(ctx context.Context, c *config, st *store.SQLite, keys *auth.Keys, gc *gateway.Config) error {
	return nil
}
