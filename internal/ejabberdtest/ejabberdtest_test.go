package ejabberdtest_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver, to read ejabberd's database

	"github.com/sparkgate/sparkgate/internal/ejabberd"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/xmppadmin"
)

func TestMain(m *testing.M) { ejabberdtest.Main(m) }

// stream is a bare client stream over TCP, enough to check what the server
// offers and that logins work, without any XMPP library.
type stream struct {
	t    *testing.T
	conn net.Conn
	buf  []byte
}

func dial(t *testing.T, s *ejabberd.Server) *stream {
	t.Helper()
	conn, err := net.DialTimeout("tcp", s.C2SAddr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	return &stream{t: t, conn: conn}
}

func (c *stream) send(format string, args ...any) {
	c.t.Helper()
	if _, err := fmt.Fprintf(c.conn, format, args...); err != nil {
		c.t.Fatal(err)
	}
}

// until reads until marker arrives and returns everything read up to and
// including it.
func (c *stream) until(marker string) string {
	c.t.Helper()
	tmp := make([]byte, 4096)
	for {
		if i := bytes.Index(c.buf, []byte(marker)); i >= 0 {
			out := string(c.buf[:i+len(marker)])
			c.buf = c.buf[i+len(marker):]
			return out
		}
		n, err := c.conn.Read(tmp)
		c.buf = append(c.buf, tmp[:n]...)
		if err != nil {
			c.t.Fatalf("waiting for %q: %v (got %q)", marker, err, c.buf)
		}
	}
}

func (c *stream) open(domain string) string {
	c.t.Helper()
	c.send("<?xml version='1.0'?><stream:stream to='%s' xmlns='jabber:client' "+
		"xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>", domain)
	return c.until("</stream:features>")
}

// login authenticates with mechanism (PLAIN or X-OAUTH2, both carrying
// "\x00user\x00secret"), restarts the stream and binds a resource. It
// returns the SASL answer.
func (c *stream) login(domain, mechanism, user, secret string) string {
	c.t.Helper()
	c.open(domain)
	c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='%s'>%s</auth>",
		mechanism, base64.StdEncoding.EncodeToString([]byte("\x00"+user+"\x00"+secret)))
	answer := c.until("/>")
	if !strings.Contains(answer, "<success") {
		return answer
	}
	c.open(domain)
	c.send("<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
	c.until("</iq>")
	return answer
}

func TestIntegrationSharedServer(t *testing.T) {
	s := ejabberdtest.Shared(t)
	t.Logf("ejabberd %s: Start to ready in %v; c2s %s, admin API %s",
		s.Version(), ejabberdtest.ReadyIn().Round(time.Millisecond), s.C2SAddr(), s.AdminURL())
	if err := ejabberdtest.Admin(t).Status(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestIntegrationNewUser(t *testing.T) {
	admin := ejabberdtest.Admin(t)
	var u ejabberdtest.User
	t.Run("registers", func(t *testing.T) {
		u = ejabberdtest.NewUser(t)
		if u.JID != u.Name+"@"+u.Domain || u.Domain != ejabberdtest.Shared(t).Domain() {
			t.Errorf("user = %+v", u)
		}
		ok, err := admin.Exists(t.Context(), u.Name)
		if err != nil || !ok {
			t.Fatalf("Exists(%s) = %v, %v; want true", u.Name, ok, err)
		}
		users, err := admin.Users(t.Context())
		if err != nil || !slices.Contains(users, u.Name) {
			t.Errorf("Users() = %v, %v; want it to list %s", users, err, u.Name)
		}
		other := ejabberdtest.NewUser(t)
		if other.Name == u.Name || other.Password == u.Password {
			t.Errorf("two users share a name or password: %+v %+v", u, other)
		}
	})
	ok, err := admin.Exists(t.Context(), u.Name)
	if err != nil || ok {
		t.Errorf("after the subtest: Exists(%s) = %v, %v; want false", u.Name, ok, err)
	}
}

func TestIntegrationStreamFeatures(t *testing.T) {
	s := ejabberdtest.Shared(t)
	features := dial(t, s).open(s.Domain())
	for _, want := range []string{"<mechanism>PLAIN</mechanism>", "<mechanism>X-OAUTH2</mechanism>"} {
		if !strings.Contains(features, want) {
			t.Errorf("stream features lack %s:\n%s", want, features)
		}
	}
	if strings.Contains(features, "starttls") {
		t.Errorf("stream features offer STARTTLS on loopback:\n%s", features)
	}
}

func TestIntegrationLogin(t *testing.T) {
	s := ejabberdtest.Shared(t)
	u := ejabberdtest.NewUser(t)
	t.Run("plain", func(t *testing.T) {
		if got := dial(t, s).login(s.Domain(), "PLAIN", u.Name, u.Password); !strings.Contains(got, "<success") {
			t.Errorf("PLAIN login: %s", got)
		}
	})
	t.Run("plain-wrong-password", func(t *testing.T) {
		if got := dial(t, s).login(s.Domain(), "PLAIN", u.Name, "wrong"); !strings.Contains(got, "not-authorized") {
			t.Errorf("PLAIN login with a wrong password: %s", got)
		}
	})
	t.Run("oauth-token", func(t *testing.T) {
		token, err := ejabberdtest.Admin(t).IssueToken(t.Context(), u.Name, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if token == "" {
			t.Fatal("IssueToken returned an empty token")
		}
		if got := dial(t, s).login(s.Domain(), "X-OAUTH2", u.Name, token); !strings.Contains(got, "<success") {
			t.Errorf("X-OAUTH2 login: %s", got)
		}
	})
	t.Run("changed-password", func(t *testing.T) {
		if err := ejabberdtest.Admin(t).ChangePassword(t.Context(), u.Name, u.Password+"2"); err != nil {
			t.Fatal(err)
		}
		if got := dial(t, s).login(s.Domain(), "PLAIN", u.Name, u.Password+"2"); !strings.Contains(got, "<success") {
			t.Errorf("PLAIN login after ChangePassword: %s", got)
		}
	})
}

func TestIntegrationMAMOnSQL(t *testing.T) {
	s := ejabberdtest.Shared(t)
	alice, bob := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	c := dial(t, s)
	if got := c.login(s.Domain(), "PLAIN", alice.Name, alice.Password); !strings.Contains(got, "<success") {
		t.Fatalf("login: %s", got)
	}
	c.send("<message to='%s' type='chat' id='m1'><body>archived on sql</body></message>", bob.JID)
	// A MAM query answers after the archive write, so the row is there when
	// the fin arrives.
	c.send("<iq type='set' id='q1'><query xmlns='urn:xmpp:mam:2'/></iq>")
	fin := c.until("</iq>")
	if !strings.Contains(fin, "<fin") {
		t.Fatalf("MAM query answer: %s", fin)
	}

	db, err := sql.Open("sqlite", "file:"+filepath.Join(s.Dir(), "ejabberd.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	err = db.QueryRowContext(t.Context(), "SELECT count(*) FROM archive WHERE username = ? AND txt LIKE ?",
		alice.Name, "%archived on sql%").Scan(&n)
	if err != nil {
		t.Fatalf("reading ejabberd's SQLite archive: %v", err)
	}
	if n != 1 {
		t.Errorf("archive rows for %s = %d, want 1", alice.Name, n)
	}
	var mode string
	if err := db.QueryRowContext(t.Context(), "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
}

func TestIntegrationAdminErrors(t *testing.T) {
	admin := ejabberdtest.Admin(t)
	u := ejabberdtest.NewUser(t)
	ctx := t.Context()
	if err := admin.Register(ctx, u.Name, "x"); !errors.Is(err, xmppadmin.ErrUserExists) {
		t.Errorf("Register(existing) = %v, want ErrUserExists", err)
	}
	if err := admin.Register(ctx, "no body", "x"); !errors.Is(err, xmppadmin.ErrInvalidUser) {
		t.Errorf("Register(malformed) = %v, want ErrInvalidUser", err)
	}
	if err := admin.Unregister(ctx, "nobody-"+u.Name); !errors.Is(err, xmppadmin.ErrUserNotFound) {
		t.Errorf("Unregister(missing) = %v, want ErrUserNotFound", err)
	}
	if err := admin.ChangePassword(ctx, "nobody-"+u.Name, "x"); !errors.Is(err, xmppadmin.ErrUserNotFound) {
		t.Errorf("ChangePassword(missing) = %v, want ErrUserNotFound", err)
	}
	if _, err := admin.IssueToken(ctx, "nobody-"+u.Name, time.Hour); !errors.Is(err, xmppadmin.ErrUserNotFound) {
		t.Errorf("IssueToken(missing) = %v, want ErrUserNotFound", err)
	}
}

// TestIntegrationRestartKeepsUsers restarts the shared server, so it must
// not run in parallel with other tests of this package.
func TestIntegrationRestartKeepsUsers(t *testing.T) {
	s := ejabberdtest.Shared(t)
	u := ejabberdtest.NewUser(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	began := time.Now()
	if err := s.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("Restart to ready in %v", time.Since(began).Round(time.Millisecond))
	ok, err := ejabberdtest.Admin(t).Exists(ctx, u.Name)
	if err != nil || !ok {
		t.Fatalf("after Restart: Exists(%s) = %v, %v; want true", u.Name, ok, err)
	}
	if got := dial(t, s).login(s.Domain(), "PLAIN", u.Name, u.Password); !strings.Contains(got, "<success") {
		t.Errorf("login after Restart: %s", got)
	}
}

// TestIntegrationKillAndRestart crashes a server of its own right after a
// user is registered, and checks that it comes back on the same ports with
// the user (committed SQLite writes survive a killed process).
func TestIntegrationKillAndRestart(t *testing.T) {
	s := ejabberdtest.Start(t)
	addr := s.C2SAddr()
	u := ejabberdtest.NewUserOn(t, s)
	if err := s.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := ejabberdtest.AdminFor(s).Status(t.Context()); !errors.Is(err, xmppadmin.ErrUnavailable) {
		t.Errorf("Status of a killed server = %v, want ErrUnavailable", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	if err := s.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if s.C2SAddr() != addr {
		t.Errorf("C2SAddr() = %s after Restart, want %s", s.C2SAddr(), addr)
	}
	if got := dial(t, s).login(s.Domain(), "PLAIN", u.Name, u.Password); !strings.Contains(got, "<success") {
		t.Errorf("login after Kill and Restart: %s", got)
	}
}

func TestIntegrationStopLeavesNoBeam(t *testing.T) {
	s := ejabberdtest.Start(t)
	pid := s.PID()
	if err := s.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
		stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		t.Errorf("beam %d still exists after Stop: %s", pid, stat)
	}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(cmdline, []byte(s.Dir())) {
			t.Errorf("process %s still runs on %s: %q", e.Name(), s.Dir(), cmdline)
		}
	}
}
