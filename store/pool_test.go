package store_test

import (
	"fmt"
	"os"
	"sync"
	"testing"
	"time"
)

// TestBurstLeavesNoFiles: a burst of concurrent requests must not leave
// open files behind. Before the pool was bounded, each burst opened a
// connection per request and SQLite kept the file of every one it closed.
func TestBurstLeavesNoFiles(t *testing.T) {
	fds := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Skip("no /proc/self/fd:", err)
		}
		return len(ents)
	}
	s, _ := newStore(t)
	ctx := t.Context()
	before := fds()
	for round := range 3 {
		var wg sync.WaitGroup
		for i := range 100 {
			wg.Go(func() {
				if i%2 == 0 {
					if _, err := s.RevokeToken(ctx, fmt.Sprintf("burst-%d-%d", round, i), time.Now().Add(time.Hour)); err != nil {
						t.Error(err)
					}
					return
				}
				if err := s.Ping(ctx); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	// The pool's connections, each with the database and its journal,
	// and the shared-memory index: well under one file per request.
	after := fds()
	t.Logf("open files: %d before, %d after", before, after)
	if after > before+20 {
		t.Errorf("%d open files after three bursts of 100 requests, %d before", after, before)
	}
}
