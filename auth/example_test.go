package auth_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/store"
)

// Example wires auth the way cmd/sparkgate does: keys and a store from the
// data directory, then tokens on top; logout revokes the token.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "sparkgate-example")
	defer os.RemoveAll(dir)

	keys, err := auth.LoadOrCreateKeys(filepath.Join(dir, "keys"))
	if err != nil {
		panic(err)
	}
	st, err := store.Open(ctx, filepath.Join(dir, "sparkgate.db"))
	if err != nil {
		panic(err)
	}
	defer st.Close()
	tokens, err := auth.NewTokens(auth.TokensConfig{
		Keys:     keys,
		Store:    st,
		Audience: "example.org",
		Issuer:   "https://chat.example.org",
	})
	if err != nil {
		panic(err)
	}

	token, _, _ := tokens.Issue(ctx, "alice@example.org", auth.MethodPassword)
	raw, _ := auth.ParseAuthorization("Bearer " + token)
	claims, err := tokens.Verify(ctx, raw)
	fmt.Println(claims.Subject, claims.Method, err)

	_ = tokens.Revoke(ctx, claims) // logout
	_, err = tokens.Verify(ctx, raw)
	fmt.Println(errors.Is(err, auth.ErrRevoked), errors.Is(err, auth.ErrInvalidToken))
	// Output:
	// alice@example.org pwd <nil>
	// true true
}
