package auth_test

import (
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/store"
)

// TestConsume: of concurrent Consume calls for one ticket on two Tokens
// sharing a store (two gateways), exactly one succeeds; the others get
// ErrRevoked, and so does a later call.
func TestConsume(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "sparkgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	keys, err := auth.LoadOrCreateKeys(filepath.Join(dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	var nodes [2]*auth.Tokens
	for i := range nodes {
		if nodes[i], err = auth.NewTokens(auth.TokensConfig{Keys: keys, Store: st, Audience: "a", Issuer: "i"}); err != nil {
			t.Fatal(err)
		}
	}
	_, cl, err := nodes[0].IssuePurpose(ctx, "alice@example.org", "mfa-totp", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var won atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			err := nodes[i%2].Consume(ctx, cl)
			switch {
			case err == nil:
				won.Add(1)
			case !errors.Is(err, auth.ErrRevoked):
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := won.Load(); n != 1 {
		t.Fatalf("%d of 8 concurrent Consume calls succeeded, want 1", n)
	}
	if err := nodes[1].Consume(ctx, cl); !errors.Is(err, auth.ErrRevoked) {
		t.Fatalf("a later Consume: %v, want ErrRevoked", err)
	}
}
