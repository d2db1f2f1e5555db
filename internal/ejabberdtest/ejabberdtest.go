// Package ejabberdtest is the harness of the integration tests: one private
// ejabberd per test binary, and users with random names, one set per test.
//
// A package with integration tests calls Main from its TestMain:
//
//	func TestMain(m *testing.M) { ejabberdtest.Main(m) }
//
// and its tests take what they need:
//
//	func TestIntegrationSend(t *testing.T) {
//		s := ejabberdtest.Shared(t)          // the server; skips under -short
//		alice := ejabberdtest.NewUser(t)     // registered now, removed at cleanup
//		...
//	}
//
// Tests isolate themselves by data (their own users), not by server, so they
// may run in parallel; a test that stops, kills or restarts the shared server
// must not (or should take a server of its own from Start).
//
// Skip policy: without ejabberd installed, the test binary fails with a
// message naming the install step (scripts/install-deps.sh ejabberd). Only
// `go test -short` skips integration tests, explicitly, and only when
// SPARKGATE_REQUIRE_INTEGRATION=1 (which `make test` sets) is absent.
//
// When tests fail, Main prints the tail of ejabberd's log;
// SPARKGATE_EJABBERD_LOGLEVEL=info (or debug) makes it say more.
package ejabberdtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/internal/ejabberd"
	"github.com/sparkgate/sparkgate/xmppadmin"
)

// RequireEnv is the environment variable that makes integration tests
// mandatory even under -short; `make test` sets it to 1.
const RequireEnv = "SPARKGATE_REQUIRE_INTEGRATION"

// LogLevelEnv names an environment variable that sets ejabberd's loglevel
// for the servers of the harness (e.g. "info" or "debug" when debugging a
// test); unset means "warning".
const LogLevelEnv = "SPARKGATE_EJABBERD_LOGLEVEL"

// startTimeout bounds the start of a server, generously: test binaries of
// several packages start their servers at once on a small machine.
const startTimeout = 90 * time.Second

var (
	mainCalled bool
	shared     *ejabberd.Server
	readyIn    time.Duration // how long the shared server took from Start to ready

	// httpClient is used by every admin client of the harness.
	httpClient = &http.Client{Timeout: 30 * time.Second}
)

// Main runs the tests of a package against one shared ejabberd: it starts
// the server in a new temporary directory, runs the tests, prints the tail of
// ejabberd's log if any failed, stops the server, removes the directory and
// exits with the tests' code. An interrupt (Ctrl-C, SIGTERM) stops the server
// before the binary exits: the server runs in its own session and would
// otherwise outlive the test binary.
//
// m is a *testing.M, or another harness's wrapper of one (pgtest.Wrap).
func Main(m interface{ Run() int }) {
	os.Exit(run(m))
}

func run(m interface{ Run() int }) int {
	flag.Parse()
	mainCalled = true
	if testing.Short() && os.Getenv(RequireEnv) != "1" {
		return m.Run() // Shared skips every integration test
	}

	dir, err := os.MkdirTemp("", "sparkgate-ejabberd-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "ejabberdtest:", err)
		return 1
	}
	defer os.RemoveAll(dir)

	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	began := time.Now()
	s, err := ejabberd.Start(ctx, config(dir))
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "ejabberdtest: integration tests need ejabberd 23.01 "+
			"(install it with `scripts/install-deps.sh ejabberd`, or skip them with `go test -short`): %v\n", err)
		return 1
	}
	readyIn = time.Since(began)
	shared = s
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "ejabberdtest: ejabberd %s ready in %v (c2s %s, api %s)\n",
			s.Version(), readyIn.Round(time.Millisecond), s.C2SAddr(), s.AdminURL())
	}

	stopOnSignal := make(chan os.Signal, 1)
	signal.Notify(stopOnSignal, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case sig := <-stopOnSignal:
			fmt.Fprintf(os.Stderr, "ejabberdtest: %v: stopping ejabberd\n", sig)
			s.Close()
			os.RemoveAll(dir)
			os.Exit(2)
		case <-done:
		}
	})

	code := m.Run()

	signal.Stop(stopOnSignal)
	close(done)
	wg.Wait()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "ejabberdtest: tests failed; ejabberd log tail (%s):\n%s\n", dir, s.LogTail(80))
	}
	if err := s.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "ejabberdtest:", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// config is the configuration of every server of the harness.
func config(dir string) ejabberd.Config {
	return ejabberd.Config{Dir: dir, LogLevel: os.Getenv(LogLevelEnv), Logger: quietLogger()}
}

// quietLogger passes only the runner's warnings and errors to stderr.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// Shared returns the server Main started for this test binary. It skips the
// test under -short (unless SPARKGATE_REQUIRE_INTEGRATION=1) and fails it
// when the package's TestMain does not call Main.
func Shared(t testing.TB) *ejabberd.Server {
	t.Helper()
	if shared != nil {
		return shared
	}
	if !mainCalled {
		t.Fatal("ejabberdtest: Shared needs `func TestMain(m *testing.M) { ejabberdtest.Main(m) }` in the package")
	}
	t.Skip("integration test: needs ejabberd; skipped under -short")
	return nil
}

// Start starts a server of the test's own, in a directory of t.TempDir, and
// stops it at cleanup (printing its log tail if the test failed). It is for
// tests that stop, kill or restart a server; others use Shared. It follows
// the skip policy of Shared.
func Start(t testing.TB) *ejabberd.Server {
	t.Helper()
	if testing.Short() && os.Getenv(RequireEnv) != "1" {
		t.Skip("integration test: needs ejabberd; skipped under -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	s, err := ejabberd.Start(ctx, config(t.TempDir()))
	if err != nil {
		t.Fatalf("ejabberdtest: start ejabberd (install it with `scripts/install-deps.sh ejabberd`): %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("ejabberd log tail:\n%s", s.LogTail(60))
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// User is an account registered for one test.
type User struct {
	Name     string // the localpart, e.g. "u3f9a0c1d2e4b5a6c"
	Password string
	JID      string // the bare JID, Name@Domain
	Domain   string
}

// NewUser registers a user with a random name and password on the shared
// server and unregisters it when the test ends.
func NewUser(t testing.TB) User {
	t.Helper()
	return NewUserOn(t, Shared(t))
}

// NewUserOn is NewUser on a given server, e.g. one from Start.
func NewUserOn(t testing.TB, s *ejabberd.Server) User {
	t.Helper()
	return NewUserNamed(t, s, "u"+randomHex(8))
}

// NewUserNamed is NewUserOn with a chosen name (in canonical form: the
// tests of username spellings need letters other than hex digits).
func NewUserNamed(t testing.TB, s *ejabberd.Server, name string) User {
	t.Helper()
	u := User{Name: name, Password: randomHex(12), Domain: s.Domain()}
	u.JID = u.Name + "@" + u.Domain
	admin := AdminFor(s)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := admin.Register(ctx, u.Name, u.Password); err != nil {
		t.Fatalf("ejabberdtest: register %s: %v", u.Name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := admin.Unregister(ctx, u.Name)
		switch {
		case err == nil, errors.Is(err, xmppadmin.ErrUserNotFound):
		case errors.Is(err, xmppadmin.ErrUnavailable):
			// The test left the server stopped; its data goes with it.
			t.Logf("ejabberdtest: unregister %s: %v", u.Name, err)
		default:
			t.Errorf("ejabberdtest: unregister %s: %v", u.Name, err)
		}
	})
	return u
}

// Admin returns an admin API client for the shared server's domain.
func Admin(t testing.TB) *xmppadmin.Ejabberd {
	t.Helper()
	return AdminFor(Shared(t))
}

// AdminFor returns an admin API client for a server's domain.
func AdminFor(s *ejabberd.Server) *xmppadmin.Ejabberd {
	return &xmppadmin.Ejabberd{BaseURL: s.AdminURL(), Domain: s.Domain(), HTTP: httpClient}
}

// randomHex returns 2n lowercase hex digits from crypto/rand: valid in any
// XMPP localpart and in any password rule.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return strings.ToLower(hex.EncodeToString(b))
}
