package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Peers is the peers scenario's (issue 21): the SSE layer beside Mercure
// and Centrifugo in the same run, with the same harness (peerload.go) and
// the same three scenarios — idle streams, fan-out of one post to every
// stream, and many publishers to fewer streams — alternating between the
// servers round by round. The gateway is measured twice: end to end
// (a REST post whose sent copy reaches the user's tabs) and as the SSE
// hub alone (ssehub.go), to compare the layer itself.
type Peers struct {
	// Time and Command say which run wrote the section: -only peers
	// writes it into a file whose other sections an earlier run wrote.
	Time    string `json:"time"`
	Command string `json:"command"`
	Quick   bool   `json:"quick"`
	Load    string `json:"loadavg"` // at the start and the end of the scenario
	Streams int    `json:"streams"` // of the idle and fan-out runs
	Posts   int    `json:"posts"`   // of each fan-out run
	// RateStreams streams, Publishers publishers, Seconds each run.
	RateStreams  int     `json:"rate_streams"`
	Publishers   int     `json:"publishers"`
	Seconds      float64 `json:"seconds"`
	Rounds       int     `json:"rounds"`
	PayloadBytes int     `json:"payload_bytes"`
	// SettleMax is the longest wait, in seconds, for ejabberd and the
	// servers to go quiet before a run (peersettle.go).
	SettleMax float64      `json:"settle_max_s"`
	Targets   []PeerTarget `json:"targets"`
	// Ratios compare each of the gateway's two paths with the best peer
	// of each measure.
	Ratios []PeerRatios `json:"ratios"`
	Note   string       `json:"note"`
}

// PeerTarget is what one server measured, over every round.
type PeerTarget struct {
	Name string `json:"name"`
	// Peer is true for Mercure and Centrifugo, false for the gateway's
	// two paths.
	Peer        bool   `json:"peer"`
	What        string `json:"what"`
	NotMeasured string `json:"not_measured,omitempty"`

	// IdleKiBPerStream is the server's RSS added per open idle stream,
	// the largest of the rounds' (IdleRuns): a later round reuses memory
	// the first one freed, which RSS does not see.
	IdleKiBPerStream float64   `json:"idle_rss_kib_per_stream"`
	IdleRuns         []float64 `json:"idle_rss_kib_per_stream_runs,omitempty"`
	// FanoutLast is publish → the last stream's event, FanoutFirst →
	// the first's, every round's posts together; FanoutLastQ is the
	// former's quantiles (quantiles()).
	FanoutLast  Dist      `json:"fanout_last_ms"`
	FanoutFirst Dist      `json:"fanout_first_ms"`
	FanoutLastQ []float64 `json:"fanout_last_ms_q,omitempty"`
	// DeliveredPerSec is events parsed by all streams per second while
	// the publishers ran, the mean of the rounds' (DeliveredRuns).
	DeliveredPerSec    float64   `json:"delivered_per_s"`
	DeliveredRuns      []float64 `json:"delivered_per_s_runs,omitempty"`
	PublishesPerSec    float64   `json:"publishes_per_s"`
	DeliveredPerCPUSec float64   `json:"delivered_per_cpu_s"`
	// XMPPServerCPUPerPublish, for the gateway end to end only, is
	// ejabberd's CPU time per publish in the throughput runs, in µs: each
	// publish is a chat message ejabberd routes to the recipient and
	// archives twice (MAM, both users), on the same cores. Counted from a
	// run's start until ejabberd has gone quiet after it, since it
	// archives for seconds after the publishers stop; the mean of the
	// rounds'. What it takes of the cores bounds the end-to-end rate.
	XMPPServerCPUPerPublish float64 `json:"xmpp_server_cpu_us_per_publish,omitempty"`
	// Delivery is publish → each stream's event in the throughput runs,
	// one event in rateSample timed on every stream.
	Delivery  Dist      `json:"delivery_ms"`
	DeliveryQ []float64 `json:"delivery_ms_q,omitempty"`
	// Lost and Duplicates count events over every run; Ended counts
	// streams the server ended.
	Lost       int `json:"lost"`
	Duplicates int `json:"duplicates"`
	Ended      int `json:"streams_ended"`
}

// PeerRatios are one gateway path's figures over the best peer's.
type PeerRatios struct {
	Target     string  `json:"target"`
	Throughput RatioTo `json:"delivered_per_s"`
	FanoutP99  RatioTo `json:"fanout_last_p99"`
	IdleRSS    RatioTo `json:"idle_rss_per_stream"`
}

// RatioTo is a figure over the best peer's figure of the same measure.
type RatioTo struct {
	Figure float64 `json:"figure"`
	Peer   string  `json:"best_peer,omitempty"`
	Best   float64 `json:"best_peer_figure,omitempty"`
	Ratio  float64 `json:"ratio,omitempty"`
}

// ratioToBest compares figure with the best of the peers' figures: the
// highest when higherBetter, else the lowest. Peers without a figure
// (0) do not compete; with none left, only the figure is kept.
func ratioToBest(figure float64, peers map[string]float64, higherBetter bool) RatioTo {
	r := RatioTo{Figure: figure}
	for _, name := range slices.Sorted(maps.Keys(peers)) {
		v := peers[name]
		if v <= 0 {
			continue
		}
		if r.Peer == "" || (higherBetter && v > r.Best) || (!higherBetter && v < r.Best) {
			r.Peer, r.Best = name, v
		}
	}
	r.Ratio = ratio(figure, r.Best)
	return r
}

// peerRatios computes the ratios of the gateway's paths in p.Targets.
func peerRatios(targets []PeerTarget) []PeerRatios {
	thr, p99, idle := map[string]float64{}, map[string]float64{}, map[string]float64{}
	for _, t := range targets {
		if t.Peer && t.NotMeasured == "" {
			thr[t.Name], p99[t.Name], idle[t.Name] = t.DeliveredPerSec, t.FanoutLast.P99, t.IdleKiBPerStream
		}
	}
	var out []PeerRatios
	for _, t := range targets {
		if t.Peer || t.NotMeasured != "" {
			continue
		}
		out = append(out, PeerRatios{
			Target:     t.Name,
			Throughput: ratioToBest(t.DeliveredPerSec, thr, true),
			FanoutP99:  ratioToBest(t.FanoutLast.P99, p99, false),
			IdleRSS:    ratioToBest(t.IdleKiBPerStream, idle, false),
		})
	}
	return out
}

// peerOrder is the order of the targets in round r: reversed every other
// round, so that no server always runs first after a quiet machine.
func peerOrder[T any](targets []T, r int) []T {
	out := slices.Clone(targets)
	if r%2 == 1 {
		slices.Reverse(out)
	}
	return out
}

// peers runs the peers scenario.
func (b *bench) peers(ctx context.Context) error {
	o := b.opt
	p := &Peers{
		Time: b.res.Time, Command: b.res.Command, Quick: o.quick, Load: loadAvg(),
		Streams: o.peerStreams, Posts: o.posts, RateStreams: o.peerRateStreams,
		Publishers: o.peerPublishers, Seconds: o.peerDuration.Seconds(), Rounds: o.peerRounds,
		PayloadBytes: len(peerPayload(0)),
	}
	b.res.Peers = p
	dir, err := os.MkdirTemp("", "sparkbench-peers-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cache, err := peerCacheDir(o.peerCache)
	if err != nil {
		return err
	}

	type entry struct {
		t *sseTarget
	}
	var entries []entry
	var procs []*childProc
	var stops []func() // what else a target holds, ended with the processes
	defer func() {
		for _, pr := range procs {
			pr.stop()
		}
		for _, stop := range stops {
			stop()
		}
	}()
	start := func(name string, peer bool, what string, f func() (*sseTarget, *childProc, error)) {
		p.Targets = append(p.Targets, PeerTarget{Name: name, Peer: peer, What: what})
		t, proc, err := f()
		if proc != nil {
			procs = append(procs, proc)
		}
		if err != nil {
			p.Targets[len(p.Targets)-1].NotMeasured = err.Error()
			b.log.Warn("peers: not measured", "target", name, "err", err)
			return
		}
		entries = append(entries, entry{t: t})
	}
	child := func(name string) (string, error) {
		d := filepath.Join(dir, name)
		return d, os.MkdirAll(d, 0o700)
	}
	// peer builds the peer name when missing and starts it with run.
	peer := func(name, version string, build func(ctx context.Context, out, work string) error, run func(ctx context.Context, bin, dir string) (*sseTarget, *childProc, error)) func() (*sseTarget, *childProc, error) {
		return func() (*sseTarget, *childProc, error) {
			b.log.Info("peers: building when missing, then starting", "peer", name, "version", version, "cache", cache)
			bctx, cancel := context.WithTimeout(ctx, o.peerBuild)
			bin, err := peerBinary(bctx, cache, name, version, build)
			cancel()
			if err != nil {
				return nil, nil, err
			}
			d, err := child(name)
			if err != nil {
				return nil, nil, err
			}
			// The port freeAddr found free can be taken by another
			// program before the peer listens on it (the machine is
			// shared; Caddy listens on every interface): start again on
			// another, a few times.
			for try := 1; ; try++ {
				t, proc, err := run(ctx, bin, d)
				if err == nil || try == 3 || !strings.Contains(err.Error(), "address already in use") {
					return t, proc, err
				}
				b.log.Info("peers: port taken before the peer listened; starting again", "peer", name)
			}
		}
	}
	start(targetMercure, true, "Mercure "+mercureVersion+" (Caddy module), local in-memory transport, HS256 subscriber and publisher JWTs; publish = POST form topic+data",
		peer(targetMercure, mercureVersion, buildMercure, b.startMercure))
	start(targetCentrifugo, true, "Centrifugo "+centrifugoVersion+", in-memory engine, uni_sse with a server-side channel subscription in the connection JWT; publish = POST /api/publish",
		peer(targetCentrifugo, centrifugoVersion, buildCentrifugo, b.startCentrifugo))
	start(targetGateway, false, "the gateway end to end: tabs of one user on /sparkweb/api/sse; publish = that user's REST post to another user (JWT, XMPP write, ejabberd archive), whose sent copy reaches every tab", func() (*sseTarget, *childProc, error) {
		t, stop, err := b.gatewayTarget(ctx)
		if stop != nil {
			stops = append(stops, stop)
		}
		return t, nil, err
	})
	start(targetHub, false, "the SSE layer alone: package sse's Hub (the gateway's configuration) in a process of its own over net/http; publish = POST of the event's data, Hub.Publish", func() (*sseTarget, *childProc, error) {
		d, err := child(targetHub)
		if err != nil {
			return nil, nil, err
		}
		return b.startHub(ctx, d)
	})
	if len(entries) == 0 {
		return errors.New("no server to measure")
	}
	result := func(name string) *PeerTarget {
		for i := range p.Targets {
			if p.Targets[i].Name == name {
				return &p.Targets[i]
			}
		}
		return nil
	}

	// Every run starts once ejabberd and the servers are quiet
	// (peersettle.go).
	var pids []int
	for _, e := range entries {
		pids = append(pids, e.t.pid)
	}
	if b.ej != nil {
		pids = append(pids, b.ej.PID())
	}
	quietFirst := func(name string) {
		p.SettleMax = max(p.SettleMax, b.quietFor(ctx, pids, "peers: "+name))
	}

	// Idle streams, then fan-out on them, round by round.
	last := map[string][]time.Duration{}
	first := map[string][]time.Duration{}
	base := 0
	for r := range o.peerRounds {
		for _, e := range peerOrder(entries, r) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			quietFirst(e.t.name)
			b.log.Info("peers: idle and fan-out", "target", e.t.name, "round", r+1, "streams", o.peerStreams)
			run, err := idleFanout(ctx, e.t, o.peerStreams, o.posts, base)
			base += o.posts
			res := result(e.t.name)
			if err != nil {
				b.res.Errors = append(b.res.Errors, fmt.Sprintf("peers %s idle/fan-out: %v", e.t.name, err))
				continue
			}
			res.IdleRuns = append(res.IdleRuns, run.idleKiB)
			last[e.t.name] = append(last[e.t.name], run.last...)
			first[e.t.name] = append(first[e.t.name], run.first...)
			res.Lost += run.lost
			res.Duplicates += run.dups
			if !res.Peer { // a peer's own counts stay in its row
				b.res.addLost("peers-"+e.t.name, run.lost, run.dups)
			}
		}
	}
	// Throughput, round by round.
	cpuRate := map[string][]float64{}
	pubRate := map[string][]float64{}
	delivery := map[string][]time.Duration{}
	var xmppPerPub []float64
	for r := range o.peerRounds {
		for _, e := range peerOrder(entries, r) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			quietFirst(e.t.name)
			b.log.Info("peers: throughput", "target", e.t.name, "round", r+1, "streams", o.peerRateStreams, "publishers", o.peerPublishers)
			ejCPU := b.xmppServerCPU(e.t)
			run, err := rate(ctx, e.t, o.peerRateStreams, o.peerPublishers, o.peerDuration, base)
			base += 1 << 22 // past any run's count of publishes
			res := result(e.t.name)
			if err != nil {
				b.res.Errors = append(b.res.Errors, fmt.Sprintf("peers %s throughput: %v", e.t.name, err))
				continue
			}
			if ejCPU != nil && run.published > 0 {
				used := ejCPU(ctx)
				xmppPerPub = append(xmppPerPub, round(float64(used.Microseconds())/float64(run.published), 1))
			}
			res.DeliveredRuns = append(res.DeliveredRuns, run.deliveredPerSec)
			pubRate[e.t.name] = append(pubRate[e.t.name], run.publishesPerSec)
			cpuRate[e.t.name] = append(cpuRate[e.t.name], run.perCPUSec)
			delivery[e.t.name] = append(delivery[e.t.name], run.latency...)
			res.Lost += run.lost
			res.Duplicates += run.dups
			if !res.Peer { // a peer's own counts stay in its row
				b.res.addLost("peers-"+e.t.name, run.lost, run.dups)
			}
		}
	}
	for _, e := range entries {
		res := result(e.t.name)
		res.IdleKiBPerStream = slices.Max(append([]float64{0}, res.IdleRuns...))
		res.FanoutLast = dist(last[e.t.name], time.Millisecond)
		res.FanoutLastQ = quantiles(last[e.t.name], time.Millisecond)
		res.FanoutFirst = dist(first[e.t.name], time.Millisecond)
		res.DeliveredPerSec = round(mean(res.DeliveredRuns), 0)
		res.PublishesPerSec = round(mean(pubRate[e.t.name]), 0)
		res.DeliveredPerCPUSec = round(mean(cpuRate[e.t.name]), 0)
		if e.t.name == targetGateway {
			res.XMPPServerCPUPerPublish = round(mean(xmppPerPub), 1)
		}
		res.Delivery = dist(delivery[e.t.name], time.Millisecond)
		res.DeliveryQ = quantiles(delivery[e.t.name], time.Millisecond)
		res.Ended = int(e.t.ended.Load())
	}
	p.Ratios = peerRatios(p.Targets)
	p.Load += " -> " + loadAvg()
	p.Note = fmt.Sprintf("each scenario %d round(s), the servers in turn (reversed every other round), each run once ejabberd and every server had used at most %v of CPU together in %v (at most %v; the longest wait was %.1f s: ejabberd archives the gateway's posts for seconds after its runs); idle = RSS after opening the streams minus before, per stream, 1 s after the last open, the largest of the rounds (the Go runtime keeps freed memory, so later rounds reuse the first's; the section runs first, so the gateway is as fresh as the peers); fan-out = one publish at a time, each once every stream has the previous; throughput = %d publishers each publishing as fast as its requests return, at most %d events ahead of the average stream; readers in the bench's process on the same cores; for the gateway, ejabberd's CPU per publish (xmpp_server_cpu_us_per_publish) is counted from each throughput run's start until ejabberd is quiet again", o.peerRounds, settleCPU, settleWindow, settleLimit, p.SettleMax, o.peerPublishers, rateWindow)
	return nil
}

// print writes the section as a table of its own, one row per server.
func (p *Peers) print(w io.Writer) {
	fmt.Fprintf(w, "\npeers (%d streams idle and fan-out, %d streams x %d publishers x %gs, %d rounds; load %s):\n",
		p.Streams, p.RateStreams, p.Publishers, p.Seconds, p.Rounds, p.Load)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "server\tidle KiB/stream\tfan-out last p50 / p99 ms\tfirst p50 ms\tdelivered/s\tpublishes/s\tdelivered/CPU-s\tdelivery p50 / p99 ms\tlost / dup / ended\t")
	for _, t := range p.Targets {
		if t.NotMeasured != "" {
			fmt.Fprintf(tw, "%s\tnot measured\t\t\t\t\t\t\t\t\n", t.Name)
			continue
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f / %.1f\t%.1f\t%.0f\t%.0f\t%.0f\t%.1f / %.1f\t%d / %d / %d\t\n", t.Name, t.IdleKiBPerStream,
			t.FanoutLast.P50, t.FanoutLast.P99, t.FanoutFirst.P50, t.DeliveredPerSec, t.PublishesPerSec, t.DeliveredPerCPUSec,
			t.Delivery.P50, t.Delivery.P99, t.Lost, t.Duplicates, t.Ended)
	}
	tw.Flush()
	for _, t := range p.Targets {
		if t.NotMeasured != "" {
			fmt.Fprintf(w, "%s not measured: %s\n", t.Name, t.NotMeasured)
		}
		if t.XMPPServerCPUPerPublish > 0 {
			fmt.Fprintf(w, "%s: ejabberd used %.0f µs of CPU per publish in the throughput runs (%.2f cores at the gateway's publishes/s)\n",
				t.Name, t.XMPPServerCPUPerPublish, t.XMPPServerCPUPerPublish*t.PublishesPerSec/1e6)
		}
	}
}

// mean is the average of vs, 0 for none.
func mean(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := 0.0
	for _, v := range vs {
		s += v
	}
	return s / float64(len(vs))
}
