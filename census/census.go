// Package census counts what every gateway node holds — XMPP sessions and
// event streams — so that limits set for the whole cluster (-max-sessions,
// -max-streams) hold across nodes. Each node publishes its own counts to
// a NATS JetStream key-value bucket and watches the bucket for the
// others'.
//
// # Staleness
//
// A node publishes every Config.Every (and at once when it starts), so
// another node's count seen here is at most Every plus the time NATS takes
// to pass it on behind the truth: nodes admitting at the same instant may
// together pass a limit by what they admit in that time. A node that dies
// stops publishing; its last count is ignored once it is 3×Every old (the
// bucket's TTL removes the key itself, without telling the watchers).
//
// # Goroutines
//
// Open starts one goroutine that watches, Track one that publishes.
// Close stops both, waits for them and deletes this node's key.
package census

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Config configures a Census. The zero value of a field selects its
// default.
type Config struct {
	// Bucket is the key-value bucket's name. Empty means "sg_census".
	Bucket string
	// Every is how often a node publishes its counts. Zero means 1 s.
	Every time.Duration
	// Node is this node's id, its key in the bucket. Required.
	Node string
}

// counts is what a node publishes.
type counts struct {
	Sessions int `json:"sessions"`
	Streams  int `json:"streams"`
}

// seen is another node's last counts and when they arrived.
type seen struct {
	counts
	at time.Time
}

// Census publishes this node's counts and knows the others'. Its methods
// are safe for concurrent use.
type Census struct {
	cfg     Config
	kv      jetstream.KeyValue
	w       jetstream.KeyWatcher
	unwatch context.CancelFunc

	mu     sync.Mutex
	others map[string]seen // by key

	stop    chan struct{}
	done    chan struct{} // closed when the publisher returns (or at once without Track)
	watched chan struct{} // closed when the watcher's goroutine returns
	once    sync.Once
	run     sync.Once
}

// Open creates the bucket if it does not exist and starts watching it.
// nc stays the caller's.
func Open(ctx context.Context, nc *nats.Conn, cfg Config) (*Census, error) {
	if cfg.Node == "" {
		return nil, errors.New("census: Config.Node is empty")
	}
	if cfg.Bucket == "" {
		cfg.Bucket = "sg_census"
	}
	if cfg.Every == 0 {
		cfg.Every = time.Second
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("census: %w", err)
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: cfg.Bucket, TTL: 3 * cfg.Every, History: 1, Storage: jetstream.MemoryStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("census: bucket %s: %w", cfg.Bucket, err)
	}
	c := &Census{cfg: cfg, kv: kv, others: map[string]seen{}, stop: make(chan struct{}), done: make(chan struct{}), watched: make(chan struct{})}
	// The watch lives as long as the Census, not as Open's ctx.
	wctx, cancel := context.WithCancel(context.Background())
	c.unwatch = cancel
	w, err := kv.WatchAll(wctx)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("census: watch %s: %w", cfg.Bucket, err)
	}
	c.w = w
	go c.watch()
	return c, nil
}

// key is this node's key: the hex of its id (a key may not hold every
// character an id may).
func (c *Census) key() string { return hex.EncodeToString([]byte(c.cfg.Node)) }

// watch takes the other nodes' counts as they come, until the watcher
// stops.
func (c *Census) watch() {
	defer close(c.watched)
	for e := range c.w.Updates() {
		if e == nil || e.Key() == c.key() { // nil: the initial values are in
			continue
		}
		var n counts
		if e.Operation() != jetstream.KeyValuePut {
			c.mu.Lock()
			delete(c.others, e.Key()) // its node closed
			c.mu.Unlock()
			continue
		}
		if json.Unmarshal(e.Value(), &n) != nil {
			continue
		}
		c.mu.Lock()
		c.others[e.Key()] = seen{counts: n, at: time.Now()}
		c.mu.Unlock()
	}
}

// Others returns the sessions and streams the other live nodes hold, as
// they last published them.
func (c *Census) Others() (sessions, streams int) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, s := range c.others {
		if now.Sub(s.at) > 3*c.cfg.Every {
			delete(c.others, k) // its node stopped publishing
			continue
		}
		sessions += s.Sessions
		streams += s.Streams
	}
	return sessions, streams
}

// Live reports whether node (its id) is this node or another node that
// has published within 3×Every, as far as this node has heard: false for
// a node that died (or closed) and for one this node has not heard from
// yet.
func (c *Census) Live(node string) bool {
	if node == c.cfg.Node {
		return true
	}
	k := hex.EncodeToString([]byte(node))
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.others[k]
	return ok && time.Since(s.at) <= 3*c.cfg.Every
}

// Track publishes this node's counts, read from local, now and every
// Config.Every until Close. It is called once; later calls do nothing.
func (c *Census) Track(local func() (sessions, streams int)) {
	c.run.Do(func() {
		go c.publish(local)
	})
}

func (c *Census) publish(local func() (int, int)) {
	defer close(c.done)
	t := time.NewTicker(c.cfg.Every)
	defer t.Stop()
	for {
		var n counts
		n.Sessions, n.Streams = local()
		if v, err := json.Marshal(n); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), c.cfg.Every)
			c.kv.Put(ctx, c.key(), v) // a missed beat is made up by the next
			cancel()
		}
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
	}
}

// Close stops publishing and watching and deletes this node's counts, so
// the others stop counting them at once. It is idempotent.
func (c *Census) Close() error {
	var err error
	c.once.Do(func() {
		close(c.stop)
		c.run.Do(func() { close(c.done) }) // never tracked
		<-c.done
		c.w.Stop()
		c.unwatch()
		<-c.watched
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		err = c.kv.Delete(ctx, c.key())
	})
	return err
}
