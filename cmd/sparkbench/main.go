// Command sparkbench is what `make bench` runs: it measures the gateway
// against direct XMPP clients on the same ejabberd, in the same run, and
// prints one table of figures and ratios (written as JSON to -out too).
//
// It starts the project's private ejabberd (internal/ejabberd, in a temporary
// directory) unless -xmpp-addr names a running one, builds cmd/sparkgate and
// runs it as a separate process on loopback (so its RSS and goroutines are
// its own; they are read from its /metrics), registers users through the
// admin API, and runs these scenarios:
//
//   - latency: A posts over REST, B receives on SSE, sequentially; the same
//     between two direct clients;
//   - throughput: pairs posting concurrently with a window of messages in
//     flight per pair; the same directly;
//   - scale: 1,000 and 5,000 logged-in users each holding one idle SSE
//     stream: RSS, heap and goroutines per user, CPU per user per minute,
//     and login rates with a password and with a token (the gateway
//     restarted, sessions reopened from the JWTs);
//   - fan-out: one room, members each with a stream: post → last member's
//     event; the same with direct members in another room;
//   - bigroom: a room of -big-room (1,000) direct members, then a gateway
//     user with an open stream joins it: the join's time, the events it
//     puts in the joiner's stream (one occupant snapshot, not one presence
//     per member), and post → last member from the gateway user and from a
//     direct member of the same room (issue 20);
//   - tabs: one user with many streams, a direct client sending headlines
//     to it: time to the last stream, and events per second with 100
//     streams; the same with as many resources of one direct user;
//   - peers: the SSE layer beside Mercure and Centrifugo, built from the
//     Go module proxy into a cache directory when missing (peers.go):
//     idle streams, fan-out, and throughput with 8 publishers against each
//     peer, the gateway end to end and package sse's hub alone, as ratios
//     to the best peer (issue 21);
//   - cluster: -cluster-nodes (3) gateway nodes on a private NATS and
//     PostgreSQL (cluster.go): delivered messages per second with 1, 2 and
//     3 of them as a ratio to one, what a delivery to a stream on another
//     node than the user's owner adds, and what a REST call on another
//     node adds;
//   - soak (only with -only soak, see soak.go): many users chatting at a
//     steady rate for minutes, then logging out: the gateway's goroutines,
//     RSS and open files before, during and after, and latency per minute.
//
// "Direct" means xmppconn streams (the project's own XMPP client stream,
// the same one the gateway holds per user), not gosrc.io/xmpp's Client.
// Every address is loopback, every loop is bounded. The run ends by
// computing issue 21's rows (targets.go) and drawing bench/report.svg
// (report.go) from the results file.
//
// Usage:
//
//	go run ./cmd/sparkbench [-quick] [-users 1000,5000] [-pairs 100] [-duration 10s] [-out bench/results.json]
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sparkgate/sparkgate/internal/ejabberd"
	"github.com/sparkgate/sparkgate/webpush"
	"github.com/sparkgate/sparkgate/xmppadmin"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "sparkbench:", err)
		os.Exit(1)
	}
}

// options are the command-line flags.
type options struct {
	quick    bool
	users    []int
	pairs    int
	inFlight int
	duration time.Duration
	messages int
	members  int
	bigRoom  int
	tabs     int
	// clusterNodes is the cluster scenario's largest node count.
	clusterNodes int
	posts        int
	idleWindow   time.Duration
	workers      int
	out          string
	only         string
	redraw       bool

	// The peers scenario (peers.go).
	peerStreams     int
	peerRateStreams int
	peerPublishers  int
	peerDuration    time.Duration
	peerRounds      int
	peerCache       string
	peerBuild       time.Duration

	soakUsers     int
	soakDuration  time.Duration
	soakInterval  time.Duration
	soakRoomSize  int
	soakRoomEvery int
	soakSettle    time.Duration
	soakDirect    int

	xmppAddr, adminURL, domain string
	gatewayURL                 string
	gatewayPID                 int
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("sparkbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	users := fs.String("users", "1000,5000", "comma-separated idle user counts of the scale scenario")
	fs.BoolVar(&o.quick, "quick", false, "small sizes for a smoke run (200 messages, 10 pairs for 2s, 50 idle users, 20 room members)")
	fs.IntVar(&o.pairs, "pairs", 100, "sender/receiver pairs of the throughput scenario")
	fs.IntVar(&o.inFlight, "in-flight", 16, "messages in flight per pair in the throughput scenario")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "sending time of each throughput run")
	fs.IntVar(&o.messages, "messages", 2000, "sequential messages of each latency run")
	fs.IntVar(&o.members, "members", 500, "members of the fan-out room")
	fs.IntVar(&o.bigRoom, "big-room", 1000, "direct members of the room a gateway user joins in the bigroom scenario")
	fs.IntVar(&o.clusterNodes, "cluster-nodes", 3, "gateway nodes of the cluster scenario (its throughput runs on 1, 2, ... of them)")
	fs.IntVar(&o.tabs, "tabs", 1000, "streams (tabs) of one user in the tabs scenario")
	fs.IntVar(&o.posts, "posts", 100, "posts of the fan-out and tabs scenarios")
	fs.DurationVar(&o.idleWindow, "idle-window", 30*time.Second, "how long idle users are watched for CPU (heartbeats every 15s)")
	fs.IntVar(&o.workers, "login-workers", 8, "logins in flight in the scale scenario")
	fs.StringVar(&o.out, "out", "bench/results.json", "where the JSON results go")
	fs.BoolVar(&o.redraw, "redraw", false, "run nothing: recompute the issue-21 targets and the picture (report.svg beside -out) from -out, and print the targets as the README's Markdown table")
	fs.StringVar(&o.only, "only", "", "comma-separated scenarios to run (peers,latency,throughput,fanout,bigroom,tabs,scale,eventpath,push,cluster,soak); empty means all but soak")
	fs.IntVar(&o.peerStreams, "peer-streams", 1000, "streams of the peers scenario's idle and fan-out runs")
	fs.IntVar(&o.peerRateStreams, "peer-rate-streams", 100, "streams of the peers scenario's throughput runs")
	fs.IntVar(&o.peerPublishers, "peer-publishers", 8, "publishers of the peers scenario's throughput runs")
	fs.DurationVar(&o.peerDuration, "peer-duration", 5*time.Second, "publishing time of each of the peers scenario's throughput runs")
	fs.IntVar(&o.peerRounds, "peer-rounds", 2, "rounds of each peers scenario, the servers in turn in each")
	fs.DurationVar(&o.peerBuild, "peer-build-timeout", 10*time.Minute, "longest a missing peer's build may take (about 2 minutes each on two idle cores); past it the peer is not measured, and the next run resumes from Go's build cache")
	fs.StringVar(&o.peerCache, "peer-cache", "", "where Mercure and Centrifugo are built once (empty: sparkgate-bench in the user's cache directory)")
	fs.IntVar(&o.soakUsers, "soak-users", 1000, "users of the soak scenario, each logged in with one stream")
	fs.DurationVar(&o.soakDuration, "soak-duration", 10*time.Minute, "how long the soak's users chat")
	fs.DurationVar(&o.soakInterval, "soak-interval", 15*time.Second, "each soak user sends one message this often")
	fs.IntVar(&o.soakRoomSize, "soak-room-size", 10, "soak users per room (0: no rooms)")
	fs.IntVar(&o.soakRoomEvery, "soak-room-every", 10, "every this many messages of a soak user, one goes to its room")
	fs.IntVar(&o.soakDirect, "soak-direct", 10, "pairs of direct XMPP clients sending one message a second each during the soak, as a latency control")
	fs.DurationVar(&o.soakSettle, "soak-settle", 5*time.Minute, "how long the soak waits after the logouts before its last sample (over 4 minutes: an idle Go program collects every 2 minutes, and pooled objects go at the second collection)")
	fs.StringVar(&o.xmppAddr, "xmpp-addr", "", "c2s address of a running ejabberd to use instead of starting one (needs -admin-url)")
	fs.StringVar(&o.adminURL, "admin-url", "", "admin API of the running ejabberd (with -xmpp-addr)")
	fs.StringVar(&o.domain, "domain", "localhost", "XMPP domain of the running ejabberd (with -xmpp-addr)")
	fs.StringVar(&o.gatewayURL, "gateway-url", "", "base URL of a running gateway (with -xmpp-addr; its /metrics must be on) instead of building and starting one")
	fs.IntVar(&o.gatewayPID, "gateway-pid", 0, "process id of the running gateway (with -gateway-url), for the soak's RSS and open files from /proc")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	for _, f := range strings.Split(*users, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("-users: bad count %q", f)
		}
		o.users = append(o.users, n)
	}
	if o.quick {
		o.messages = min(o.messages, 200)
		o.pairs = min(o.pairs, 10)
		o.duration = min(o.duration, 2*time.Second)
		o.users = []int{50}
		o.members = min(o.members, 20)
		o.bigRoom = min(o.bigRoom, 50)
		o.tabs = min(o.tabs, 50)
		o.posts = min(o.posts, 20)
		o.idleWindow = min(o.idleWindow, 3*time.Second)
		o.peerStreams = min(o.peerStreams, 100)
		o.peerRateStreams = min(o.peerRateStreams, 20)
		o.peerDuration = min(o.peerDuration, 2*time.Second)
	}
	if (o.xmppAddr == "") != (o.adminURL == "") {
		return nil, errors.New("-xmpp-addr and -admin-url go together")
	}
	if o.gatewayURL != "" && o.xmppAddr == "" {
		return nil, errors.New("-gateway-url needs -xmpp-addr and -admin-url (the ejabberd it talks to)")
	}
	for _, a := range []string{o.xmppAddr, o.adminURL, o.gatewayURL} {
		if a != "" && !isLoopback(a) {
			return nil, fmt.Errorf("%s is not a loopback address: sparkbench only runs on loopback", a)
		}
	}
	if o.bigRoom < 2 {
		return nil, errors.New("-big-room must be at least 2 (one member posts, the others receive)")
	}
	if o.pairs <= 0 || o.inFlight <= 0 || o.messages <= 0 || o.duration <= 0 {
		return nil, errors.New("-pairs, -in-flight, -messages and -duration must be positive")
	}
	if o.peerStreams <= 0 || o.peerRateStreams <= 0 || o.peerPublishers <= 0 || o.peerDuration <= 0 || o.peerRounds <= 0 || o.peerBuild <= 0 {
		return nil, errors.New("-peer-streams, -peer-rate-streams, -peer-publishers, -peer-duration, -peer-rounds and -peer-build-timeout must be positive")
	}
	if o.soakUsers < 2 || o.soakDuration <= 0 || o.soakInterval <= 0 || o.soakSettle < 0 {
		return nil, errors.New("-soak-users must be at least 2, -soak-duration and -soak-interval positive")
	}
	return o, nil
}

func isLoopback(addr string) bool {
	host := addr
	if i := strings.Index(host, "://"); i >= 0 {
		host = host[i+3:]
	}
	if i := strings.IndexByte(host, '/'); i >= 0 {
		host = host[:i]
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (o *options) want(scenario string) bool {
	if o.only == "" {
		return scenario != "soak" // minutes long: only when asked for
	}
	for _, s := range strings.Split(o.only, ",") {
		if strings.TrimSpace(s) == scenario {
			return true
		}
	}
	return false
}

// bench is one run's shared state.
type bench struct {
	opt      *options
	log      *slog.Logger
	out      io.Writer
	res      *Results
	admin    *xmppadmin.Ejabberd
	c2s      string
	domain   string
	ej       *ejabberd.Server // nil when targeting a running one
	gw       *gatewayProc     // nil when targeting a running one
	api      *api
	clients  clients
	password string
	// vapidPublic is the started gateway's VAPID key, for the push scenario.
	vapidPublic string
	prefix      string // of every user name of this run

	restartBase gatewayStats // the gateway's figures after a restart
	// streamsClosed counts the chatapi.close events the throughput's
	// receivers got: the gateway ended their stream (a client would resume).
	streamsClosed atomic.Int64
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == serveHubCommand { // the peers scenario's child
		return serveHub(ctx, args[1:])
	}
	opt, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if opt.redraw {
		return finish(opt.out, stdout, true)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	b := &bench{opt: opt, log: log, out: stdout, res: &Results{
		Time:    time.Now().UTC().Format(time.RFC3339),
		Command: "go run ./cmd/sparkbench " + strings.Join(args, " "),
		Quick:   opt.quick,
		Direct:  "xmppconn streams (the project's own XMPP client stream, the one the gateway holds per user) on the same ejabberd, with initial presence",
	}}
	b.res.Machine = machine()
	b.password = rand.Text()[:16]
	b.prefix = "sb" + strings.ToLower(rand.Text()[:6]) + "-"

	tmp, err := os.MkdirTemp("", "sparkbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	if err := b.setup(ctx, tmp); err != nil {
		return err
	}
	defer b.teardown()

	type scenario struct {
		name string
		run  func(context.Context) error
	}
	for _, s := range []scenario{
		// Peers first: its idle figures are RSS growth, which a process
		// that has freed memory before (other scenarios) hides by reusing
		// it; so the gateway is as fresh as the peers it is compared with.
		{"peers", b.peers},
		{"latency", b.latency},
		{"throughput", b.throughput},
		{"fanout", b.fanout},
		{"bigroom", b.bigRoom},
		{"tabs", b.tabs},
		{"scale", b.scale},
		{"eventpath", b.eventPath},
		{"push", b.push},
		{"cluster", b.cluster},
		{"soak", b.soak},
	} {
		if !opt.want(s.name) {
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if s.name != "peers" { // it settles before each of its runs
			b.settleBefore(ctx, s.name)
		}
		log.Info("scenario", "name", s.name)
		if err := s.run(ctx); err != nil {
			log.Error("scenario failed", "name", s.name, "err", err)
			b.res.Errors = append(b.res.Errors, s.name+": "+err.Error())
		}
		b.clients.closeIdle()
	}
	b.res.Machine.LoadEnd = loadAvg()
	b.res.printTable(stdout)
	var doc any = b.res
	if opt.only == "soak" {
		doc = b.res.soakDoc() // without the other scenarios' empty sections
	}
	write := func() error { return writeJSONFile(opt.out, doc) }
	if opt.only == "bigroom" && b.res.BigRoom != nil {
		// Its own section only: the other scenarios' figures stay.
		write = func() error { return b.res.BigRoom.mergeInto(opt.out) }
	}
	if opt.only == "cluster" && b.res.Cluster != nil {
		write = func() error { return mergeSection(opt.out, "cluster", b.res.Cluster) }
	}
	if opt.only == "peers" && b.res.Peers != nil {
		write = func() error { return mergeSection(opt.out, "peers", b.res.Peers) }
	}
	if err := write(); err != nil {
		return fmt.Errorf("writing %s: %w", opt.out, err)
	}
	fmt.Fprintf(stdout, "results written to %s\n", opt.out)
	if opt.only != "soak" {
		if err := finish(opt.out, stdout, false); err != nil {
			return err
		}
	}
	if len(b.res.Errors) > 0 {
		return fmt.Errorf("%d scenario(s) failed", len(b.res.Errors))
	}
	return nil
}

// finish reads the results file at out (which may hold sections of
// earlier runs beside this one's), adds issue 21's rows to it as
// "targets", prints them (as Markdown with markdown), and draws the
// picture, report.svg beside out.
func finish(out string, stdout io.Writer, markdown bool) error {
	b, err := os.ReadFile(out)
	if err != nil {
		return err
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("%s: %w", out, err)
	}
	rows := targets(&r)
	r.Targets = rows
	if err := mergeSection(out, "targets", rows); err != nil {
		return fmt.Errorf("writing %s: %w", out, err)
	}
	if markdown {
		fmt.Fprint(stdout, targetsMarkdown(rows))
	} else {
		printTargets(stdout, rows)
	}
	svg := filepath.Join(filepath.Dir(out), "report.svg")
	if err := writeReportFile(&r, svg); err != nil {
		return fmt.Errorf("writing %s: %w", svg, err)
	}
	fmt.Fprintf(stdout, "picture written to %s\n", svg)
	return nil
}

// setup starts (or finds) ejabberd and the gateway.
func (b *bench) setup(ctx context.Context, tmp string) error {
	if b.opt.xmppAddr != "" {
		b.c2s, b.domain = b.opt.xmppAddr, b.opt.domain
		b.admin = &xmppadmin.Ejabberd{BaseURL: b.opt.adminURL, Domain: b.domain}
	} else {
		b.log.Info("starting ejabberd")
		sctx, cancel := context.WithTimeout(ctx, 90*time.Second)
		ej, err := ejabberd.Start(sctx, ejabberd.Config{Dir: filepath.Join(tmp, "ejabberd"), Logger: b.log})
		cancel()
		if err != nil {
			return err
		}
		b.ej = ej
		b.c2s, b.domain = ej.C2SAddr(), ej.Domain()
		b.admin = &xmppadmin.Ejabberd{BaseURL: ej.AdminURL(), Domain: ej.Domain()}
		b.res.Machine.Ejabberd = "private ejabberd " + ej.Version() + " (internal/ejabberd: MAM in SQL, backlog 1024, no shaper)"
	}
	if b.opt.gatewayURL != "" {
		b.api = &api{base: strings.TrimRight(b.opt.gatewayURL, "/")}
		b.res.Gateway = "running gateway at " + b.api.base
		return nil
	}

	bin := filepath.Join(tmp, "sparkgate")
	b.log.Info("building the gateway")
	if err := buildGateway(ctx, bin); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	dataDir := filepath.Join(tmp, "gateway")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}
	// The push scenario's service needs the gateway's VAPID key; the
	// gateway serves as push app server with this ejabberd's secret.
	vapid, err := webpush.LoadOrCreateVAPID(dataDir)
	if err != nil {
		return err
	}
	b.vapidPublic = vapid.Public
	var pushEnv []string
	if b.ej != nil {
		secretFile := filepath.Join(tmp, "push-component.secret")
		if err := os.WriteFile(secretFile, []byte(b.ej.ComponentSecret()+"\n"), 0o600); err != nil {
			return err
		}
		pushEnv = []string{
			"SPARKGATE_PUSH_COMPONENT=" + b.ej.ComponentAddr(),
			"SPARKGATE_PUSH_SERVICE=" + b.ej.PushService(),
			"SPARKGATE_PUSH_COMPONENT_SECRET_FILE=" + secretFile,
			"SPARKGATE_PUSH_INSECURE_HOSTS=127.0.0.1",
			"SPARKGATE_PUSH_ALLOW_PRIVATE=true",
			"SPARKGATE_PUSH_COLLAPSE=0s",
			// The push scenario sends one user more than a minute's share.
			"SPARKGATE_PUSH_AWAY_LIMIT=0",
			// Sessions live as long as before the push component existed:
			// the other scenarios' users keep theirs.
			"SPARKGATE_SESSION_GRACE=8h",
		}
	}
	b.gw = &gatewayProc{bin: bin, dataDir: dataDir, addr: addr, log: b.log, env: []string{
		"SPARKGATE_LISTEN=" + addr,
		"SPARKGATE_PUBLIC_URL=http://localhost:" + addr[strings.LastIndexByte(addr, ':')+1:],
		"SPARKGATE_XMPP_ADDR=" + b.c2s,
		"SPARKGATE_XMPP_DOMAIN=" + b.domain,
		"SPARKGATE_XMPP_TLS=optional",
		"SPARKGATE_ADMIN_URL=" + b.admin.BaseURL,
		"SPARKGATE_DATA_DIR=" + dataDir,
		"SPARKGATE_METRICS=true",
		"SPARKGATE_WEB_CLIENT=false",
		"SPARKGATE_LOG_LEVEL=warn",
		// No limit of streams per user: the tabs scenario opens -tabs
		// (1,000) streams for one user, and the peers scenario
		// -peer-streams, then more, right after closing them (the
		// gateway counts a stream until it sees its connection close).
		"SPARKGATE_MAX_STREAMS_PER_USER=0",
		// No limit of requests per user: the latency scenario's sender
		// posts 2,000 messages back to back, the throughput scenario's
		// as fast as they go.
		"SPARKGATE_API_USER_BURST=0",
	}}
	b.gw.env = append(b.gw.env, pushEnv...)
	b.res.Gateway = "cmd/sparkgate as its own process on loopback, default settings (raw-events on, heartbeat 15s) with metrics on and no limit of streams or requests per user; log " + filepath.Join("$TMP", "gateway", "gateway.log")
	if err := b.gw.start(ctx); err != nil {
		return err
	}
	b.api = &api{base: "http://" + addr}
	return nil
}

// buildGateway builds cmd/sparkgate into bin.
func buildGateway(ctx context.Context, bin string) error {
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/sparkgate")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building the gateway: %w", err)
	}
	return nil
}

func (b *bench) teardown() {
	if b.gw != nil {
		if err := b.gw.stop(); err != nil {
			b.log.Warn("gateway exit", "err", err)
		}
	}
	if b.ej != nil {
		if err := b.ej.Close(); err != nil {
			b.log.Warn("ejabberd close", "err", err)
		}
	}
}

// user returns the name of the run's user called name.
func (b *bench) user(name string) string { return b.prefix + name }

// machine describes this machine.
func machine() Machine {
	m := Machine{
		Cores:     runtime.NumCPU(),
		GoVersion: runtime.Version(),
		OSArch:    runtime.GOOS + "/" + runtime.GOARCH,
		LoadStart: loadAvg(),
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
				m.MemoryMiB = kb / 1024
			}
		}
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "model name"); ok {
				m.CPU = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), ":"))
				break
			}
		}
	}
	m.SharedNote = "machine shared with other jobs; compare ratios, not absolutes"
	return m
}

// loadAvg is the first three fields of /proc/loadavg.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
