package linkpreview

import (
	"sync"
	"time"
)

// cache keeps previews for ttl, at most size of them (see the package
// doc). A negative ttl keeps nothing. It is safe for concurrent use.
type cache struct {
	ttl  time.Duration
	size int

	mu      sync.Mutex
	entries map[string]cached // guarded by mu
}

type cached struct {
	p       Preview
	expires time.Time
}

func newCache(ttl time.Duration, size int) *cache {
	return &cache{ttl: ttl, size: size, entries: make(map[string]cached)}
}

// get returns the preview kept under key, if it has not expired.
func (c *cache) get(key string) (Preview, bool) {
	if c.ttl < 0 {
		return Preview{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || time.Now().After(e.expires) {
		return Preview{}, false
	}
	return e.p, true
}

// put keeps p under key, making room first when the cache is full.
func (c *cache) put(key string, p Preview) {
	if c.ttl < 0 {
		return
	}
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.size {
		c.shrinkLocked(now)
	}
	c.entries[key] = cached{p: p, expires: now.Add(c.ttl)}
}

// shrinkLocked drops the expired entries, then arbitrary ones (map order
// is random) until one more fits. c.mu must be held.
func (c *cache) shrinkLocked(now time.Time) {
	for k, e := range c.entries {
		if now.After(e.expires) {
			delete(c.entries, k)
		}
	}
	for k := range c.entries {
		if len(c.entries) < c.size {
			return
		}
		delete(c.entries, k)
	}
}
