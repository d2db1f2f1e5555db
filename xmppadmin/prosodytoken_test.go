package xmppadmin

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestProsodyToken: tokens are minted only with a secret of at least 32
// characters and for an account that exists; each says when it expires
// (the lifetime rounded up to whole seconds, at least one) and carries the
// HMAC-SHA256 of the user's JID and that time under the secret, which is
// what mod_sparkgate_token checks.
func TestProsodyToken(t *testing.T) {
	ctx := context.Background()
	secret := strings.Repeat("s", 32)
	p := &Prosodyctl{DataDir: t.TempDir(), Domain: "example.test", TokenSecret: secret}
	accounts := p.accountsDir()
	if err := os.MkdirAll(accounts, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(accounts, ProsodyStoreName("alice")+".dat"), []byte("return {};"), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		secret string
		issues bool
	}{{"", false}, {strings.Repeat("s", 31), false}, {secret, true}} {
		q := *p
		q.TokenSecret = tc.secret
		if got := IssuesTokens(&q); got != tc.issues {
			t.Errorf("IssuesTokens with a secret of %d: %v", len(tc.secret), got)
		}
		if _, err := q.IssueToken(ctx, "alice", time.Minute); (err == nil) != tc.issues || (!tc.issues && !errors.Is(err, ErrUnsupported)) {
			t.Errorf("IssueToken with a secret of %d: %v", len(tc.secret), err)
		}
	}

	for _, tc := range []struct {
		ttl  time.Duration
		secs int64
	}{{time.Minute, 60}, {1500 * time.Millisecond, 2}, {time.Millisecond, 1}, {0, 1}} {
		before := time.Now().Unix()
		tok, err := p.IssueToken(ctx, "alice", tc.ttl)
		after := time.Now().Unix()
		if err != nil {
			t.Fatalf("IssueToken(%v): %v", tc.ttl, err)
		}
		parts := strings.Split(tok, ".")
		if len(parts) != 3 || parts[0] != "v1" || len(parts[2]) != 64 {
			t.Fatalf("token %q: want v1.<expiry>.<64 hex>", tok)
		}
		exp, err := strconv.ParseInt(parts[1], 10, 64)
		if err != nil || exp < before+tc.secs || exp > after+tc.secs {
			t.Errorf("ttl %v: expiry %q, want %d to %d", tc.ttl, parts[1], before+tc.secs, after+tc.secs)
		}
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte("sparkgate xmpp login\x00alice@example.test\x00" + parts[1]))
		if want := hex.EncodeToString(m.Sum(nil)); parts[2] != want {
			t.Errorf("mac %s, want %s", parts[2], want)
		}
	}
	if _, err := p.IssueToken(ctx, "bob", time.Minute); !errors.Is(err, ErrUserNotFound) {
		t.Errorf("a token for no account: %v, want ErrUserNotFound", err)
	}
	if len(ProsodyTokenModule) == 0 || !strings.Contains(string(ProsodyTokenModule), `registerMechanism("X-OAUTH2"`) {
		t.Error("ProsodyTokenModule does not hold the module")
	}
}
