package main

import (
	"context"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/store"
)

// usersSettings are the settings of the users area (config.Users).
type usersSettings struct{}

// usersOptions are the users area's settings; each sets a field of
// config.Users.
var usersOptions = []option{}

// wireUsers fills gc.Users from the settings, building what the gateway
// needs on top of the store and the keys.
func wireUsers(ctx context.Context, c *config, st *store.SQLite, keys *auth.Keys, gc *gateway.Config) error {
	return nil
}
