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
