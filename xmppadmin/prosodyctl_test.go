package xmppadmin_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sparkgate/sparkgate/internal/prosodytest"
	"github.com/sparkgate/sparkgate/xmppadmin"
	"github.com/sparkgate/sparkgate/xmppconn"
)

func TestProsodyStoreName(t *testing.T) {
	for in, want := range map[string]string{
		"alice":              "alice",
		"u3f9A0":             "u3f9A0",
		"conference.example": "conference%2eexample",
		"a b/c":              "a%20b%2fc",
		"é":                  "%c3%a9",
		"":                   "",
	} {
		if got := xmppadmin.ProsodyStoreName(in); got != want {
			t.Errorf("ProsodyStoreName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestProsodyctlRefusesBeforeRunning: names that would read as another JID
// or an option, and passwords that would end prosodyctl's prompt early, are
// refused without running anything (Bin names a command that does not
// exist, so a run would answer ErrUnavailable instead).
func TestProsodyctlRefusesBeforeRunning(t *testing.T) {
	p := &xmppadmin.Prosodyctl{Config: "/nonexistent/prosody.cfg.lua", DataDir: t.TempDir(), Domain: "localhost", Bin: "/nonexistent/prosodyctl"}
	ctx := t.Context()
	for _, user := range []string{"", "-h", "a@b", "a/b", "a b", "a\x00b", "a\nb", `a"b`} {
		if err := p.Register(ctx, user, "password1"); !errors.Is(err, xmppadmin.ErrInvalidUser) {
			t.Errorf("Register(%q): %v, want ErrInvalidUser", user, err)
		}
		if ok, err := p.Exists(ctx, user); ok || err != nil {
			t.Errorf("Exists(%q): %v, %v", user, ok, err)
		}
	}
	for _, pw := range []string{"pass\nword", "password\r"} {
		if err := p.Register(ctx, "alice", pw); !errors.Is(err, xmppadmin.ErrInvalidPassword) {
			t.Errorf("Register with %q: %v, want ErrInvalidPassword", pw, err)
		}
	}
	if err := p.Register(ctx, "alice", "password1"); !errors.Is(err, xmppadmin.ErrUnavailable) {
		t.Errorf("Register with no prosodyctl: %v, want ErrUnavailable", err)
	}
	if users, err := p.Users(ctx); err != nil || len(users) != 0 {
		t.Errorf("Users of an empty store: %q, %v", users, err)
	}
	if _, err := p.IssueToken(ctx, "alice", 0); !errors.Is(err, xmppadmin.ErrUnsupported) || xmppadmin.IssuesTokens(p) {
		t.Errorf("IssueToken: %v; IssuesTokens %v", err, xmppadmin.IssuesTokens(p))
	}
}

// TestIntegrationProsodyctl: the Prosody backend against a real Prosody:
// register (twice: ErrUserExists), a login with the password, a password
// change that the next login needs, the account list, removal (twice:
// ErrUserNotFound), and the server's status before and after it stops.
func TestIntegrationProsodyctl(t *testing.T) {
	t.Parallel()
	srv := prosodytest.Start(t)
	p := &xmppadmin.Prosodyctl{Config: srv.ConfigFile(), DataDir: srv.DataDir(), Domain: srv.Domain()}
	ctx := t.Context()
	login := func(user, password string) error {
		c, err := xmppconn.Dial(ctx, xmppconn.Config{Addr: srv.C2SAddr(), Domain: srv.Domain(), User: user, Password: password, TLS: xmppconn.TLSOff})
		if err == nil {
			c.Close(context.Background())
		}
		return err
	}

	if err := p.Status(ctx); err != nil {
		t.Fatalf("status of a running server: %v", err)
	}
	if err := p.Register(ctx, "carol", "first-password"); err != nil {
		t.Fatalf("register: %v", err)
	}
	if err := p.Register(ctx, "carol", "other-password"); !errors.Is(err, xmppadmin.ErrUserExists) {
		t.Fatalf("register twice: %v, want ErrUserExists", err)
	}
	if ok, err := p.Exists(ctx, "carol"); !ok || err != nil {
		t.Fatalf("Exists: %v, %v", ok, err)
	}
	if err := login("carol", "first-password"); err != nil {
		t.Fatalf("login with the registered password: %v", err)
	}
	if err := p.ChangePassword(ctx, "carol", "second-password"); err != nil {
		t.Fatalf("change password: %v", err)
	}
	if err := login("carol", "first-password"); !errors.Is(err, xmppconn.ErrNotAuthorized) {
		t.Fatalf("login with the old password: %v, want ErrNotAuthorized", err)
	}
	if err := login("carol", "second-password"); err != nil {
		t.Fatalf("login with the new password: %v", err)
	}
	if err := p.ChangePassword(ctx, "nobody", "x-password"); !errors.Is(err, xmppadmin.ErrUserNotFound) {
		t.Fatalf("change the password of nobody: %v, want ErrUserNotFound", err)
	}
	if err := p.Register(ctx, "dave.smith", "dave-password"); err != nil {
		t.Fatalf("register a name with a dot: %v", err)
	}
	users, err := p.Users(ctx)
	if err != nil || !slices.Equal(users, []string{"carol", "dave.smith"}) {
		t.Fatalf("Users: %q, %v", users, err)
	}
	if err := p.Unregister(ctx, "carol"); err != nil {
		t.Fatalf("unregister: %v", err)
	}
	if err := p.Unregister(ctx, "carol"); !errors.Is(err, xmppadmin.ErrUserNotFound) {
		t.Fatalf("unregister twice: %v, want ErrUserNotFound", err)
	}
	if err := login("carol", "second-password"); !errors.Is(err, xmppconn.ErrNotAuthorized) {
		t.Fatalf("login after removal: %v, want ErrNotAuthorized", err)
	}

	srv.Close()
	if err := p.Status(ctx); !errors.Is(err, xmppadmin.ErrUnavailable) {
		t.Fatalf("status of a stopped server: %v, want ErrUnavailable", err)
	}
	// A missing configuration is the tool failing, not a missing user.
	broken := &xmppadmin.Prosodyctl{Config: filepath.Join(t.TempDir(), "none.cfg.lua"), DataDir: srv.DataDir(), Domain: srv.Domain()}
	if err := broken.Register(ctx, "erin", "erin-password"); err == nil || errors.Is(err, xmppadmin.ErrUserExists) {
		t.Fatalf("register with a missing configuration: %v", err)
	}
}
