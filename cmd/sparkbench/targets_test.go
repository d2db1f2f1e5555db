package main

import (
	"strings"
	"testing"
)

func TestTargets(t *testing.T) {
	r := sampleResults()
	r.Idle.Runs = []IdleRun{{Users: 5000, RSSKiBPerUser: 40, RSSRatio: 1, GoroutinesPerUser: 4, GoroutinesRatio: 4}}
	r.LatencyUS.P50Ratio = 1.36
	r.EventPath = map[string]PathStage{"read": {NsPerOp: 3500, AllocsPerOp: 20}}
	rows := targets(r)
	if len(rows) != 11 {
		t.Fatalf("%d rows, want 11", len(rows))
	}
	want := []struct {
		prefix string
		met    string // "yes", "no", or "" for not measured
		figure string
	}{
		{"idle user", "yes", "40.0 KiB"},
		{"goroutines", "no", "4.00"},
		{"one-way latency", "no", "1.50 / 1.10 ms"},
		{"room of 500", "", "not measured"},
		{"event path", "yes", "3.5 µs, 20 allocs"},
		// sampleResults: gateway 300,000/s, hub 400,000/s, best peer
		// Centrifugo 200,000/s; p99 of the last stream 11 and 12 ms
		// against Mercure's 9; idle 50 and 60 KiB against Mercure's 30.
		{"SSE throughput", "yes", "300000 /s"},
		{"SSE throughput", "yes", "400000 /s"},
		{"SSE fan-out", "no", "11.0 ms"},
		{"SSE fan-out", "no", "12.0 ms"},
		{"SSE idle RSS", "no", "50.0 KiB"},
		{"SSE idle RSS", "no", "60.0 KiB"},
	}
	for i, w := range want {
		got := rows[i]
		met := ""
		if got.Met != nil {
			met = map[bool]string{true: "yes", false: "no"}[*got.Met]
		}
		if !strings.HasPrefix(got.Measure, w.prefix) || met != w.met || got.Figure != w.figure {
			t.Errorf("row %d = %+v (met %q), want prefix %q, met %q, figure %q", i, got, met, w.prefix, w.met, w.figure)
		}
	}
	if got := rows[5].Ratio; got != "1.50× centrifugo" {
		t.Errorf("throughput ratio %q, want 1.50× centrifugo", got)
	}
	md := targetsMarkdown(rows)
	if n := strings.Count(md, "\n"); n != 13 {
		t.Errorf("Markdown table has %d lines, want 13:\n%s", n, md)
	}
}
