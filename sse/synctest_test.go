package sse_test

import (
	"testing"
	"testing/synctest"
)

// synctestTest runs f in a synctest bubble: time is fake and moves only when
// every goroutine in the bubble is blocked, and the test fails if any of the
// bubble's goroutines is left blocked at the end.
func synctestTest(t *testing.T, f func(*testing.T)) { synctest.Test(t, f) }

// synctestWait waits until every other goroutine in the bubble is blocked.
func synctestWait() { synctest.Wait() }
