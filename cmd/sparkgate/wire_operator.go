package main

import (
	"context"
	"errors"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/store"
)

// operatorSettings are the settings of the operator API (config.Operator).
// The token comes from a file only, never from a flag or the environment,
// where other users of the machine could read it.
type operatorSettings struct {
	TokenFile string
	Admins    string
}

// operatorOptions are the operator API's settings; with neither set the
// operator API is off (every operation 401).
var operatorOptions = []option{
	{name: "operator-token-file", def: "", usage: "file holding the operator token (at least 16 characters, trailing newline ignored) that the operator API (/sparkweb/api/operator: sessions, kick, broadcast, lockouts) takes as Authorization: Bearer; with neither this nor operator-admins the operator API is off (401)",
		set: str(func(c *config) *string { return &c.Operator.TokenFile })},
	{name: "operator-admins", def: "", usage: "comma-separated bare JIDs (or usernames) whose own login token may use the operator API",
		set: str(func(c *config) *string { return &c.Operator.Admins })},
}

// wireOperator fills gc.Operator: the token read from its file, the
// admins, and the store for the lockouts (shared by every node on
// PostgreSQL).
func wireOperator(_ context.Context, c *config, st *store.SQLite, _ *auth.Keys, gc *gateway.Config) error {
	s := c.Operator
	if s.TokenFile != "" {
		tok, err := secretSetting("operator-token", "", s.TokenFile)
		if err != nil {
			return err
		}
		if len(tok) < 16 {
			return errors.New("operator-token-file: the token must be at least 16 characters")
		}
		gc.Operator.Token = string(tok)
	}
	gc.Operator.Admins = splitList(s.Admins)
	if st != nil {
		gc.Operator.Lockouts = st
	}
	return nil
}
