package linkpreview

import (
	"strconv"
	"testing"
	"time"
)

func TestCacheBound(t *testing.T) {
	c := newCache(time.Hour, 8)
	for i := range 100 {
		key := strconv.Itoa(i)
		c.put(key, Preview{Title: key})
		if len(c.entries) > 8 {
			t.Fatalf("cache holds %d previews, limit 8", len(c.entries))
		}
	}
	if p, ok := c.get("99"); !ok || p.Title != "99" {
		t.Fatalf("get(newest) = %+v, %v; want it kept", p, ok)
	}
}

func TestCacheExpiredGoFirst(t *testing.T) {
	c := newCache(time.Hour, 3)
	c.put("fresh", Preview{})
	c.entries["old1"] = cached{expires: time.Now().Add(-time.Second)}
	c.entries["old2"] = cached{expires: time.Now().Add(-time.Second)}
	if _, ok := c.get("old1"); ok {
		t.Fatal("get returned an expired preview")
	}
	c.put("new", Preview{})
	if _, ok := c.get("fresh"); !ok {
		t.Fatal("making room dropped a fresh preview while expired ones were there")
	}
	if len(c.entries) != 2 {
		t.Fatalf("cache holds %d previews, want fresh and new", len(c.entries))
	}
}

func TestCacheOff(t *testing.T) {
	c := newCache(-1, 8)
	c.put("k", Preview{Title: "t"})
	if _, ok := c.get("k"); ok || len(c.entries) != 0 {
		t.Fatal("a disabled cache kept a preview")
	}
}
