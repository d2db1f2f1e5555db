// Package ejabberd runs a private ejabberd (Debian's 23.01) on loopback ports,
// for integration tests and for the development server.
//
// Start writes an ejabberd.yml generated from a template in this package into
// a run directory, starts the Erlang VM directly (no ejabberdctl, no Erlang
// distribution, so no epmd and no cookie) in its own session, and returns once
// both the admin HTTP API and the client-to-server listener answer. The
// configuration enables everything the gateway relies on: SASL PLAIN and
// X-OAUTH2 without STARTTLS, in-band registration from loopback, the admin
// HTTP API (mod_http_api) open to loopback on a listener of its own, MUC
// with archiving, MAM, PEP with XEP-0402 bookmark nodes forced to sane
// settings, HTTP upload on another listener with CORS headers and served
// sandboxed (CSP sandbox, nosniff), stream management, carbons, push,
// shared roster groups and offline storage. All persistent data, accounts
// included, is kept in one SQLite database in WAL mode (Mnesia keeps only
// RAM tables), so a killed server loses no committed write. It has no
// traffic shaper: production operators must choose their own.
//
// # Concurrency
//
// A Server's methods are safe for concurrent use; Stop, Kill, Restart and
// Close are serialized. Each running VM is watched by one goroutine that waits
// for the process; Stop, Kill and Close return only after it has exited. The
// VM runs in its own session, so signals meant for its owner's terminal do
// not reach it, but it is killed if its owner dies without stopping it.
package ejabberd

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sparkgate/sparkgate/internal/freeport"
)

// ErrNotInstalled is returned by Start when erl or ejabberd's Erlang
// libraries cannot be found. The fix is `scripts/install-deps.sh ejabberd`.
var ErrNotInstalled = errors.New("ejabberd: erl or ejabberd not installed (run scripts/install-deps.sh ejabberd)")

// ErrClosed is returned by Restart after Close.
var ErrClosed = errors.New("ejabberd: server closed")

// stopGrace is how long Stop waits after SIGTERM before it sends SIGKILL.
const stopGrace = 20 * time.Second

// Config says where and how to run ejabberd. The zero value is usable: a
// temporary run directory, the domain "localhost", free loopback ports.
type Config struct {
	// Dir is the run directory: ejabberd.yml, the SQLite database with all
	// persistent data (ejabberd.db), the Mnesia spool (spool/, RAM tables and
	// schema), logs (log/) and the upload docroot (upload/).
	// It is created if missing and kept, with its data, across runs; an
	// existing spool is reused. Empty means a new temporary directory that
	// Close removes.
	Dir string

	// Domain is the XMPP domain (the only virtual host). Empty means
	// "localhost". The MUC, pubsub and upload services are subdomains of it:
	// conference., pubsub. and upload..
	Domain string

	// C2SPort, APIPort and UploadPort are the loopback ports of the client
	// listener, of the admin API (mod_http_api under /api) and of HTTP
	// uploads (mod_http_upload under /upload). The admin API has no
	// credentials, so it has a listener of its own: nothing served from an
	// upload is ever same-origin with it. Zero means a free port picked at
	// start; Restart keeps the same ports.
	C2SPort    int
	APIPort    int
	UploadPort int
	// ComponentPort is the loopback port of the external component
	// listener (XEP-0114), where the gateway connects as the push app
	// server (XEP-0357) PushService; zero means a free port.
	ComponentPort int
	// ComponentSecret is the shared secret of that listener. Empty means a
	// random one, made at Start and kept across Restart.
	ComponentSecret string

	// LogLevel is ejabberd's loglevel (none, emergency, alert, critical,
	// error, warning, notice, info, debug). Empty means "warning".
	LogLevel string

	// Erl is the path of the erl launcher. Empty means "erl" from $PATH.
	Erl string

	// ErlLibs is the directory holding ejabberd's Erlang applications (the
	// ERL_LIBS of the VM). Empty means the one Debian installs, found under
	// /usr/lib/<triplet>/ejabberd-<version>.
	ErlLibs string

	// Logger receives the runner's own messages (start, ready, stop); never
	// ejabberd's log, which stays in Dir/log. Nil means slog.Default().
	Logger *slog.Logger
}

// Server is a running (or stopped) private ejabberd.
type Server struct {
	dir        string
	removeDir  bool
	domain     string
	c2sPort    int
	apiPort    int
	uploadPort int
	compPort   int
	compSecret string
	logLevel   string
	erl        string
	erlLibs    string
	version    string
	log        *slog.Logger

	mu     sync.Mutex // serializes launch, Stop, Kill, Restart, Close
	proc   *process   // nil when not running
	closed bool
}

// process is one run of the Erlang VM.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once Wait has returned
	err  error         // Wait's result; read only after done is closed
}

// Start starts ejabberd as cfg says and waits, bounded by ctx, until it
// accepts admin API calls and client streams. ctx bounds only the start: the
// server keeps running until Stop, Kill or Close. On failure nothing is left
// running and the error includes the tail of ejabberd's log.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	s := &Server{
		dir:        cfg.Dir,
		domain:     cfg.Domain,
		c2sPort:    cfg.C2SPort,
		apiPort:    cfg.APIPort,
		uploadPort: cfg.UploadPort,
		compPort:   cfg.ComponentPort,
		compSecret: cfg.ComponentSecret,
		logLevel:   cfg.LogLevel,
		erl:        cfg.Erl,
		erlLibs:    cfg.ErlLibs,
		log:        cfg.Logger,
	}
	if s.domain == "" {
		s.domain = "localhost"
	}
	if s.logLevel == "" {
		s.logLevel = "warning"
	}
	if s.compSecret == "" {
		s.compSecret = rand.Text()
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if err := s.findInstall(); err != nil {
		return nil, err
	}
	if s.dir == "" {
		d, err := os.MkdirTemp("", "ejabberd-")
		if err != nil {
			return nil, fmt.Errorf("ejabberd: run dir: %w", err)
		}
		s.dir, s.removeDir = d, true
	} else {
		d, err := filepath.Abs(s.dir)
		if err != nil {
			return nil, fmt.Errorf("ejabberd: run dir: %w", err)
		}
		s.dir = d
	}
	for _, sub := range []string{"", "spool", "log", "upload"} {
		if err := os.MkdirAll(filepath.Join(s.dir, sub), 0o700); err != nil {
			s.cleanupDir()
			return nil, fmt.Errorf("ejabberd: run dir: %w", err)
		}
	}

	if err := stopStale(ctx, s.dir); err != nil {
		s.cleanupDir()
		return nil, err
	}

	// A free port picked here may be taken by someone else before the VM
	// binds it; try again with new ports when that happens.
	ports := []*int{&s.c2sPort, &s.apiPort, &s.uploadPort, &s.compPort}
	var pick []*int
	for _, p := range ports {
		if *p == 0 {
			pick = append(pick, p)
		}
	}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = pickPorts(pick, ports); err != nil {
			break
		}
		s.mu.Lock()
		err = s.launchLocked(ctx)
		s.mu.Unlock()
		if err == nil || len(pick) == 0 || !strings.Contains(err.Error(), "eaddrinuse") {
			break
		}
	}
	if err != nil {
		s.cleanupDir()
		return nil, err
	}
	return s, nil
}

// findInstall resolves erl and ERL_LIBS, or returns ErrNotInstalled.
func (s *Server) findInstall() error {
	if s.erl == "" {
		p, err := exec.LookPath("erl")
		if err != nil {
			return fmt.Errorf("%w: %v", ErrNotInstalled, err)
		}
		s.erl = p
	}
	pattern := "/usr/lib/*/ejabberd-*/ebin/ejabberd.app"
	if s.erlLibs != "" {
		pattern = filepath.Join(s.erlLibs, "ejabberd-*", "ebin", "ejabberd.app")
	}
	apps, _ := filepath.Glob(pattern)
	if len(apps) == 0 {
		return fmt.Errorf("%w: no %s", ErrNotInstalled, pattern)
	}
	appDir := filepath.Dir(filepath.Dir(apps[len(apps)-1])) // .../ejabberd-23.01-1
	s.erlLibs = filepath.Dir(appDir)
	s.version = strings.TrimPrefix(filepath.Base(appDir), "ejabberd-")
	return nil
}

func (s *Server) cleanupDir() {
	if s.removeDir {
		os.RemoveAll(s.dir)
	}
}

// stopStale stops a VM left running on dir's spool by an earlier run whose
// owner died without stopping it (a killed dev server or test binary). Two
// VMs on one Mnesia spool would corrupt it. The pid file names the VM; it is
// only signalled when its command line names this spool.
func stopStale(ctx context.Context, dir string) error {
	raw, err := os.ReadFile(filepath.Join(dir, "ejabberd.pid"))
	if err != nil {
		return nil
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || pid <= 1 {
		return nil
	}
	spool := []byte(filepath.Join(dir, "spool"))
	running := func() bool {
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || !bytes.Contains(cmdline, spool) {
			return false
		}
		stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		i := bytes.LastIndexByte(stat, ')')
		return i < 0 || !bytes.HasPrefix(stat[i+1:], []byte(" Z")) // zombies are gone
	}
	if !running() {
		return nil
	}
	syscall.Kill(pid, syscall.SIGTERM)
	deadline, killed := time.Now().Add(stopGrace), false
	for running() {
		if !killed && (time.Now().After(deadline) || ctx.Err() != nil) {
			syscall.Kill(pid, syscall.SIGKILL)
			deadline, killed = time.Now().Add(5*time.Second), true
		}
		if killed && time.Now().After(deadline) {
			return fmt.Errorf("ejabberd: stale VM %d on %s does not exit", pid, dir)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// pickPorts sets each of pick to a free port that none of all has.
func pickPorts(pick, all []*int) error {
	for _, p := range pick {
		*p = 0
	}
	for _, p := range pick {
		for *p == 0 || slices.ContainsFunc(all, func(o *int) bool { return o != p && *o == *p }) {
			port, err := freeport.Port()
			if err != nil {
				return err
			}
			*p = port
		}
	}
	return nil
}

// launchLocked writes the config, starts the VM and waits until it is ready.
// s.mu must be held. On failure the VM is killed and reaped.
func (s *Server) launchLocked(ctx context.Context) error {
	d := configData{
		Version:       s.version,
		Domain:        s.domain,
		LogLevel:      s.logLevel,
		C2SPort:       s.c2sPort,
		APIPort:       s.apiPort,
		UploadPort:    s.uploadPort,
		ComponentPort: s.compPort,
		Component:     s.PushService(),
		Secret:        s.compSecret,
		SQLDatabase:   filepath.Join(s.dir, "ejabberd.db"),
		UploadDir:     filepath.Join(s.dir, "upload"),
		UploadURL:     s.UploadOrigin() + "/upload",
		MUCService:    s.MUCService(),
		PubSubService: s.PubSubService(),
		UploadService: s.UploadService(),
	}
	cfgPath := filepath.Join(s.dir, "ejabberd.yml")
	if err := writeConfig(cfgPath, d); err != nil {
		return err
	}
	if err := prepareDB(ctx, d.SQLDatabase); err != nil {
		return err
	}
	out, err := os.OpenFile(filepath.Join(s.dir, "log", "erl.out"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("ejabberd: open output log: %w", err)
	}
	defer out.Close() // the child keeps its own descriptor

	// +K true is kept for older VMs; +P raises the process limit for many
	// sessions; +sbwt none (and its dirty-scheduler variants) stops idle
	// schedulers from spinning, which on a small shared machine takes CPU
	// from the gateway and the tests (RabbitMQ starts its VM the same way).
	// No -sname: the node is nonode@nohost, which has no
	// distribution and always the same name, so a restart finds its spool.
	cmd := exec.Command(s.erl, "+K", "true", "+P", "250000",
		"+sbwt", "none", "+sbwtdcpu", "none", "+sbwtdio", "none", "-noinput",
		"-mnesia", "dir", erlString(filepath.Join(s.dir, "spool")),
		"-s", "ejabberd")
	cmd.Dir = s.dir
	cmd.Env = append(filteredEnv(os.Environ()),
		"ERL_LIBS="+s.erlLibs,
		"EJABBERD_CONFIG_PATH="+cfgPath,
		"EJABBERD_LOG_PATH="+filepath.Join(s.dir, "log", "ejabberd.log"),
		"EJABBERD_PID_PATH="+filepath.Join(s.dir, "ejabberd.pid"),
		"ERL_CRASH_DUMP="+filepath.Join(s.dir, "log", "erl_crash.dump"),
		"HOME="+s.dir,
	)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// Its own session: a Ctrl-C meant for the test runner or dev
		// server must not reach the VM, which is stopped by Stop instead.
		Setsid: true,
		// But if its owner dies without Stop (a test binary killed by
		// -timeout, a dev server killed with SIGKILL), the VM is killed
		// instead of running on forever with nobody to stop it. SIGKILL,
		// not SIGTERM: a loaded machine took more than 30 s to finish a
		// graceful stop, and everything ejabberd keeps is in SQLite, whose
		// committed writes survive a killed process.
		Pdeathsig: syscall.SIGKILL,
	}

	// Linux sends Pdeathsig when the thread that forked the child exits,
	// not only when the whole process does: the goroutine that starts the
	// VM stays locked to its thread until the VM has exited.
	p := &process{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	began := time.Now()
	go func() {
		defer close(p.done)
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if err := cmd.Start(); err != nil {
			p.err = err
			started <- err
			return
		}
		started <- nil
		p.err = cmd.Wait()
	}()
	if err := <-started; err != nil {
		<-p.done
		return fmt.Errorf("ejabberd: start %s: %w", s.erl, err)
	}
	s.proc = p

	if err := s.waitReady(ctx, p); err != nil {
		s.killLocked()
		return fmt.Errorf("%w\n--- ejabberd log tail ---\n%s", err, s.LogTail(40))
	}
	s.log.Info("ejabberd ready", "version", s.version, "c2s", s.C2SAddr(), "api", s.AdminURL(), "upload", s.UploadOrigin(),
		"dir", s.dir, "pid", cmd.Process.Pid, "elapsed", time.Since(began).Round(time.Millisecond))
	return nil
}

// filteredEnv drops variables that would change how the VM or ejabberd
// starts; launchLocked sets its own.
func filteredEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "HOME", name == "ERL_LIBS", name == "ERL_CRASH_DUMP",
			name == "ERL_FLAGS", name == "ERL_AFLAGS", name == "ERL_ZFLAGS",
			strings.HasPrefix(name, "EJABBERD_"):
			continue
		}
		out = append(out, kv)
	}
	return out
}

// waitReady polls until /api/status says the node is running and the c2s
// listener answers a stream header with stream features.
func (s *Server) waitReady(ctx context.Context, p *process) error {
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}
	delay := 20 * time.Millisecond
	var last error
	for {
		if last = s.probeAPI(ctx, client); last == nil {
			if last = s.probeC2S(ctx); last == nil {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("ejabberd: exited during start (%v)", p.err)
		case <-ctx.Done():
			return fmt.Errorf("ejabberd: not ready: %w (last probe: %v)", ctx.Err(), last)
		case <-time.After(delay):
		}
		delay = min(delay*2, 200*time.Millisecond)
	}
}

func (s *Server) probeAPI(ctx context.Context, client *http.Client) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.AdminURL()+"/status", strings.NewReader("{}"))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("is running")) {
		return fmt.Errorf("status: %s: %.200s", resp.Status, body)
	}
	return nil
}

// probeC2S opens a client stream (RFC 6120 §4) and reads until the stream
// features arrive.
func (s *Server) probeC2S(ctx context.Context) error {
	var d net.Dialer
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := d.DialContext(ctx, "tcp", s.C2SAddr())
	if err != nil {
		return err
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	_, err = fmt.Fprintf(conn, "<?xml version='1.0'?><stream:stream to='%s' xmlns='jabber:client' "+
		"xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>", s.domain)
	if err != nil {
		return err
	}
	var got []byte
	buf := make([]byte, 4096)
	for !bytes.Contains(got, []byte("</stream:features>")) {
		n, err := conn.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			return fmt.Errorf("c2s: %w", err)
		}
		if len(got) > 1<<16 {
			return errors.New("c2s: no stream features in 64 KiB")
		}
	}
	conn.Write([]byte("</stream:stream>"))
	return nil
}

// C2SAddr is the client-to-server listener, "127.0.0.1:port".
func (s *Server) C2SAddr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.c2sPort)) }

// Domain is the XMPP domain.
func (s *Server) Domain() string { return s.domain }

// MUCService is the multi-user chat service (XEP-0045), "conference.<domain>".
func (s *Server) MUCService() string { return "conference." + s.domain }

// PubSubService is the pubsub service (XEP-0060), "pubsub.<domain>". PEP
// nodes live on each user's bare JID instead.
func (s *Server) PubSubService() string { return "pubsub." + s.domain }

// UploadService is the HTTP upload service (XEP-0363), "upload.<domain>".
func (s *Server) UploadService() string { return "upload." + s.domain }

// PushService is the push app server's component JID (XEP-0357),
// "push.<domain>": the gateway connects to ComponentAddr as it.
func (s *Server) PushService() string { return "push." + s.domain }

// ComponentAddr is host:port of the external component listener.
func (s *Server) ComponentAddr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.compPort))
}

// ComponentSecret is the external component listener's shared secret.
func (s *Server) ComponentSecret() string { return s.compSecret }

// UploadOrigin is the origin of the upload listener,
// "http://127.0.0.1:port": upload slots' put and get URLs are under
// UploadOrigin()+"/upload/", and a browser client must be allowed to
// connect to it.
func (s *Server) UploadOrigin() string { return loopbackURL(s.uploadPort) }

// AdminURL is the base URL of the admin API (mod_http_api), on a loopback
// listener of its own; a command is POST AdminURL()+"/"+command with a
// JSON object body.
func (s *Server) AdminURL() string { return loopbackURL(s.apiPort) + "/api" }

func loopbackURL(port int) string {
	return "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// Dir is the run directory.
func (s *Server) Dir() string { return s.dir }

// Version is the ejabberd version found, e.g. "23.01-1".
func (s *Server) Version() string { return s.version }

// PID is the process id of the running VM, or 0 when it is not running.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return 0
	}
	select {
	case <-s.proc.done:
		return 0
	default:
		return s.proc.cmd.Process.Pid
	}
}

// LogTail returns the last n lines of ejabberd's log or, when that log is
// empty (the VM failed before ejabberd's logger started), of the VM's own
// output. It is meant for error messages and failed tests.
func (s *Server) LogTail(n int) string {
	lines := tailLines(filepath.Join(s.dir, "log", "ejabberd.log"), n)
	if len(lines) == 0 {
		lines = tailLines(filepath.Join(s.dir, "log", "erl.out"), n)
	}
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

// tailLines returns up to n last lines of the file, reading at most its last
// 256 KiB.
func tailLines(path string, n int) []string {
	if n <= 0 {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	const maxRead = 256 << 10
	if fi, err := f.Stat(); err == nil && fi.Size() > maxRead {
		f.Seek(fi.Size()-maxRead, io.SeekStart)
	}
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxRead)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > 2*n {
			lines = append(lines[:0], lines[len(lines)-n:]...)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

// Stop stops ejabberd cleanly: SIGTERM to the VM (which runs init:stop and
// closes Mnesia), then SIGKILL if it has not exited after 20 s or when ctx
// ends. It signals only the VM's own pid. Stopping a stopped server does
// nothing and returns nil. The run directory is kept, so Restart can follow.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopLocked(ctx)
}

func (s *Server) stopLocked(ctx context.Context) error {
	p := s.proc
	if p == nil {
		return nil
	}
	s.proc = nil
	began := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	grace := time.NewTimer(stopGrace)
	defer grace.Stop()
	var err error
	select {
	case <-p.done:
	case <-grace.C:
		err = errors.New("ejabberd: did not stop within 20s; killed")
	case <-ctx.Done():
		err = fmt.Errorf("ejabberd: stop: %w; killed", ctx.Err())
	}
	if err != nil {
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	}
	s.log.Info("ejabberd stopped", "elapsed", time.Since(began).Round(time.Millisecond))
	return err
}

// Kill ends the VM at once with SIGKILL, as a crash would, and waits for it
// to exit. It is meant for fault tests; Restart brings the server back with
// the same data: everything persistent is in SQLite, whose committed writes
// survive the kill of the process (not a crash of the machine: with WAL and
// SQLite's defaults the last transactions may be lost then).
func (s *Server) Kill() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.killLocked()
	return nil
}

func (s *Server) killLocked() {
	p := s.proc
	if p == nil {
		return
	}
	s.proc = nil
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Restart stops the server if it is running (as Stop does) and starts it
// again with the same ports, configuration and data, waiting until it is
// ready as Start does.
func (s *Server) Restart(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if err := s.stopLocked(ctx); err != nil {
		return err
	}
	return s.launchLocked(ctx)
}

// Close stops the server (as Stop does, with its 20 s grace) and removes the
// run directory when Start created it. Calling Close more than once is
// harmless.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.stopLocked(context.Background())
	s.cleanupDir()
	return err
}
