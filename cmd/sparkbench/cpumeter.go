package main

import (
	"os"
	"time"
)

// cpuMeter reads the CPU time the gateway, ejabberd and the harness (this
// process) have used, at the start and the end of a run of posts.
//
// Why: the room row is a CPU budget on a small machine. A post to a room
// of 500 costs ejabberd some 30 ms of CPU (it writes 500 copies), and the
// gateway reads, translates and writes each copy again, while the harness
// reads 500 streams; on 2 cores those add up to the post's time to its
// last member. Each side's split says which process spent what, so a
// ratio is read together with the budget it came from.
type cpuMeter struct {
	pids  [3]int // gateway, ejabberd, harness; 0 when not ours to read
	start [3]time.Duration
}

// meterPosts starts a cpuMeter; a process the bench did not start (a
// gateway or ejabberd it was pointed at) is not read.
func (b *bench) meterPosts() *cpuMeter {
	m := &cpuMeter{pids: [3]int{0, 0, os.Getpid()}}
	if b.gw != nil {
		m.pids[0] = b.gw.pid()
	}
	if b.ej != nil {
		m.pids[1] = b.ej.PID()
	}
	for i, pid := range m.pids {
		if pid > 0 {
			m.start[i] = procCPU(pid)
		}
	}
	return m
}

// perPost returns the CPU each process used since the meter started,
// divided by posts, in ms; nil for no posts. A process not read is 0.
func (m *cpuMeter) perPost(posts int) *RoomCPU {
	if m == nil || posts <= 0 {
		return nil
	}
	var ms [3]float64
	for i, pid := range m.pids {
		if pid > 0 {
			spent := procCPU(pid) - m.start[i]
			ms[i] = round(float64(spent)/float64(time.Millisecond)/float64(posts), 1)
		}
	}
	return &RoomCPU{Gateway: ms[0], Ejabberd: ms[1], Harness: ms[2]}
}
