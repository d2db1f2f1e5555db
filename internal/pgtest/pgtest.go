// Package pgtest is the PostgreSQL harness of the tests: one private
// PostgreSQL server per test binary, started on first use, and a fresh
// database per test.
//
// A package whose tests use it runs them through Main (or wraps its
// testing.M with Wrap when another harness owns TestMain), so the server
// is stopped when the tests end:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//	func TestMain(m *testing.M) { ejabberdtest.Main(pgtest.Wrap(m)) }
//
// and a test takes a database:
//
//	dsn := pgtest.DSN(t) // postgres://…; the database is dropped at cleanup
//
// # The server
//
// The server is Debian's PostgreSQL (package postgresql; the programs are
// found under /usr/lib/postgresql/<version>/bin, the newest version first,
// else on PATH): initdb makes a throwaway cluster in a temporary directory,
// and postgres serves it on a free loopback port, with its unix socket in
// the same directory, trust authentication for the one role "sparkgate",
// and durability off (fsync, synchronous_commit, full_page_writes): a test
// database is never worth a disk flush. The machine's own cluster (port
// 5432) is never touched. PostgreSQL refuses to run as root, so under root
// initdb and postgres run as the "postgres" OS user, who owns the
// directory. The server gets SIGQUIT should the test binary die
// (Pdeathsig), and shuts itself down when its directory disappears.
//
// # Skip policy
//
// Under `go test -short` the tests that take a database skip, unless
// SPARKGATE_REQUIRE_INTEGRATION=1 (which `make test` sets). Without
// PostgreSQL installed they skip, naming the install step
// (scripts/install-deps.sh postgresql), and fail under
// SPARKGATE_REQUIRE_INTEGRATION=1.
package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// RequireEnv is the environment variable that makes the tests mandatory;
// `make test` sets it to 1.
const RequireEnv = "SPARKGATE_REQUIRE_INTEGRATION"

// role is the superuser initdb creates; every test connects as it.
const role = "sparkgate"

// startTimeout bounds initdb and the server's start, generously: several
// test binaries may start their servers at once on a small machine.
const startTimeout = 60 * time.Second

// stopTimeout is how long a fast shutdown may take before the server is
// killed.
const stopTimeout = 15 * time.Second

var (
	once    sync.Once
	shared  *server
	openErr error
)

// runner is what Main and Wrap run: a *testing.M, or a Wrap of one.
type runner interface{ Run() int }

// Main runs the package's tests, stops the server if one was started and
// exits with the tests' code.
func Main(m *testing.M) { os.Exit(Wrap(m).Run()) }

// Wrap returns m whose Run also stops the server after the tests, for a
// package whose TestMain belongs to another harness.
func Wrap(m runner) runner { return wrapped{m} }

type wrapped struct{ m runner }

func (w wrapped) Run() int {
	code := w.m.Run()
	if err := stop(); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// stop stops the shared server, if it was started.
func stop() error {
	if shared == nil {
		return nil
	}
	return shared.close()
}

// DSN returns the connection URL (postgres://…, TCP on loopback) of a new,
// empty database on the shared server, starting the server on first use.
// The database is dropped, connections and all, when the test ends.
func DSN(t testing.TB) string {
	t.Helper()
	if testing.Short() && os.Getenv(RequireEnv) != "1" {
		t.Skip("integration test: needs PostgreSQL; skipped under -short")
	}
	once.Do(func() { shared, openErr = start() })
	if openErr != nil {
		msg := fmt.Sprintf("pgtest: PostgreSQL (install it with `scripts/install-deps.sh postgresql`): %v", openErr)
		if errors.Is(openErr, errNotInstalled) && os.Getenv(RequireEnv) != "1" {
			t.Skip(msg)
		}
		t.Fatal(msg)
	}
	name := "t_" + randomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := shared.admin(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := shared.admin(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return shared.url(name)
}

// errNotInstalled is returned by start when no PostgreSQL programs exist.
var errNotInstalled = errors.New("initdb and postgres not found")

// server is one running PostgreSQL.
type server struct {
	dir  string // temporary directory: data/, the socket, the log
	port int
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has been waited for
	log  *bytes.Buffer // postgres's output
	mu   sync.Mutex    // guards log against the copy in cmd
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
	return "", errNotInstalled
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

// start makes a cluster in a new temporary directory and starts its server.
func start() (*server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "sparkgate-pg-")
	if err != nil {
		return nil, err
	}
	cred, err := credential(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	data := filepath.Join(dir, "data")
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", data, "-U", role,
		"-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s := &server{dir: dir, port: port, done: make(chan struct{}), log: new(bytes.Buffer)}
	s.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(port), "-k", dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT}
	s.cmd.Stdout = (*lockedWriter)(s)
	s.cmd.Stderr = (*lockedWriter)(s)
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("postgres: %w", err)
	}
	go func() { // owned by s: ends when postgres exits, which close makes happen
		s.cmd.Wait()
		close(s.done)
	}()
	if err := s.waitReady(ctx); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
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

// freePort returns a loopback TCP port nobody listens on right now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls until the server accepts a connection, exits or ctx ends.
func (s *server) waitReady(ctx context.Context) error {
	for {
		if err := s.admin(ctx, "SELECT 1"); err == nil {
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("postgres exited at start: %s", s.output())
		case <-ctx.Done():
			return fmt.Errorf("postgres not ready: %w: %s", ctx.Err(), s.output())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// url is the connection URL of database name.
func (s *server) url(name string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", role, s.port, name)
}

// admin runs one statement in the maintenance database.
func (s *server) admin(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, s.url("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

// close stops the server (a fast shutdown, then a kill) and removes its
// directory.
func (s *server) close() error {
	defer os.RemoveAll(s.dir)
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

// output returns what postgres wrote so far.
func (s *server) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// lockedWriter appends postgres's output to its server's log.
type lockedWriter server

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.log.Write(p)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
