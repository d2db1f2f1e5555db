package main

import (
	"context"
	"time"
)

// The peers scenario runs its servers in turn, and each run should find
// the machine as the previous one found it. The gateway's runs do not
// leave it so: every post of a run is archived by ejabberd (MAM in SQLite,
// and the offline store of the recipient, who has no session), which
// falls behind the gateway and keeps writing for seconds after the run
// has ended — 10 to 15 s of a third of a core in a quick run at load 15,
// through the next server's whole run (a quick throughput run lasts 2 s).
// So whichever server came after the gateway was measured sharing the
// cores with ejabberd's backlog: the same hub measured 136,793 events/s
// in one round and 69,502 in another right after the gateway.
//
// Before each run the scenario therefore waits until ejabberd and every
// server it measures have been quiet together for one settle window.

const (
	// settleWindow is how long the processes must stay quiet.
	settleWindow = 300 * time.Millisecond
	// settleCPU is the CPU time they may use together in a quiet window:
	// two ticks of /proc's 10 ms clock, for the servers' own timers and
	// ejabberd's housekeeping.
	settleCPU = 20 * time.Millisecond
	// settleLimit bounds the wait, so a server that never goes quiet
	// (busy with someone else's work) delays the run, not the whole bench.
	settleLimit = 30 * time.Second
)

// settle waits until the CPU time cpu reports grows by at most settleCPU
// in one settleWindow, or until settleLimit has passed or ctx ends; wait
// sleeps one window and reports false when ctx ended. It returns how many
// windows it waited.
func settle(ctx context.Context, cpu func() time.Duration, wait func(context.Context, time.Duration) bool) int {
	prev := cpu()
	for n := 1; ; n++ {
		if !wait(ctx, settleWindow) {
			return n
		}
		now := cpu()
		if now-prev <= settleCPU || time.Duration(n)*settleWindow >= settleLimit {
			return n
		}
		prev = now
	}
}

// sleepCtx sleeps d, or less when ctx ends first (then false).
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// cpuOfAll is the CPU time the processes pids have used together (a pid
// of 0, or of a process gone, counts nothing).
func cpuOfAll(pids []int) time.Duration {
	var sum time.Duration
	for _, pid := range pids {
		if pid > 0 {
			sum += procCPU(pid)
		}
	}
	return sum
}

// quietFor waits until the processes pids have gone quiet together
// (settle), logging the wait before what when it took more than one
// window, and returns how many seconds it waited.
func (b *bench) quietFor(ctx context.Context, pids []int, what string) float64 {
	n := settle(ctx, func() time.Duration { return cpuOfAll(pids) }, sleepCtx)
	waited := (time.Duration(n) * settleWindow).Seconds()
	if n > 1 {
		b.log.Info("waited for the machine to settle", "before", what, "seconds", waited)
	}
	return waited
}

// settleBefore waits, before a scenario, until ejabberd and the gateway
// have gone quiet (quietFor). A scenario leaves work behind it: the big
// room's thousand connections and their room, torn down after its
// figures are taken, kept ejabberd busy into the tabs scenario that came
// next, whose last-tab p50 was 39 ms in a full run and 16 to 20 ms run
// alone.
func (b *bench) settleBefore(ctx context.Context, name string) {
	var pids []int
	if b.ej != nil {
		pids = append(pids, b.ej.PID())
	}
	if b.gw != nil {
		pids = append(pids, b.gw.pid())
	}
	if len(pids) == 0 {
		return
	}
	if b.res.Machine.SettledS == nil {
		b.res.Machine.SettledS = map[string]float64{}
	}
	b.res.Machine.SettledS[name] = b.quietFor(ctx, pids, name)
}

// xmppServerCPU starts counting ejabberd's CPU time for a throughput run
// of target t, when t is the gateway end to end (whose publishes ejabberd
// routes and archives) and ejabberd is the bench's; otherwise it returns
// nil. The function it returns waits until ejabberd has gone quiet after
// the run (it archives for seconds after the publishers stop) and returns
// the CPU time ejabberd used since the start.
func (b *bench) xmppServerCPU(t *sseTarget) func(context.Context) time.Duration {
	if t.name != targetGateway || b.ej == nil {
		return nil
	}
	pid := b.ej.PID()
	cpu0 := procCPU(pid)
	return func(ctx context.Context) time.Duration {
		b.quietFor(ctx, []int{pid}, "peers: ejabberd after the gateway's throughput run")
		return procCPU(pid) - cpu0
	}
}
