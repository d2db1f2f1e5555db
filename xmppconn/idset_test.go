package xmppconn

import (
	"runtime"
	"strconv"
	"testing"
	"unsafe"
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
	if len(big.set) != 100 || len(big.ring) != 100 || cap(big.ring) > 1000 {
		t.Fatalf("set %d, ring %d (cap %d); want 100 each", len(big.set), len(big.ring), cap(big.ring))
	}
	for i := 100000 - 100; i < 100000; i++ {
		if big.add(strconv.Itoa(i)) {
			t.Fatalf("%d, among the last 100, forgotten", i)
		}
	}
}

// TestIDSetKeepsNoStrings: the set keeps none of the ids it saw, so an id
// cut from a stanza's string chunk does not keep the chunk alive (4,096
// of them held about a megabyte).
func TestIDSetKeepsNoStrings(t *testing.T) {
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	s := newIDSet(4096)
	for i := range 4096 {
		chunk := make([]byte, 256) // as xmlstrings.go cuts a stanza's strings
		copy(chunk, "stanza-id-"+strconv.Itoa(i))
		s.add(unsafe.String(&chunk[0], 16))
	}
	kept := int64(heap()) - int64(before)
	runtime.KeepAlive(s)
	t.Logf("a full set of 4,096 ids: %d KiB", kept>>10)
	if kept > 512<<10 {
		t.Errorf("a full set holds %d KiB; want well under the 1 MiB of its ids' chunks", kept>>10)
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
