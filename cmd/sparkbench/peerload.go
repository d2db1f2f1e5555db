package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sparkgate/sparkgate/sse/ssetest"
)

// One harness for every server the peers scenario measures: N
// EventSource-like readers, publishes numbered by a marker in the event's
// data ("pk <n>"), latency from the start of the publish request to the
// event parsed on a stream. The readers run in the bench's process on the
// same cores as the server: they parse each event once and look for the
// marker without a JSON decoder.

// sseTarget is one server as the harness sees it.
type sseTarget struct {
	name string
	// pid is the process whose RSS and CPU count.
	pid int
	// open opens stream i and returns once the server has registered it;
	// on gets the number of each marked event with the time it was parsed.
	open func(ctx context.Context, i int, on func(n int, at time.Time)) (*stream, error)
	// publish publishes the event numbered n through publisher p.
	publish func(ctx context.Context, p, n int) error
	// ended counts streams the server ended while the bench held them.
	ended atomic.Int64
}

// peerPayload is the data every peer and the hub alone publish: about the
// size of the chatapi.chat event of a short message, with the marker as
// its body.
func peerPayload(n int) string {
	const pad = "................................................................................................................................"
	return `{"type":"chat","from":"pk-user@localhost/bench","to":"pk-other@localhost","body":"pk ` + strconv.Itoa(n) + `","pad":"` + pad + `"}`
}

// markerSeq returns n of the first `"pk <n>"` in data.
func markerSeq(data string) (int, bool) {
	i := strings.Index(data, `"pk `)
	if i < 0 {
		return 0, false
	}
	rest := data[i+4:]
	j := strings.IndexByte(rest, '"')
	if j <= 0 {
		return 0, false
	}
	n, err := strconv.Atoi(rest[:j])
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// openEvents sends req through hc and, once the response is 200 and
// ready (nil: none) has read what the server sends first, reads every
// later event on its own goroutine and passes it to on. A close event
// (chatapi.close) of the gateway or the hub counts in ended.
func openEvents(ctx context.Context, hc *http.Client, req *http.Request, ready func(*ssetest.Reader) error, ended *atomic.Int64, on func(ev ssetest.Event, at time.Time)) (*stream, error) {
	sctx, cancel := context.WithCancel(context.Background())
	req = req.WithContext(sctx)
	stop := context.AfterFunc(ctx, cancel) // give up the open with ctx
	defer stop()
	resp, err := hc.Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("open stream: %d %s", resp.StatusCode, b)
	}
	rd := ssetest.NewReader(bufio.NewReaderSize(resp.Body, 1024))
	if ready != nil {
		if err := ready(rd); err != nil {
			resp.Body.Close()
			cancel()
			return nil, fmt.Errorf("open stream: %w", err)
		}
	}
	s := &stream{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer resp.Body.Close()
		for {
			ev, err := rd.Next()
			if err != nil {
				if sctx.Err() == nil && ended != nil {
					ended.Add(1)
				}
				return
			}
			if ev.Name == "chatapi.close" && ended != nil {
				ended.Add(1)
				continue
			}
			on(ev, time.Now())
		}
	}()
	return s, nil
}

// firstEvent is a ready check: the server's first event has the name
// want ("" for any).
func firstEvent(want string) func(*ssetest.Reader) error {
	return func(rd *ssetest.Reader) error {
		ev, err := rd.Next()
		if err != nil {
			return err
		}
		if want != "" && ev.Name != want {
			return fmt.Errorf("first event %q, want %q", ev.Name, want)
		}
		return nil
	}
}

// openMarked is openEvents for the harness: on gets each marked event.
func openMarked(ctx context.Context, t *sseTarget, hc *http.Client, req *http.Request, ready func(*ssetest.Reader) error, on func(n int, at time.Time)) (*stream, error) {
	return openEvents(ctx, hc, req, ready, &t.ended, func(ev ssetest.Event, at time.Time) {
		if n, ok := markerSeq(ev.Data); ok {
			on(n, at)
		}
	})
}

// openAll opens n streams of t with a few opens in flight; on failure it
// closes those it opened.
func openAll(ctx context.Context, t *sseTarget, n int, on func(i, seq int, at time.Time)) ([]*stream, error) {
	sts := make([]*stream, n)
	err := forEach(ctx, n, 8, func(ctx context.Context, i int) error {
		s, err := t.open(ctx, i, func(seq int, at time.Time) { on(i, seq, at) })
		sts[i] = s
		return err
	})
	if err != nil {
		closeAll(sts)
		return nil, err
	}
	return sts, nil
}

func closeAll(sts []*stream) {
	var wg sync.WaitGroup
	for _, s := range sts {
		if s != nil {
			wg.Go(s.close)
		}
	}
	wg.Wait()
}

// postArrivals is what the streams saw of one fan-out post.
type postArrivals struct {
	got   atomic.Int64
	first atomic.Int64 // unix nanoseconds of the earliest arrival
	last  atomic.Int64 // and of the latest
}

func (p *postArrivals) add(at time.Time) {
	ns := at.UnixNano()
	p.got.Add(1)
	p.first.CompareAndSwap(0, ns) // the first reader to count it; close enough
	for {
		old := p.last.Load()
		if ns <= old || p.last.CompareAndSwap(old, ns) {
			return
		}
	}
}

// idleFanoutRun is one run of the idle and fan-out scenarios on a target.
type idleFanoutRun struct {
	idleKiB     float64 // RSS added per open stream
	last, first []time.Duration
	lost, dups  int
}

// idleFanout opens streams streams, reads what they added to the server's
// RSS once it has settled, then publishes posts events one at a time, each
// when every stream has the previous one (or after 10 s), timing publish
// → first and last stream.
func idleFanout(ctx context.Context, t *sseTarget, streams, posts, base int) (idleFanoutRun, error) {
	var run idleFanoutRun
	res := make([]postArrivals, posts)
	seen := make([]bitset, streams) // each touched by its stream's reader only
	var dups, events atomic.Int64
	rss0 := procRSS(t.pid)
	sts, err := openAll(ctx, t, streams, func(i, n int, at time.Time) {
		events.Add(1)
		k := n - base
		if k < 0 || k >= posts {
			return
		}
		if seen[i].testAndSet(k) {
			dups.Add(1)
			return
		}
		res[k].add(at)
	})
	if err != nil {
		return run, err
	}
	defer closeAll(sts)
	time.Sleep(time.Second) // let the server finish what the opens started
	if rss1 := procRSS(t.pid); rss0 > 0 && rss1 > 0 {
		run.idleKiB = round((rss1-rss0)/1024/float64(streams), 1)
	}
	for k := range posts {
		t0 := time.Now()
		if err := t.publish(ctx, 0, base+k); err != nil {
			return run, fmt.Errorf("publish: %w", err)
		}
		deadline := t0.Add(10 * time.Second)
		for res[k].got.Load() < int64(streams) && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(100 * time.Microsecond)
		}
		if res[k].got.Load() == int64(streams) {
			run.last = append(run.last, time.Unix(0, res[k].last.Load()).Sub(t0))
			run.first = append(run.first, time.Unix(0, res[k].first.Load()).Sub(t0))
		}
	}
	quiet(ctx, &events, 300*time.Millisecond, 5*time.Second)
	for k := range res {
		run.lost += streams - int(res[k].got.Load())
	}
	run.dups = int(dups.Load())
	return run, nil
}

// rateRun is one run of the throughput scenario on a target.
type rateRun struct {
	deliveredPerSec, publishesPerSec, perCPUSec float64
	latency                                     []time.Duration // 1 in rateSample events, every stream
	lost, dups                                  int
	published                                   int64
}

// rateSample: one event in this many is timed on every stream.
const rateSample = 16

// rateWindow bounds how far the publishers may run ahead of the average
// stream, in events: a server that accepts publishes faster than its
// streams deliver them would otherwise only be measured cutting them.
const rateWindow = 256

// rate opens streams streams and lets publishers publishers publish as
// fast as each one's requests return for d, counting the events the
// streams parse during d.
func rate(ctx context.Context, t *sseTarget, streams, publishers int, d time.Duration, base int) (rateRun, error) {
	var run rateRun
	seen := make([]bitset, streams)
	lat := make([][]time.Duration, streams)
	var sentAt sync.Map // n → time.Time, sampled events only
	var delivered, inWindow, dups atomic.Int64
	var windowOn atomic.Bool
	sts, err := openAll(ctx, t, streams, func(i, n int, at time.Time) {
		k := n - base
		if k < 0 {
			return
		}
		if seen[i].testAndSet(k) {
			dups.Add(1)
			return
		}
		delivered.Add(1)
		if windowOn.Load() {
			inWindow.Add(1)
		}
		if k%rateSample == 0 {
			if t0, ok := sentAt.Load(k); ok {
				lat[i] = append(lat[i], at.Sub(t0.(time.Time)))
			}
		}
	})
	if err != nil {
		return run, err
	}
	defer closeAll(sts)
	var next, published atomic.Int64
	cpu0 := procCPU(t.pid)
	windowOn.Store(true)
	start := time.Now()
	end := start.Add(d)
	var wg sync.WaitGroup
	var pubErr atomic.Value
	for p := range publishers {
		wg.Go(func() {
			for time.Now().Before(end) && ctx.Err() == nil {
				if published.Load()-delivered.Load()/int64(streams) >= rateWindow {
					time.Sleep(100 * time.Microsecond)
					continue
				}
				k := int(next.Add(1) - 1)
				if k%rateSample == 0 {
					sentAt.Store(k, time.Now())
				}
				if err := t.publish(ctx, p, base+k); err != nil {
					pubErr.CompareAndSwap(nil, err.Error())
					return
				}
				published.Add(1)
			}
		})
	}
	wg.Wait()
	windowOn.Store(false)
	elapsed := time.Since(start)
	quiet(ctx, &delivered, 500*time.Millisecond, 10*time.Second)
	cpu := procCPU(t.pid) - cpu0
	if e := pubErr.Load(); e != nil && published.Load() == 0 {
		return run, fmt.Errorf("publish: %s", e)
	}
	run.deliveredPerSec = round(float64(inWindow.Load())/elapsed.Seconds(), 0)
	run.publishesPerSec = round(float64(published.Load())/elapsed.Seconds(), 0)
	if cpu > 0 {
		run.perCPUSec = round(float64(delivered.Load())/cpu.Seconds(), 0)
	}
	run.published = published.Load()
	run.lost = int(published.Load()*int64(streams) - delivered.Load())
	run.dups = int(dups.Load())
	// The streams' goroutines append to lat: they end before it is read
	// (closing twice, here and deferred, is harmless).
	closeAll(sts)
	for _, l := range lat {
		run.latency = append(run.latency, l...)
	}
	return run, nil
}

// bitset is a growable set of small non-negative integers.
type bitset []uint64

// testAndSet adds k and reports whether it was there already.
func (b *bitset) testAndSet(k int) bool {
	w, bit := k/64, uint64(1)<<(k%64)
	for len(*b) <= w {
		*b = append(*b, 0)
	}
	was := (*b)[w]&bit != 0
	(*b)[w] |= bit
	return was
}
