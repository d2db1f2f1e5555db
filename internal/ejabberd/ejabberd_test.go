package ejabberd_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/internal/ejabberd"
)

// start starts a private ejabberd for one test and closes it in Cleanup.
// A missing install fails the test unless -short was given.
func start(t *testing.T, cfg ejabberd.Config) *ejabberd.Server {
	t.Helper()
	skipShort(t)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(tWriter{t}, nil))
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	began := time.Now()
	s, err := ejabberd.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ejabberd %s: Start to ready in %v", s.Version(), time.Since(began).Round(time.Millisecond))
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("ejabberd log tail:\n%s", s.LogTail(60))
		}
	})
	return s
}

// skipShort skips an integration test under -short, unless
// SPARKGATE_REQUIRE_INTEGRATION=1 (set by make test) asks for all tests.
func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() && os.Getenv("SPARKGATE_REQUIRE_INTEGRATION") != "1" {
		t.Skip("needs ejabberd; skipped under -short")
	}
}

// tWriter sends log lines to t.Log.
type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// processesUsing lists the pids whose command line mentions dir.
func processesUsing(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []string
	for _, e := range ents {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(cmdline) == 0 {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if i := bytes.LastIndexByte(stat, ')'); i > 0 && bytes.HasPrefix(stat[i+1:], []byte(" Z")) {
			continue // a zombie is no longer running
		}
		if bytes.Contains(cmdline, []byte(dir)) {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

// streamFeatures opens a client stream and returns what arrives up to the
// end of the stream features.
func streamFeatures(t *testing.T, s *ejabberd.Server) string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", s.C2SAddr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	conn.Write([]byte("<?xml version='1.0'?><stream:stream to='" + s.Domain() +
		"' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"))
	var got []byte
	buf := make([]byte, 4096)
	for !bytes.Contains(got, []byte("</stream:features>")) {
		n, err := conn.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			t.Fatalf("reading features: %v (got %q)", err, got)
		}
	}
	return string(got)
}

func TestIntegrationStart(t *testing.T) {
	s := start(t, ejabberd.Config{Domain: "example.test", LogLevel: "info"})
	if got, want := s.MUCService(), "conference.example.test"; got != want {
		t.Errorf("MUCService() = %q, want %q", got, want)
	}
	if !strings.HasPrefix(s.AdminURL(), "http://127.0.0.1:") || !strings.HasSuffix(s.AdminURL(), "/api") {
		t.Errorf("AdminURL() = %q", s.AdminURL())
	}
	features := streamFeatures(t, s)
	for _, want := range []string{"<mechanism>PLAIN</mechanism>", "<mechanism>X-OAUTH2</mechanism>"} {
		if !strings.Contains(features, want) {
			t.Errorf("stream features lack %s: %s", want, features)
		}
	}
	// No in-band registration (mod_register is off: accounts change
	// through the gateway alone).
	for _, unwanted := range []string{"starttls", "DIGEST-MD5", "iq-register"} {
		if strings.Contains(features, unwanted) {
			t.Errorf("stream features offer %s: %s", unwanted, features)
		}
	}
	// Every module loaded: a bad option or a missing module is logged at
	// error level or above.
	for _, l := range strings.Split(s.LogTail(500), "\n") {
		if strings.Contains(l, "[warning]") || strings.Contains(l, "[error]") || strings.Contains(l, "[critical]") {
			t.Errorf("ejabberd logged: %s", l)
		}
	}

	// Close stops the VM, removes the temporary run dir Start made, and
	// leaves no goroutine behind.
	dir := s.Dir()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("run dir %s still there after Close (%v)", dir, err)
	}
	noGoroutinesLeft(t)
}

func TestIntegrationLifecycle(t *testing.T) {
	s := start(t, ejabberd.Config{Dir: t.TempDir()})
	addr, pid := s.C2SAddr(), s.PID()
	if pid == 0 {
		t.Fatal("PID() = 0 while running")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(ctx); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if got := s.PID(); got != 0 {
		t.Errorf("PID() = %d after Stop", got)
	}
	if pids := processesUsing(t, s.Dir()); len(pids) > 0 {
		t.Errorf("processes left after Stop: %v", pids)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Error("c2s still accepts connections after Stop")
	}

	began := time.Now()
	if err := s.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("restart after Stop: ready in %v", time.Since(began).Round(time.Millisecond))
	if s.C2SAddr() != addr {
		t.Errorf("C2SAddr() = %q after Restart, want %q", s.C2SAddr(), addr)
	}
	streamFeatures(t, s)

	if err := s.Kill(); err != nil {
		t.Fatal(err)
	}
	began = time.Now()
	if err := s.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("restart after Kill: ready in %v", time.Since(began).Round(time.Millisecond))
	streamFeatures(t, s)

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := s.Restart(ctx); !errors.Is(err, ejabberd.ErrClosed) {
		t.Errorf("Restart after Close = %v, want ErrClosed", err)
	}
	if pids := processesUsing(t, s.Dir()); len(pids) > 0 {
		t.Errorf("processes left after Close: %v", pids)
	}
	noGoroutinesLeft(t)
}

func TestStartNotInstalled(t *testing.T) {
	_, err := ejabberd.Start(t.Context(), ejabberd.Config{Erl: "/nonexistent/erl", ErlLibs: t.TempDir()})
	if !errors.Is(err, ejabberd.ErrNotInstalled) {
		t.Fatalf("Start = %v, want ErrNotInstalled", err)
	}
}

func TestStartBadConfigIncludesLog(t *testing.T) {
	skipShort(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	_, err := ejabberd.Start(ctx, ejabberd.Config{Dir: dir, LogLevel: "loud", Logger: slog.New(slog.DiscardHandler)})
	if err == nil {
		t.Fatal("Start with an invalid loglevel succeeded")
	}
	if !strings.Contains(err.Error(), "loglevel") {
		t.Errorf("error does not show the log tail naming the bad option: %v", err)
	}
	if testing.Verbose() {
		t.Logf("Start error: %v", err)
	}
	if pids := processesUsing(t, dir); len(pids) > 0 {
		t.Errorf("processes left after a failed Start: %v", pids)
	}
}

func TestIntegrationStopsStaleVM(t *testing.T) {
	dir := t.TempDir()
	first := start(t, ejabberd.Config{Dir: dir})
	oldPID := first.PID()
	// A second Start on the same run dir finds the first VM through the pid
	// file, as a dev server restarted after a crash would.
	second := start(t, ejabberd.Config{Dir: dir})
	if first.PID() != 0 {
		t.Errorf("stale VM %d still running after a second Start on its dir", oldPID)
	}
	if second.PID() == 0 || second.PID() == oldPID {
		t.Errorf("second PID() = %d, first was %d", second.PID(), oldPID)
	}
	streamFeatures(t, second)
}

func TestIntegrationStartCanceled(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	_, err := ejabberd.Start(ctx, ejabberd.Config{Dir: dir, Logger: slog.New(slog.DiscardHandler)})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Start with a 200ms deadline = %v, want DeadlineExceeded", err)
	}
	// The VM is waited for; a process it started may take a moment more
	// to go (seen once at load 16: one process still there at once).
	pids := processesUsing(t, dir)
	for deadline := time.Now().Add(5 * time.Second); len(pids) > 0 && time.Now().Before(deadline); pids = processesUsing(t, dir) {
		time.Sleep(50 * time.Millisecond)
	}
	if len(pids) > 0 {
		t.Errorf("processes left 5 s after a canceled Start: %v", pids)
	}
	noGoroutinesLeft(t)
}

// noGoroutinesLeft fails if goroutines of the package (the process waiter,
// readiness probes) are still alive shortly after a Close.
func noGoroutinesLeft(t *testing.T) {
	t.Helper()
	var stacks string
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
		buf := make([]byte, 1<<20)
		stacks = string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "internal/ejabberd.(*Server)") &&
			!strings.Contains(stacks, "net/http.(*persistConn)") {
			return
		}
		time.Sleep(20 * time.Millisecond) // goroutines of closed connections finish on their own
	}
	t.Errorf("goroutines left behind:\n%s", stacks)
}

func TestIntegrationPortInUse(t *testing.T) {
	skipShort(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	_, err = ejabberd.Start(ctx, ejabberd.Config{Dir: dir, C2SPort: port, Logger: slog.New(slog.DiscardHandler)})
	if err == nil {
		t.Fatal("Start on a taken c2s port succeeded")
	}
	if !strings.Contains(err.Error(), "eaddrinuse") {
		t.Errorf("error does not say the port is taken: %v", err)
	}
	if pids := processesUsing(t, dir); len(pids) > 0 {
		t.Errorf("processes left after a failed Start: %v", pids)
	}
}

// TestIntegrationOwnerDies kills a process that started ejabberd without
// letting it stop the VM, as go test's -timeout or a SIGKILL would, and
// checks that the VM does not outlive it.
func TestIntegrationOwnerDies(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	owner := exec.Command(os.Args[0], "-test.run=^TestHelperOwner$")
	owner.Env = append(os.Environ(), "SPARKGATE_HELPER_OWNER_DIR="+dir)
	out, err := owner.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := owner.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	var pid string
	for sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "ready "); ok {
			pid = p
			break
		}
	}
	if pid == "" {
		owner.Process.Kill()
		owner.Wait()
		t.Fatalf("the owner did not start ejabberd (%v)", sc.Err())
	}
	owner.Process.Kill()
	owner.Wait()
	deadline := time.Now().Add(30 * time.Second)
	for len(processesUsing(t, dir)) > 0 {
		if time.Now().After(deadline) {
			syscall.Kill(atoi(t, pid), syscall.SIGKILL)
			t.Fatalf("ejabberd %s still runs 30s after its owner died", pid)
		}
		time.Sleep(50 * time.Millisecond) // an unrelated process: nothing to wait on
	}
}

// TestHelperOwner is the owner process of TestIntegrationOwnerDies.
func TestHelperOwner(t *testing.T) {
	dir := os.Getenv("SPARKGATE_HELPER_OWNER_DIR")
	if dir == "" {
		t.Skip("helper process of TestIntegrationOwnerDies")
	}
	s, err := ejabberd.Start(t.Context(), ejabberd.Config{Dir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("ready %d\n", s.PID())
	time.Sleep(time.Minute) // until the test kills this process
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
