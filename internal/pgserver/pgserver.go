// Package pgserver runs a private PostgreSQL server on a loopback port,
// its cluster in a directory of the caller's: the tests' harness
// (internal/pgtest) and `make cluster` (cmd/sparkdev) start theirs through
// it.
//
// The server is Debian's PostgreSQL (package postgresql; the programs are
// found under /usr/lib/postgresql/<version>/bin, the newest version first,
// else on PATH). Start makes the cluster with initdb when the directory has
// none yet (trust authentication for the one role "sparkgate"), and
// postgres serves it on a free loopback port with its unix socket in the
// same directory and durability off (fsync, synchronous_commit,
// full_page_writes): these clusters hold tests and demos, never worth a disk
// flush. The machine's own cluster (port 5432) is never touched.
// PostgreSQL refuses to run as root, so under root initdb and postgres run
// as the "postgres" OS user, who owns the directory. The server gets
// SIGQUIT should the process that started it die (Pdeathsig).
package pgserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sparkgate/sparkgate/internal/freeport"
)

// Role is the superuser initdb creates; clients connect as it.
const Role = "sparkgate"

// stopTimeout is how long a fast shutdown may take before the server is
// killed.
const stopTimeout = 15 * time.Second

// ErrNotInstalled is returned by Start when no PostgreSQL programs exist.
var ErrNotInstalled = errors.New("initdb and postgres not found")

// Server is one running PostgreSQL.
type Server struct {
	// Dir holds the cluster (data/), the socket and nothing else of ours.
	Dir string

	port int
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has been waited for
	log  bytes.Buffer  // postgres's output; guarded by mu
	mu   sync.Mutex
}

// Start starts a server on the cluster in dir (made first when dir has
// none) and waits until it accepts connections or ctx ends. dir must
// exist.
func Start(ctx context.Context, dir string) (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	cred, err := credential(dir)
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); err != nil {
		initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", data, "-U", Role,
			"-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
		initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		if out, err := initdb.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("initdb: %v: %s", err, out)
		}
	}
	port, err := freeport.Port()
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, port: port, done: make(chan struct{})}
	s.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(port), "-k", dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT}
	s.cmd.Stdout = (*lockedWriter)(s)
	s.cmd.Stderr = (*lockedWriter)(s)
	// Pdeathsig fires when the OS thread that started the process exits,
	// not the process: the start and the wait run on one goroutine locked
	// to its thread for the server's whole life, so no other goroutine's
	// end can take the thread (and the server) with it.
	started := make(chan error, 1)
	go func() { // owned by s: ends when postgres exits, which Close makes happen
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := s.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		s.cmd.Wait()
		close(s.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := s.waitReady(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// URL is the connection URL of database name.
func (s *Server) URL(name string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", Role, s.port, name)
}

// Admin runs one statement in the maintenance database.
func (s *Server) Admin(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

// Close stops the server (a fast shutdown, then a kill); the cluster stays
// in Dir.
func (s *Server) Close() error {
	s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
		return nil
	case <-time.After(stopTimeout):
		s.cmd.Process.Kill()
		<-s.done
		return fmt.Errorf("postgres did not stop within %v; killed", stopTimeout)
	}
}

// Output returns what postgres wrote so far.
func (s *Server) Output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// waitReady polls until the server accepts a connection, exits or ctx ends.
func (s *Server) waitReady(ctx context.Context) error {
	for {
		if err := s.Admin(ctx, "SELECT 1"); err == nil {
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("postgres exited at start: %s", s.Output())
		case <-ctx.Done():
			return fmt.Errorf("postgres not ready: %w: %s", ctx.Err(), s.Output())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// binDir finds the directory holding initdb and postgres.
func binDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) })
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil && isExec(filepath.Join(filepath.Dir(real), "postgres")) {
			return filepath.Dir(real), nil
		}
	}
	return "", ErrNotInstalled
}

// version is the major version in /usr/lib/postgresql/<version>/bin.
func version(dir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return v
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// credential returns the user to run PostgreSQL as: nobody else when not
// root; as root, the "postgres" OS user, made owner of dir.
func credential(dir string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs the postgres OS user (Debian's package creates it): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// lockedWriter appends postgres's output to its server's log.
type lockedWriter Server

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.log.Write(p)
}
