package main

import (
	"testing"
	"time"
)

func TestCPUMeter(t *testing.T) {
	var none *cpuMeter
	if got := none.perPost(10); got != nil {
		t.Errorf("a nil meter gave %+v, want nil", got)
	}
	b := &bench{} // neither a gateway nor an ejabberd of its own
	m := b.meterPosts()
	if got := m.perPost(0); got != nil {
		t.Errorf("no posts gave %+v, want nil", got)
	}
	// Spend at least 200 ms of this process's CPU (the clock ticks are
	// 10 ms), then ask for it per post over 4 posts.
	start := procCPU(m.pids[2])
	x := uint64(1)
	for procCPU(m.pids[2])-start < 200*time.Millisecond {
		for range 1 << 16 {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	got := m.perPost(4)
	if got == nil {
		t.Fatal("perPost(4) = nil")
	}
	if got.Harness < 50 || got.Harness > 5000 {
		t.Errorf("harness CPU per post = %v ms after 200 ms or more over 4 posts, want 50 or more (and sane)", got.Harness)
	}
	if got.Gateway != 0 || got.Ejabberd != 0 {
		t.Errorf("processes the bench did not start were read: %+v", got)
	}
	if x == 0 {
		t.Log(x) // keep the loop
	}
}
