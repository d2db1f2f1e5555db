package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sparkgate/sparkgate/sse/ssetest"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// pair is one sender/receiver pair of the throughput scenario. The
// window holds a token per message that may be in flight; the receiver
// gives one back for each first arrival.
type pair struct {
	idx    int
	window chan struct{}
	seq    atomic.Int64 // messages handed to the sender
	sent   atomic.Int64 // messages accepted (200 from the gateway, written directly)

	// Touched only by the receiver's goroutine until it has stopped.
	seen map[int64]bool
	dups int
	lat  []time.Duration
}

// tally is what all receivers of one run saw.
type tally struct {
	deadline time.Time
	inWindow atomic.Int64 // first arrivals before the deadline
	total    atomic.Int64 // first arrivals
}

// receive records the arrival of body "tp <pair> <seq> <unixnano>".
func (t *tally) receive(p *pair, body string, at time.Time) {
	f := strings.Fields(body)
	if len(f) != 4 || f[0] != "tp" {
		return
	}
	seq, err1 := strconv.ParseInt(f[2], 10, 64)
	sentAt, err2 := strconv.ParseInt(f[3], 10, 64)
	if err1 != nil || err2 != nil {
		return
	}
	if p.seen[seq] {
		p.dups++
		return
	}
	p.seen[seq] = true
	p.lat = append(p.lat, at.Sub(time.Unix(0, sentAt)))
	t.total.Add(1)
	if at.Before(t.deadline) {
		t.inWindow.Add(1)
	}
	select {
	case p.window <- struct{}{}:
	default:
	}
}

func newPairs(n, window int) []*pair {
	ps := make([]*pair, n)
	for i := range ps {
		ps[i] = &pair{idx: i, window: make(chan struct{}, window), seen: map[int64]bool{}}
		for range window {
			ps[i].window <- struct{}{}
		}
	}
	return ps
}

// nextBody takes a window token (or gives up at stop) and returns the next
// message of p.
func (p *pair) nextBody(stop <-chan struct{}) (string, bool) {
	select {
	case <-p.window:
	case <-stop:
		return "", false
	}
	select {
	case <-stop:
		return "", false
	default:
	}
	seq := p.seq.Add(1)
	return fmt.Sprintf("tp %d %d %d", p.idx, seq, time.Now().UnixNano()), true
}

// throughput measures delivered messages per second with many pairs
// sending at once, each with a window of messages in flight.
func (b *bench) throughput(ctx context.Context) error {
	n := b.opt.pairs
	t := &b.res.ThroughputMsgs
	t.Pairs, t.InFlight, t.Seconds = n, b.opt.inFlight, b.opt.duration.Seconds()
	var names []string
	for i := range n {
		names = append(names, b.user(fmt.Sprintf("tp-s%d", i)), b.user(fmt.Sprintf("tp-r%d", i)))
	}
	if err := forEach(ctx, len(names), 8, func(ctx context.Context, i int) error {
		return b.admin.Register(ctx, names[i], b.password)
	}); err != nil {
		return fmt.Errorf("register: %w", err)
	}

	gwRate, gwN, gwLat, lost, dups, err := b.throughputGateway(ctx, names, func(int) *api { return b.api })
	b.res.addLost("throughput-gateway", lost, dups)
	if err != nil {
		return err
	}
	dRate, dN, dLat, lost, dups, err := b.throughputDirect(ctx, names)
	b.res.addLost("throughput-direct", lost, dups)
	if err != nil {
		return err
	}
	t.Gateway, t.Direct = round(gwRate, 0), round(dRate, 0)
	t.GatewayN, t.DirectN = gwN, dN
	t.Ratio = ratio(gwRate, dRate)
	t.GatewayMs, t.DirectMs = dist(gwLat, time.Millisecond), dist(dLat, time.Millisecond)
	return nil
}

// finish stops the senders, waits for stragglers and
// returns the rate within the window, deliveries, latencies, lost and
// duplicates. stopReceivers must return only once no receiver runs.
func (b *bench) finish(pairs []*pair, tl *tally, stop chan struct{}, senders *sync.WaitGroup, stopReceivers func()) (float64, int, []time.Duration, int, int) {
	close(stop)
	senders.Wait()
	var sent int64
	for _, p := range pairs {
		sent += p.sent.Load()
	}
	// Stragglers: while they keep coming (one at least every 10 s, for a
	// minute at most), a slow delivery is not counted lost.
	last, lastAt, deadline := tl.total.Load(), time.Now(), time.Now().Add(time.Minute)
	for tl.total.Load() < sent && time.Since(lastAt) < 10*time.Second && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		if n := tl.total.Load(); n != last {
			last, lastAt = n, time.Now()
		}
	}
	stopReceivers()
	var lat []time.Duration
	lost, dups := 0, 0
	for _, p := range pairs {
		dups += p.dups
		lat = append(lat, p.lat...)
		for s := int64(1); s <= p.seq.Load(); s++ {
			if !p.seen[s] {
				lost++
			}
		}
	}
	// Messages the gateway refused were never accepted: not lost.
	var handed int64
	for _, p := range pairs {
		handed += p.seq.Load()
	}
	lost -= int(handed - sent)
	lost = max(lost, 0)
	return float64(tl.inWindow.Load()) / b.opt.duration.Seconds(), int(tl.total.Load()), lat, lost, dups
}

// throughputGateway runs the pairs of names (sender, receiver, sender,
// ...) through the gateway: user i logs in, streams and posts on at(i).
func (b *bench) throughputGateway(ctx context.Context, names []string, at func(user int) *api) (float64, int, []time.Duration, int, int, error) {
	n := len(names) / 2
	tokens := make([]string, len(names))
	if err := forEach(ctx, len(names), 8, func(ctx context.Context, i int) error {
		tok, err := at(i).login(ctx, b.clients.forLogin(), names[i], b.password)
		tokens[i] = tok
		return err
	}); err != nil {
		return 0, 0, nil, 0, 0, err
	}
	pairs := newPairs(n, b.opt.inFlight)
	tl := &tally{}
	var streams []*stream
	defer func() {
		for _, s := range streams {
			s.close()
		}
	}()
	for i, p := range pairs {
		s, err := at(2*i+1).open(ctx, b.clients.forUser(2*i+1), tokens[2*i+1], func(ev ssetest.Event, at time.Time) {
			if body, ok := chatBody(ev); ok {
				tl.receive(p, body, at)
			}
			if ev.Name == "chatapi.close" {
				b.streamsClosed.Add(1)
			}
		})
		if err != nil {
			return 0, 0, nil, 0, 0, err
		}
		streams = append(streams, s)
	}
	stop := make(chan struct{})
	var senders sync.WaitGroup
	var failures atomic.Int64
	var firstErr atomic.Value
	tl.deadline = time.Now().Add(b.opt.duration)
	for i, p := range pairs {
		hc, tok, to, a := b.clients.forUser(2*i), tokens[2*i], names[2*i+1], at(2*i)
		for range b.opt.inFlight {
			senders.Add(1)
			go func() {
				defer senders.Done()
				for time.Now().Before(tl.deadline) {
					body, ok := p.nextBody(stop)
					if !ok {
						return
					}
					rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
					err := a.post(rctx, hc, tok, to, body)
					cancel()
					if err != nil {
						failures.Add(1)
						firstErr.CompareAndSwap(nil, err.Error())
						p.window <- struct{}{}
						continue
					}
					p.sent.Add(1)
				}
			}()
		}
	}
	waitUntil(ctx, tl.deadline)
	rate, got, lat, lost, dups := b.finish(pairs, tl, stop, &senders, func() {
		for _, s := range streams {
			s.close()
		}
		streams = nil
	})
	if f := failures.Load(); f > 0 {
		b.res.Errors = append(b.res.Errors, fmt.Sprintf("throughput-gateway: %d posts failed, first: %v", f, firstErr.Load()))
	}
	return rate, got, lat, lost, dups, nil
}

func (b *bench) throughputDirect(ctx context.Context, names []string) (float64, int, []time.Duration, int, int, error) {
	n := len(names) / 2
	conns := make([]*xmppconn.Conn, len(names))
	defer func() {
		var wg sync.WaitGroup
		for _, c := range conns {
			if c != nil {
				wg.Go(func() { closeDirect(c) })
			}
		}
		wg.Wait()
	}()
	if err := forEach(ctx, len(names), 8, func(ctx context.Context, i int) error {
		c, err := dialDirect(ctx, b.c2s, b.domain, names[i], b.password)
		conns[i] = c
		return err
	}); err != nil {
		return 0, 0, nil, 0, 0, err
	}
	pairs := newPairs(n, b.opt.inFlight)
	tl := &tally{}
	var receivers sync.WaitGroup
	quit := make(chan struct{})
	for i, p := range pairs {
		r := conns[2*i+1]
		receivers.Go(func() {
			for {
				select {
				case st, ok := <-r.In():
					if !ok {
						return
					}
					if body, ok := directBody(st); ok {
						tl.receive(p, body, time.Now())
					}
				case <-quit:
					return
				}
			}
		})
	}
	stop := make(chan struct{})
	var senders sync.WaitGroup
	tl.deadline = time.Now().Add(b.opt.duration)
	for i, p := range pairs {
		c, to := conns[2*i], names[2*i+1]+"@"+b.domain
		senders.Go(func() {
			for time.Now().Before(tl.deadline) {
				body, ok := p.nextBody(stop)
				if !ok {
					return
				}
				if err := c.SendRaw(ctx, chatStanza(to, "t"+strconv.FormatInt(p.seq.Load(), 10), body)); err != nil {
					return
				}
				p.sent.Add(1)
			}
		})
	}
	waitUntil(ctx, tl.deadline)
	rate, got, lat, lost, dups := b.finish(pairs, tl, stop, &senders, func() {
		close(quit)
		receivers.Wait()
	})
	return rate, got, lat, lost, dups, nil
}

// waitUntil sleeps until t or ctx's end.
func waitUntil(ctx context.Context, t time.Time) {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
}
