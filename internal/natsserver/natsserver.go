// Package natsserver runs a private nats-server with JetStream on a
// loopback port, its store in a directory of the caller's: the tests'
// harness (internal/natstest) and `make cluster` (cmd/sparkdev) start theirs
// through it.
//
// The server is Debian's nats-server (/usr/sbin/nats-server), installed by
// `scripts/install-deps.sh nats`. It never is the machine's own NATS: each
// server listens on a port of its own on 127.0.0.1, and it dies with the
// process that started it (Pdeathsig), even a killed one.
package natsserver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/sparkgate/sparkgate/internal/freeport"
)

// startTimeout bounds the start of a server. JetStream recovers its store
// at start, and several test binaries may start servers at once.
const startTimeout = 30 * time.Second

// stopTimeout is how long a server has to exit after SIGTERM before it is
// killed.
const stopTimeout = 10 * time.Second

// binaries are where nats-server is looked for, in order: /usr/sbin is not
// on every user's PATH.
var binaries = []string{"nats-server", "/usr/sbin/nats-server"}

// ErrNotInstalled is returned by Find when there is no nats-server.
var ErrNotInstalled = errors.New("natsserver: nats-server not found (install it with `scripts/install-deps.sh nats`)")

// Find returns the path of nats-server.
func Find() (string, error) {
	for _, b := range binaries {
		if p, err := exec.LookPath(b); err == nil {
			return p, nil
		}
	}
	return "", ErrNotInstalled
}

// Server is one private nats-server. Its methods are not safe for
// concurrent use: its owner drives it.
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

// Start starts the nats-server at bin with its store in dir, on port (0:
// a free one), and waits until JetStream answers.
func Start(bin, dir string, port int) (*Server, error) {
	return start(bin, dir, port)
}

// Restart stops the server if it runs and starts it again on the same port
// with the same store, as after a crash or an upgrade: what JetStream
// stored is still there.
func (s *Server) Restart() error {
	s.Stop()
	return s.run()
}

// start starts a server with its store in dir, on port (0: a free one).
func start(bin, dir string, port int) (*Server, error) {
	s := &Server{Dir: dir, bin: bin, port: port}
	// A free port can be taken between our probe and the server's listen:
	// a few tries with fresh ports.
	var err error
	for range 3 {
		if port == 0 {
			if s.port, err = freeport.Port(); err != nil {
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
