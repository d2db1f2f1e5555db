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
// The server is Debian's nats-server (/usr/sbin/nats-server), installed by
// `scripts/install-deps.sh nats` (part of `make deps`). It never is the
// machine's own NATS: each server listens on a port of its own on 127.0.0.1.
//
// Skip policy: without nats-server, a test fails when
// SPARKGATE_REQUIRE_INTEGRATION=1 (which `make test` sets) and skips
// otherwise; `go test -short` skips too, unless that variable is set.
package natstest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// RequireEnv is the environment variable that makes integration tests
// mandatory; `make test` sets it to 1.
const RequireEnv = "SPARKGATE_REQUIRE_INTEGRATION"

// startTimeout bounds the start of a server. JetStream recovers its store
// at start, and several test binaries may start servers at once.
const startTimeout = 30 * time.Second

// stopTimeout is how long a server has to exit after SIGTERM before it is
// killed.
const stopTimeout = 10 * time.Second

// binaries are where nats-server is looked for, in order: /usr/sbin is not
// on every user's PATH.
var binaries = []string{"nats-server", "/usr/sbin/nats-server"}

// Server is one private nats-server. Its methods are not safe for
// concurrent use: the test that owns it drives it.
type Server struct {
	// URL is the client URL, nats://127.0.0.1:<port>; it stays the same
	// across Restart.
	URL string
	// Dir holds the JetStream store (and the server's log); it stays the
	// same across Restart.
	Dir string

	bin  string
	port int
	cmd  *exec.Cmd
	exit chan error // receives the process's exit once
}

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
		shared, sharedErr = start(bin, sharedDir, 0)
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
	s, err := start(bin, t.TempDir(), 0)
	if err != nil {
		t.Fatalf("natstest: start nats-server: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("nats-server log tail:\n%s", s.LogTail(40))
		}
		s.Stop()
	})
	return s
}

// Restart stops the server if it runs and starts it again on the same port
// with the same store, as after a crash or an upgrade: what JetStream
// stored is still there. It fails t if the server does not come back.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	if err := s.run(); err != nil {
		t.Fatalf("natstest: restart nats-server: %v", err)
	}
}

// Stop stops the server (SIGTERM, then SIGKILL after a while) and waits
// for it to exit; clients see their connection close. It is idempotent;
// Restart starts the server again.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exit:
	case <-time.After(stopTimeout):
		s.cmd.Process.Kill()
		<-s.exit
	}
	s.cmd = nil
}

// LogTail returns the last n lines of the server's log.
func (s *Server) LogTail(n int) string {
	b, err := os.ReadFile(s.logPath())
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}

func (s *Server) logPath() string { return filepath.Join(s.Dir, "nats-server.log") }

// binary returns the path of nats-server, or fails or skips t as the
// skip policy says.
func binary(t testing.TB) string {
	t.Helper()
	required := os.Getenv(RequireEnv) == "1"
	if testing.Short() && !required {
		t.Skip("integration test: needs nats-server; skipped under -short")
	}
	for _, b := range binaries {
		if p, err := exec.LookPath(b); err == nil {
			return p
		}
	}
	msg := "natstest: nats-server not found (install it with `scripts/install-deps.sh nats`)"
	if required {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// start starts a server with its store in dir, on port (0: a free one).
func start(bin, dir string, port int) (*Server, error) {
	s := &Server{Dir: dir, bin: bin, port: port}
	// A free port can be taken between our probe and the server's listen:
	// a few tries with fresh ports.
	var err error
	for range 3 {
		if port == 0 {
			if s.port, err = freePort(); err != nil {
				return nil, err
			}
		}
		s.URL = "nats://127.0.0.1:" + strconv.Itoa(s.port)
		if err = s.run(); err == nil {
			return s, nil
		}
	}
	return nil, err
}

// run starts the process and waits until JetStream answers.
func (s *Server) run() error {
	cmd := exec.Command(s.bin,
		"-a", "127.0.0.1", "-p", strconv.Itoa(s.port),
		"-js", "-sd", filepath.Join(s.Dir, "jetstream"),
		"-l", s.logPath(),
	)
	// The server dies with the test binary, even when the binary is
	// killed before its cleanups run.
	// Pdeathsig fires when the thread that forked exits, so that thread
	// stays locked to the goroutine that waits for the process.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	started := make(chan error, 1)
	exit := make(chan error, 1)
	go func() { // ends when the process exits
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		exit <- cmd.Wait()
	}()
	if err := <-started; err != nil {
		return err
	}
	s.cmd, s.exit = cmd, exit

	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := s.waitReady(ctx); err != nil {
		s.Stop()
		return fmt.Errorf("%w; log tail:\n%s", err, s.LogTail(20))
	}
	return nil
}

// waitReady polls until a client can connect and JetStream answers for its
// account, or the process exits, or ctx ends.
func (s *Server) waitReady(ctx context.Context) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if err := s.probe(ctx); err == nil {
			return nil
		}
		select {
		case err := <-s.exit:
			s.exit <- err // for Stop
			return fmt.Errorf("nats-server exited: %v", err)
		case <-ctx.Done():
			return fmt.Errorf("nats-server not ready on %s: %w", s.URL, ctx.Err())
		case <-tick.C:
		}
	}
}

func (s *Server) probe(ctx context.Context) error {
	nc, err := nats.Connect(s.URL, nats.Timeout(time.Second), nats.NoReconnect())
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	_, err = js.AccountInfo(ctx)
	return err
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, errors.New("natstest: not a TCP address")
	}
	return addr.Port, nil
}
