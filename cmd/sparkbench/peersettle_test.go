package main

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"
)

// TestSettle feeds settle the CPU readings of processes that work for a
// while, then go quiet: it waits until one window grows by at most
// settleCPU, stops at settleLimit when they never do, and stops when its
// context ends.
func TestSettle(t *testing.T) {
	ms := time.Millisecond
	busy := make([]time.Duration, 200) // 100 ms more in every window
	for i := range busy {
		busy[i] = time.Duration(i) * 100 * ms
	}
	for i, c := range []struct {
		cpu       []time.Duration // readings, one per window (the first before any)
		cancelled bool
		want      int
	}{
		{cpu: []time.Duration{0, 0}, want: 1},                                    // quiet at once
		{cpu: []time.Duration{0, settleCPU}, want: 1},                            // at the bound
		{cpu: []time.Duration{0, settleCPU + 10*ms, settleCPU + 10*ms}, want: 2}, // one busy window
		{cpu: []time.Duration{0, 300 * ms, 600 * ms, 610 * ms}, want: 3},         // ejabberd's backlog
		{cpu: busy, want: int(settleLimit / settleWindow)},                       // never quiet
		{cpu: busy, cancelled: true, want: 1},
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			next := 0
			cpu := func() time.Duration {
				v := c.cpu[min(next, len(c.cpu)-1)]
				next++
				return v
			}
			waits := 0
			wait := func(ctx context.Context, d time.Duration) bool {
				if d != settleWindow {
					t.Errorf("waited %v, want %v", d, settleWindow)
				}
				waits++
				return !c.cancelled
			}
			if got := settle(context.Background(), cpu, wait); got != c.want || waits != c.want {
				t.Errorf("settle = %d after %d waits, want %d", got, waits, c.want)
			}
		})
	}
}

// TestCPUOfAll adds up the processes it is given, and nothing for a pid
// of 0 or of no process.
func TestCPUOfAll(t *testing.T) {
	if got := cpuOfAll([]int{0, -1}); got != 0 {
		t.Errorf("cpuOfAll of no process = %v, want 0", got)
	}
	self := procCPU(os.Getpid())
	if got := cpuOfAll([]int{os.Getpid(), 0, os.Getpid()}); got < 2*self {
		t.Errorf("cpuOfAll(self, 0, self) = %v, below twice procCPU(self) %v read before", got, self)
	}
}
