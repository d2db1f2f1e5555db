package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Target is one row of issue 21's table ("Performance, round two"): what
// is measured, the run's figure, the ratio the row compares (to direct
// clients or to the best peer), the target, and whether the run meets it.
// The README's Performance table is these rows.
type Target struct {
	Measure string `json:"measure"`
	Figure  string `json:"figure"`
	Ratio   string `json:"ratio,omitempty"`
	Target  string `json:"target"`
	// Met is nil when the run did not measure the row.
	Met *bool `json:"met,omitempty"`
}

// targets computes issue 21's rows from r; rows the run did not measure
// say so.
func targets(r *Results) []Target {
	var out []Target
	row := func(measure, target string, measured bool, met bool, figure, ratio string) {
		t := Target{Measure: measure, Target: target, Figure: "not measured", Ratio: ratio}
		if measured {
			t.Figure = figure
			t.Met = &met
		} else {
			t.Ratio = ""
		}
		out = append(out, t)
	}
	x := func(v float64) string { return fmt.Sprintf("%.2f×", v) }

	idle := IdleRun{Users: 5000} // the default, for a row not measured
	measuredIdle := len(r.Idle.Runs) > 0
	if measuredIdle {
		idle = r.Idle.Runs[len(r.Idle.Runs)-1]
	}
	row(fmt.Sprintf("idle user (XMPP session + one stream), RSS per user at %d users; ratio to a direct client", idle.Users), "≤ 48 KiB",
		measuredIdle, idle.RSSKiBPerUser <= 48, fmt.Sprintf("%.1f KiB", idle.RSSKiBPerUser), x(idle.RSSRatio))
	row("goroutines per idle streaming user; ratio to a direct client", "≤ 2",
		measuredIdle, idle.GoroutinesPerUser <= 2, fmt.Sprintf("%.2f", idle.GoroutinesPerUser), x(idle.GoroutinesRatio))
	l := r.LatencyUS
	row("one-way latency, gateway / direct, p50", "≤ 1.2×",
		l.Gateway.N > 0 && l.Direct.N > 0, l.P50Ratio <= 1.2, fmt.Sprintf("%.2f / %.2f ms", l.Gateway.P50/1000, l.Direct.P50/1000), x(l.P50Ratio))
	f := r.FanoutMS
	members := f.Members
	if members == 0 {
		members = 500 // the default, for a row not measured
	}
	row(fmt.Sprintf("room of %d, post → last member, p50 / p99 vs direct", members), "≤ 1.2× / ≤ 1.5×",
		f.Members > 0 && f.DirectMembers > 0, f.P50Ratio <= 1.2 && f.P99Ratio <= 1.5,
		fmt.Sprintf("%.1f / %.1f ms", f.P50, f.P99), x(f.P50Ratio)+" / "+x(f.P99Ratio))
	read, ok := r.EventPath["read"]
	row("event path, read (XML decode) per stanza", "≤ 4 µs",
		ok, read.NsPerOp <= 4000, fmt.Sprintf("%.1f µs, %.0f allocs", read.NsPerOp/1000, read.AllocsPerOp), "")

	// A peer row with its figure but no peer to compare with keeps the
	// figure and leaves met open.
	peerRow := func(measure, target string, rt RatioTo, met bool, figure string) {
		if rt.Figure > 0 && rt.Peer == "" {
			out = append(out, Target{Measure: measure, Target: target, Figure: figure, Ratio: "no peer measured"})
			return
		}
		row(measure, target, rt.Figure > 0, met, figure, x(rt.Ratio)+" "+rt.Peer)
	}
	var ratios []PeerRatios
	rateStreams, streams, publishers := 100, 1000, 8 // the defaults, for rows not measured
	if p := r.Peers; p != nil {
		ratios, rateStreams, streams, publishers = p.Ratios, p.RateStreams, p.Streams, p.Publishers
	}
	if len(ratios) == 0 {
		ratios = []PeerRatios{{Target: targetGateway}, {Target: targetHub}}
	}
	for _, pr := range ratios {
		path := reportLabels[pr.Target]
		th := pr.Throughput
		peerRow(fmt.Sprintf("SSE throughput, %d streams, %d publishers: delivered events/s vs the best peer (%s)", rateStreams, publishers, path), "≥ 1×",
			th, th.Ratio >= 1, fmt.Sprintf("%.0f /s", th.Figure))
	}
	for _, pr := range ratios {
		path := reportLabels[pr.Target]
		fo := pr.FanoutP99
		peerRow(fmt.Sprintf("SSE fan-out to %d streams, last stream p99 vs the best peer (%s)", streams, path), "≤ 0.8×",
			fo, fo.Ratio <= 0.8, fmt.Sprintf("%.1f ms", fo.Figure))
	}
	for _, pr := range ratios {
		path := reportLabels[pr.Target]
		id := pr.IdleRSS
		peerRow(fmt.Sprintf("SSE idle RSS per extra stream, %d streams, vs the best peer (%s)", streams, path), "≤ 16 KiB",
			id, id.Figure <= 16, fmt.Sprintf("%.1f KiB", id.Figure))
	}
	return out
}

// printTargets writes the rows as a table.
func printTargets(w io.Writer, rows []Target) {
	fmt.Fprintln(w, "\nissue 21 targets:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "measure\tfigure\tratio\ttarget\tmet\t")
	for _, t := range rows {
		met := "-"
		if t.Met != nil {
			met = map[bool]string{true: "yes", false: "no"}[*t.Met]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", t.Measure, t.Figure, t.Ratio, t.Target, met)
	}
	tw.Flush()
}

// targetsMarkdown is the rows as the README's Markdown table.
func targetsMarkdown(rows []Target) string {
	var b strings.Builder
	b.WriteString("| measure | target | figure | ratio | met |\n|---|---|---|---|---|\n")
	for _, t := range rows {
		met := ""
		if t.Met != nil {
			met = map[bool]string{true: "yes", false: "no"}[*t.Met]
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", t.Measure, t.Target, t.Figure, t.Ratio, met)
	}
	return b.String()
}
