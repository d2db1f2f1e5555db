// Package natstest is the harness of the tests that need NATS: a private
// nats-server with JetStream on a free loopback port, its store in a
// throwaway directory.
//
// A package whose tests share one server per test binary calls Main from
// its TestMain:
//
//	func TestMain(m *testing.M) { natstest.Main(m) }
//
// and its tests take the server when they need it:
//
//	func TestIntegrationReplay(t *testing.T) {
//		s := natstest.Shared(t) // started by the first test that asks
//		nc, err := nats.Connect(s.URL)
//		...
//	}
//
// Tests on the shared server isolate themselves by data (their own
// subjects, streams and buckets). A test that stops or restarts its server
// takes one of its own from Start, stopped at the test's cleanup.
//
// The server is package natsserver's: Debian's nats-server, installed by
// `scripts/install-deps.sh nats` (part of `make deps`), never the machine's
// own NATS (each listens on a port of its own on 127.0.0.1).
//
// Skip policy: without nats-server, a test fails when
// SPARKGATE_REQUIRE_INTEGRATION=1 (which `make test` sets) and skips
// otherwise; `go test -short` skips too, unless that variable is set.
package natstest

import (
	"flag"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/sparkgate/sparkgate/internal/natsserver"
)

// RequireEnv is the environment variable that makes integration tests
// mandatory; `make test` sets it to 1.
const RequireEnv = "SPARKGATE_REQUIRE_INTEGRATION"

// Server is one private nats-server (URL, Dir, Stop, LogTail come from
// natsserver.Server). The test that owns it drives it.
type Server struct{ *natsserver.Server }

var (
	mainCalled bool
	sharedOnce sync.Once
	shared     *Server
	sharedErr  error
	sharedDir  string
)

// Main runs the tests of a package; the shared server, if a test started
// one, is stopped and its directory removed before the binary exits.
func Main(m *testing.M) {
	flag.Parse()
	mainCalled = true
	code := m.Run()
	if shared != nil {
		if code != 0 {
			fmt.Fprintf(os.Stderr, "natstest: tests failed; nats-server log tail (%s):\n%s\n", shared.Dir, shared.LogTail(40))
		}
		shared.Stop()
	}
	if sharedDir != "" {
		os.RemoveAll(sharedDir)
	}
	os.Exit(code)
}

// Shared returns the server of this test binary, starting it on first use.
// It needs Main in the package's TestMain (which stops it), and follows
// the skip policy of the package documentation.
func Shared(t testing.TB) *Server {
	t.Helper()
	if !mainCalled {
		t.Fatal("natstest: Shared needs `func TestMain(m *testing.M) { natstest.Main(m) }` in the package")
	}
	bin := binary(t)
	sharedOnce.Do(func() {
		sharedDir, sharedErr = os.MkdirTemp("", "sparkgate-nats-")
		if sharedErr != nil {
			return
		}
		var s *natsserver.Server
		s, sharedErr = natsserver.Start(bin, sharedDir, 0)
		shared = &Server{s}
	})
	if sharedErr != nil {
		t.Fatalf("natstest: start nats-server: %v", sharedErr)
	}
	return shared
}

// Start starts a server of the test's own, with its store in a directory
// of t.TempDir, and stops it at cleanup (printing its log tail if the test
// failed). It is for tests that stop or restart the server.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := binary(t)
	s, err := natsserver.Start(bin, t.TempDir(), 0)
	if err != nil {
		t.Fatalf("natstest: start nats-server: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("nats-server log tail:\n%s", s.LogTail(40))
		}
		s.Stop()
	})
	return &Server{s}
}

// Restart stops the server if it runs and starts it again on the same port
// with the same store, as after a crash or an upgrade: what JetStream
// stored is still there. It fails t if the server does not come back.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	if err := s.Server.Restart(); err != nil {
		t.Fatalf("natstest: restart nats-server: %v", err)
	}
}

// binary returns the path of nats-server, or fails or skips t as the
// skip policy says.
func binary(t testing.TB) string {
	t.Helper()
	required := os.Getenv(RequireEnv) == "1"
	if testing.Short() && !required {
		t.Skip("integration test: needs nats-server; skipped under -short")
	}
	p, err := natsserver.Find()
	if err == nil {
		return p
	}
	if required {
		t.Fatal(err)
	}
	t.Skip(err)
	return ""
}
