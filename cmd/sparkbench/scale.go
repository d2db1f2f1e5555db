package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sparkgate/sparkgate/sse/ssetest"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// gatewayStats are the figures read from the gateway's /metrics.
type gatewayStats struct {
	rss, heap, cpu      float64 // bytes, bytes, seconds
	goroutines, streams float64
	sessions            float64
}

// stats scrapes the gateway's /metrics.
func (b *bench) stats(ctx context.Context) (gatewayStats, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.api.base+"/metrics", nil)
	if err != nil {
		return gatewayStats{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return gatewayStats{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return gatewayStats{}, fmt.Errorf("GET /metrics: %d (is the gateway's metrics option on?)", resp.StatusCode)
	}
	return parseMetrics(resp.Body)
}

// parseMetrics reads the few samples sparkbench needs from the Prometheus
// text format.
func parseMetrics(r io.Reader) (gatewayStats, error) {
	var s gatewayStats
	want := map[string]*float64{
		"process_resident_memory_bytes": &s.rss,
		"go_memstats_heap_inuse_bytes":  &s.heap,
		"process_cpu_seconds_total":     &s.cpu,
		"go_goroutines":                 &s.goroutines,
		"sparkgate_streams":             &s.streams,
		"sparkgate_sessions":            &s.sessions,
	}
	found := 0
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if p := want[name]; p != nil {
			v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
			if err != nil {
				return s, fmt.Errorf("metrics: %s: %w", name, err)
			}
			*p = v
			found++
		}
	}
	if err := sc.Err(); err != nil {
		return s, err
	}
	if found < len(want) {
		return s, fmt.Errorf("metrics: found %d of the %d samples needed", found, len(want))
	}
	return s, nil
}

// procRSS is the resident set of process pid in bytes, 0 when unknown.
func procRSS(pid int) float64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return float64(kb) * 1024
		}
	}
	return 0
}

func (b *bench) ejabberdRSS() float64 {
	if b.ej == nil {
		return 0
	}
	return procRSS(b.ej.PID())
}

// idleUser is one user of the scale scenario.
type idleUser struct {
	name   string
	token  string
	stream *stream
}

// scale logs in growing numbers of users, each with one idle stream, and
// reads the gateway's cost per user. After the first step it restarts the
// gateway (when it started it) and reopens every stream with its token:
// that measures logins with a token, which open the XMPP session with an
// OAuth token ejabberd issues.
func (b *bench) scale(ctx context.Context) error {
	counts := slices.Clone(b.opt.users)
	slices.Sort(counts)
	counts = slices.Compact(counts)
	if len(counts) == 0 {
		return nil
	}
	total := counts[len(counts)-1]
	users := make([]idleUser, total)
	for i := range users {
		users[i].name = b.user(fmt.Sprintf("idle%d", i))
	}
	b.log.Info("registering idle users", "n", total)
	if err := forEach(ctx, total, 8, func(ctx context.Context, i int) error {
		return b.admin.Register(ctx, users[i].name, b.password)
	}); err != nil {
		return fmt.Errorf("register: %w", err)
	}
	defer func() {
		var wg sync.WaitGroup
		for i := range users {
			if s := users[i].stream; s != nil {
				wg.Go(s.close)
			}
		}
		wg.Wait()
	}()
	b.res.Login.Workers = b.opt.workers
	// Streams report the messages of the receive-path measure.
	arrivals := make(chan arrival, 64)
	open := func(ctx context.Context, i int) error {
		s, err := b.api.open(ctx, b.clients.forUser(i), users[i].token, func(ev ssetest.Event, at time.Time) {
			if body, ok := chatBody(ev); ok && strings.HasPrefix(body, "rp ") {
				select {
				case arrivals <- arrival{body, at}:
				default:
				}
			}
		})
		if err != nil {
			return err
		}
		users[i].stream = s
		return nil
	}

	base, err := b.settledStats(ctx)
	if err != nil {
		return err
	}
	ejBase := b.ejabberdRSS()
	have := 0
	for step, n := range counts {
		// Password logins of the users not yet logged in.
		from := have
		lat := make([]time.Duration, n-from)
		start := time.Now()
		b.log.Info("logging in", "from", from, "to", n)
		if err := forEach(ctx, n-from, b.opt.workers, func(ctx context.Context, k int) error {
			i := from + k
			t0 := time.Now()
			tok, err := b.api.login(ctx, b.clients.forLogin(), users[i].name, b.password)
			lat[k] = time.Since(t0)
			users[i].token = tok
			return err
		}); err != nil {
			return fmt.Errorf("password logins: %w", err)
		}
		if step == 0 {
			b.res.Login.PasswordPerSec = round(float64(n-from)/time.Since(start).Seconds(), 0)
			b.res.Login.PasswordMs = dist(lat, time.Millisecond)
		}
		b.log.Info("opening streams", "from", from, "to", n)
		if err := forEach(ctx, n-from, b.opt.workers, func(ctx context.Context, k int) error {
			return open(ctx, from+k)
		}); err != nil {
			return fmt.Errorf("opening streams: %w", err)
		}
		have = n

		ejNow := 0.0 // ejabberd's RSS with these users, before any restart
		if step == 0 && b.gw != nil {
			// The restart below closes and reopens every session, after
			// which ejabberd reuses memory it has not returned.
			if _, err := b.settledStats(ctx); err != nil {
				return err
			}
			ejNow = b.ejabberdRSS()
			if err := b.tokenLogins(ctx, users[:n], open); err != nil {
				return err
			}
			// The restarted gateway is the one measured from now on; its
			// baseline had no sessions.
			base = b.restartBase
		}

		run, err := b.idleRun(ctx, n, base, ejBase, ejNow)
		if err != nil {
			return err
		}
		if step == 0 {
			if err := b.receivePath(ctx, users[:n], arrivals); err != nil {
				return fmt.Errorf("receive path: %w", err)
			}
		}
		if err := b.idleDirect(ctx, users[:n], &run); err != nil {
			return fmt.Errorf("direct idle: %w", err)
		}
		b.res.Idle.Runs = append(b.res.Idle.Runs, run)
		b.res.Idle.Users = run.Users
		b.res.Idle.RSSKiBPerUser = run.RSSKiBPerUser
		b.res.Idle.GoroutinesPerUser = run.GoroutinesPerUser
		b.res.Idle.CPUMsPerUserMin = run.CPUMsPerUserMin
	}
	return nil
}

// settledStats waits briefly so that work in flight ends, then scrapes.
func (b *bench) settledStats(ctx context.Context) (gatewayStats, error) {
	select {
	case <-time.After(2 * time.Second):
	case <-ctx.Done():
		return gatewayStats{}, ctx.Err()
	}
	return b.stats(ctx)
}

// idleRun measures n idle users against base.
func (b *bench) idleRun(ctx context.Context, n int, base gatewayStats, ejBase, ejNow float64) (IdleRun, error) {
	// The logins' keep-alive connections would stay open until the
	// gateway's idle timeout, each with its net/http goroutine: they are
	// the login burst's, not an idle user's (about 0.03 goroutines per
	// user at 5,000 users, one per source address).
	b.clients.closeIdle()
	s0, err := b.settledStats(ctx)
	if err != nil {
		return IdleRun{}, err
	}
	if int(s0.streams) < n {
		b.res.Errors = append(b.res.Errors, fmt.Sprintf("scale: %d users but the gateway has %.0f streams", n, s0.streams))
	}
	b.log.Info("idle", "users", n, "window", b.opt.idleWindow)
	t0 := time.Now()
	waitUntil(ctx, t0.Add(b.opt.idleWindow))
	s1, err := b.stats(ctx)
	if err != nil {
		return IdleRun{}, err
	}
	window := time.Since(t0)
	run := IdleRun{
		Users:             n,
		RSSKiBPerUser:     round((s0.rss-base.rss)/1024/float64(n), 1),
		HeapKiBPerUser:    round((s0.heap-base.heap)/1024/float64(n), 1),
		GoroutinesPerUser: round((s0.goroutines-base.goroutines)/float64(n), 2),
		CPUMsPerUserMin:   round((s1.cpu-s0.cpu)*1000/window.Minutes()/float64(n), 3),
		CPUWindowS:        round(window.Seconds(), 1),
		RSSMiB:            round(s0.rss/(1<<20), 1),
		Goroutines:        int(s0.goroutines),
	}
	if ejNow == 0 {
		ejNow = b.ejabberdRSS()
	}
	if ejNow > 0 && ejBase > 0 {
		run.EjabberdKiBPerUsr = round((ejNow-ejBase)/1024/float64(n), 1)
	}
	return run, nil
}

// tokenLogins restarts the gateway and reopens every user's stream with
// the token of the earlier login: each open finds no session and opens one
// with an OAuth token from ejabberd (X-OAUTH2), as after a real restart.
func (b *bench) tokenLogins(ctx context.Context, users []idleUser, open func(context.Context, int) error) error {
	b.log.Info("restarting the gateway", "sessions", len(users))
	if err := b.gw.stop(); err != nil {
		b.log.Warn("gateway exit", "err", err)
	}
	var wg sync.WaitGroup
	for i := range users {
		if s := users[i].stream; s != nil {
			wg.Go(s.close)
		}
		users[i].stream = nil
	}
	wg.Wait()
	b.clients.closeIdle()
	if err := b.gw.start(ctx); err != nil {
		return fmt.Errorf("restarting the gateway: %w", err)
	}
	base, err := b.settledStats(ctx)
	if err != nil {
		return err
	}
	b.restartBase = base
	lat := make([]time.Duration, len(users))
	start := time.Now()
	if err := forEach(ctx, len(users), b.opt.workers, func(ctx context.Context, i int) error {
		t0 := time.Now()
		err := open(ctx, i)
		lat[i] = time.Since(t0)
		return err
	}); err != nil {
		return fmt.Errorf("token logins: %w", err)
	}
	b.res.Login.TokenPerSec = round(float64(len(users))/time.Since(start).Seconds(), 0)
	b.res.Login.TokenMs = dist(lat, time.Millisecond)
	b.res.Login.TokenNote = "gateway restarted; each stream opened with the JWT of the password login reopens the user's XMPP session with an OAuth token ejabberd issues (admin API + X-OAUTH2), up to onConnect"
	return nil
}

// receivePath sends from a direct client, one message at a time, to one
// of the idle gateway users (the others stream beside it) and to a direct
// receiver in alternation.
//
// One gateway user, not each in turn: the direct side has one receiver,
// and ejabberd is slower to deliver to a user it has not delivered to for
// a while (its per-user caches of archive settings, roster and privacy are
// cold). A capture of the loopback traffic (tcpdump, 1,000 messages) showed
// ejabberd writing to a user taken in turn 600 µs later at p50 than to the
// one direct receiver: that was most of the "added" figure, and none of
// it the gateway's.
func (b *bench) receivePath(ctx context.Context, users []idleUser, arrivals <-chan arrival) error {
	n := min(b.opt.messages/2, 1000)
	names := []string{b.user("rp-send"), b.user("rp-recv")}
	for _, u := range names {
		if err := b.admin.Register(ctx, u, b.password); err != nil {
			return err
		}
	}
	snd, err := dialDirect(ctx, b.c2s, b.domain, names[0], b.password)
	if err != nil {
		return err
	}
	defer closeDirect(snd)
	rcv, err := dialDirect(ctx, b.c2s, b.domain, names[1], b.password)
	if err != nil {
		return err
	}
	direct := make(chan arrival, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for st := range rcv.In() {
			if body, ok := directBody(st); ok && strings.HasPrefix(body, "rp ") {
				select {
				case direct <- arrival{body, time.Now()}:
				default:
				}
			}
		}
	}()
	defer func() { closeDirect(rcv); <-done }()

	var gw, dr []time.Duration
	lost := 0
	wait := func(ch <-chan arrival, key string, t0 time.Time) (time.Duration, bool) {
		timer := time.NewTimer(5 * time.Second)
		defer timer.Stop()
		for {
			select {
			case a := <-ch:
				if a.key == key {
					return a.at.Sub(t0), true
				}
			case <-timer.C:
				return 0, false
			case <-ctx.Done():
				return 0, false
			}
		}
	}
	for i := range n + latencyWarmup {
		for _, viaGateway := range []bool{true, false} {
			to, ch := names[1]+"@"+b.domain, (<-chan arrival)(direct)
			if viaGateway {
				to, ch = users[0].name+"@"+b.domain, arrivals
			}
			key := fmt.Sprintf("rp %d %v", i, viaGateway)
			t0 := time.Now()
			if err := snd.SendRaw(ctx, chatStanza(to, fmt.Sprintf("rp%d%v", i, viaGateway), key)); err != nil {
				return err
			}
			d, ok := wait(ch, key, t0)
			switch {
			case !ok:
				lost++
			case i < latencyWarmup:
			case viaGateway:
				gw = append(gw, d)
			default:
				dr = append(dr, d)
			}
		}
	}
	b.res.addLost("receive-path", lost, 0)
	rp := &b.res.ReceivePathUS
	rp.Users, rp.Messages = len(users), n
	rp.ViaGateway, rp.Direct = dist(gw, time.Microsecond), dist(dr, time.Microsecond)
	rp.P50Added = round(rp.ViaGateway.P50-rp.Direct.P50, 1)
	rp.P99Added = round(rp.ViaGateway.P99-rp.Direct.P99, 1)
	return nil
}

// selfStats is this process's RSS, heap in use and goroutines after a GC.
func selfStats() (rss, heap float64, goroutines int) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return procRSS(os.Getpid()), float64(ms.HeapInuse), runtime.NumGoroutine()
}

// idleDirect holds one direct client per user (a second resource of the
// same accounts) in this process and records what each costs.
func (b *bench) idleDirect(ctx context.Context, users []idleUser, run *IdleRun) error {
	n := len(users)
	conns := make([]*xmppconn.Conn, n)
	defer func() {
		_ = forEach(context.Background(), n, 64, func(_ context.Context, i int) error {
			if conns[i] != nil {
				closeDirect(conns[i])
			}
			return nil
		})
	}()
	rss0, heap0, g0 := selfStats()
	if err := forEach(ctx, n, b.opt.workers, func(ctx context.Context, i int) error {
		c, err := dialDirect(ctx, b.c2s, b.domain, users[i].name, b.password)
		conns[i] = c
		return err
	}); err != nil {
		return err
	}
	// Drain what the server sends each new client (its own presence), as
	// the gateway's sessions do.
	_ = forEach(ctx, n, 64, func(ctx context.Context, i int) error {
		for {
			select {
			case <-conns[i].In():
			case <-time.After(200 * time.Millisecond):
				return nil
			}
		}
	})
	waitUntil(ctx, time.Now().Add(2*time.Second))
	rss1, heap1, g1 := selfStats()
	run.DirectRSSKiB = round((rss1-rss0)/1024/float64(n), 1)
	run.DirectHeapKiB = round((heap1-heap0)/1024/float64(n), 1)
	run.DirectGoroutines = round(float64(g1-g0)/float64(n), 2)
	run.RSSRatio = ratio(run.RSSKiBPerUser, run.DirectRSSKiB)
	run.GoroutinesRatio = ratio(run.GoroutinesPerUser, run.DirectGoroutines)
	return nil
}
