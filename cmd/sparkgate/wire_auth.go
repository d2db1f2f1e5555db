package main

import (
	"context"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/store"
)

// authSettings are the settings of the auth area (config.Auth).
type authSettings struct{}

// authOptions are the auth area's settings; each sets a field of
// config.Auth.
var authOptions = []option{}

// wireAuth fills gc.Auth from the settings, building what the gateway
// needs on top of the store and the keys.
func wireAuth(ctx context.Context, c *config, st *store.SQLite, keys *auth.Keys, gc *gateway.Config) error {
	return nil
}
