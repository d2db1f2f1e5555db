package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/internal/pgtest"
	"github.com/sparkgate/sparkgate/store"
	"github.com/sparkgate/sparkgate/webpush"
)

func TestWirePush(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(t.Context(), filepath.Join(dir, "sparkgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	t.Run("off", func(t *testing.T) {
		var gc gateway.Config
		if err := wirePush(t.Context(), &config{DataDir: dir}, st, nil, &gc); err != nil {
			t.Fatal(err)
		}
		if gc.Push.Sender != nil {
			t.Error("a sender although push is off")
		}
	})

	t.Run("on", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		var gc gateway.Config
		c := &config{DataDir: dir, XMPPDomain: "example.org", Push: pushSettings{
			Enabled: true, Subject: "mailto:ops@example.org", InsecureHosts: "127.0.0.1, ,localhost:8443", Admins: "boss@example.org",
			TTL: time.Hour, ActionTTL: time.Minute, Queue: 8, Workers: 1,
		}}
		if err := wirePush(ctx, c, st, nil, &gc); err != nil {
			t.Fatal(err)
		}
		p := gc.Push
		if p.Sender == nil || p.Store == nil || p.TTL != time.Hour || p.ActionTTL != time.Minute {
			t.Fatalf("push config %+v", p)
		}
		if len(p.InsecureHosts) != 2 || p.InsecureHosts[1] != "localhost:8443" || len(p.Admins) != 1 {
			t.Errorf("lists %q %q", p.InsecureHosts, p.Admins)
		}
		fi, err := os.Stat(filepath.Join(dir, "vapid.json"))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("vapid key file: %v %v", fi, err)
		}
		key, _ := gc.Users.Global.VAPIDPublicKey(ctx)
		if key != p.Sender.PublicKey() || len(key) != 87 {
			t.Errorf("global config key %q, sender key %q", key, p.Sender.PublicKey())
		}
		if len(gc.Users.OnDelete) != 1 {
			t.Errorf("%d account deletion hooks, want 1", len(gc.Users.OnDelete))
		}
		if p.Attempts != nil {
			t.Error("one gateway on SQLite keeps its push budgets in the store; want them in memory")
		}
		// run closes the sender after the gateway; then nothing more goes out.
		p.Sender.Close()
		if err := p.Sender.Send("u@example.org", webpush.Notification{Payload: []byte("x")}); !errors.Is(err, webpush.ErrClosed) {
			t.Fatalf("Send after Close = %v, want ErrClosed", err)
		}
	})

	t.Run("postgres-shares-budgets", func(t *testing.T) {
		pg, err := store.OpenPostgres(t.Context(), pgtest.DSN(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pg.Close() })
		var gc gateway.Config
		c := &config{DataDir: t.TempDir(), XMPPDomain: "example.org", Push: pushSettings{Enabled: true}}
		if err := wirePush(t.Context(), c, pg, nil, &gc); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { gc.Push.Sender.Close() })
		if gc.Push.Attempts != pg {
			t.Error("gateways sharing PostgreSQL do not share their users' push budgets")
		}
	})

	t.Run("same-key-on-restart", func(t *testing.T) {
		var gc1, gc2 gateway.Config
		c := &config{DataDir: dir, XMPPDomain: "example.org", Push: pushSettings{Enabled: true}}
		if err := wirePush(t.Context(), c, st, nil, &gc1); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { gc1.Push.Sender.Close() })
		if err := wirePush(t.Context(), c, st, nil, &gc2); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { gc2.Push.Sender.Close() })
		if gc1.Push.Sender.PublicKey() != gc2.Push.Sender.PublicKey() {
			t.Error("a new VAPID key on restart")
		}
	})
}
