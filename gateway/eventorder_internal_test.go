package gateway

import (
	"sync"
	"testing"
)

// TestAppendOrder: one user's turns never overlap, other users' do not
// wait for them, and the map forgets a user once the last turn ends.
func TestAppendOrder(t *testing.T) {
	var o appendOrder
	var mu sync.Mutex
	inside := map[string]int{}
	var wg sync.WaitGroup
	for i := range 64 {
		user := []string{"a@x", "b@x"}[i%2]
		wg.Go(func() {
			unlock := o.lock(user)
			mu.Lock()
			inside[user]++
			if inside[user] > 1 {
				t.Errorf("two turns of %s at once", user)
			}
			mu.Unlock()
			mu.Lock()
			inside[user]--
			mu.Unlock()
			unlock()
		})
	}
	// Another user's turn is not held up by a held one.
	unlockA := o.lock("a@x")
	done := make(chan struct{})
	go func() { o.lock("c@x")(); close(done) }()
	<-done
	unlockA()
	wg.Wait()
	if n := len(o.users); n != 0 {
		t.Errorf("%d users left in the map after every turn ended", n)
	}
}
