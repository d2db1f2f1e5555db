package xmppconn

import (
	"strconv"
	"testing"
)

func TestIDSet(t *testing.T) {
	s := newIDSet(3)
	for i, id := range []string{"a", "b", "c"} {
		if !s.add(id) {
			t.Fatalf("add %d (%s): not new", i, id)
		}
	}
	if s.add("b") {
		t.Fatal("b added twice")
	}
	s.add("d") // evicts a
	if !s.add("a") {
		t.Fatal("a still remembered after eviction")
	}
	if s.add("d") {
		t.Fatal("d forgotten too early")
	}
	// Many more ids than the bound: the set stays bounded.
	big := newIDSet(100)
	for i := range 100000 {
		big.add(strconv.Itoa(i))
	}
	if len(big.set) != 100 || len(big.order) != 100 || cap(big.order) > 1000 {
		t.Fatalf("set %d, order %d (cap %d); want 100 each", len(big.set), len(big.order), cap(big.order))
	}
}

// BenchmarkNewSessionState measures what an idle session's bookkeeping
// costs before any message: it must stay small (a map sized for thousands
// of ids once made every idle user cost ~250 KiB).
func BenchmarkNewSessionState(b *testing.B) {
	b.ReportAllocs()
	for range b.N {
		_ = newIDSet(4096)
	}
}
