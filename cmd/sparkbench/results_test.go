package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		name string
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{"one", ms(7), 50, 7 * time.Millisecond},
		{"one-p99", ms(7), 99, 7 * time.Millisecond},
		{"median-odd", ms(1, 2, 3), 50, 2 * time.Millisecond},
		{"median-even-nearest-rank", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p99-of-100", ms(seq(100)...), 99, 99 * time.Millisecond},
		{"p99-of-1000", ms(seq(1000)...), 99, 990 * time.Millisecond},
		{"p0-is-min", ms(5, 6), 0, 5 * time.Millisecond},
		{"p100-is-max", ms(5, 6), 100, 6 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.in, tt.p); got != tt.want {
				t.Errorf("percentile(%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

func TestDist(t *testing.T) {
	in := []time.Duration{3000, 1000, 2000, 1500} // ns, unsorted
	got := dist(in, time.Microsecond)
	want := Dist{N: 4, P50: 1.5, P90: 3, P99: 3, Max: 3}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("dist (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Dist{}, dist(nil, time.Microsecond)); diff != "" {
		t.Errorf("dist(nil) (-want +got):\n%s", diff)
	}
}

func TestRatio(t *testing.T) {
	tests := []struct {
		a, b, want float64
	}{
		{300, 200, 1.5},
		{200, 300, 0.67},
		{0, 200, 0},
		{200, 0, 0},
		{-1, 2, 0},
	}
	for _, tt := range tests {
		if got := ratio(tt.a, tt.b); got != tt.want {
			t.Errorf("ratio(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestAddLost(t *testing.T) {
	var r Results
	r.addLost("a", 2, 1)
	r.addLost("b", 0, 0)
	r.addLost("a", 1, 0)
	if r.Lost != 3 || r.Duplicates != 1 {
		t.Errorf("lost, dups = %d, %d; want 3, 1", r.Lost, r.Duplicates)
	}
	if diff := cmp.Diff(map[string]int{"a": 3, "b": 0}, r.LostBy); diff != "" {
		t.Errorf("LostBy (-want +got):\n%s", diff)
	}
}

// TestResultsJSON checks that results.json keeps the keys it is
// documented to have.
func TestResultsJSON(t *testing.T) {
	r := &Results{
		Machine:        Machine{Cores: 2, MemoryMiB: 1024, GoVersion: "go1.26"},
		LatencyUS:      Latency{Gateway: Dist{N: 9, P50: 300, P99: 900, Max: 2000}, Direct: Dist{N: 9, P50: 200, P99: 450, Max: 1000}, P50Ratio: 1.5, P99Ratio: 2},
		ThroughputMsgs: Throughput{Gateway: 800, Direct: 1000, Ratio: 0.8, GatewayN: 8000, DirectN: 10000},
		Idle:           Idle{Users: 5000, RSSKiBPerUser: 40, GoroutinesPerUser: 3},
		FanoutMS:       Fanout{NotMeasured: "rooms API not landed"},
		Peers:          sampleResults().Peers,
	}
	r.LatencyUS.GatewayQ = []float64{1, 2}
	path := filepath.Join(t.TempDir(), "sub", "results.json")
	if err := r.writeJSON(path); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{
		"machine.cores", "machine.memory_mib", "machine.go_version",
		"latency_us.gateway.p50", "latency_us.gateway.p99", "latency_us.gateway.max",
		"latency_us.direct.p50", "latency_us.direct.p99", "latency_us.direct.max",
		"latency_us.p50_ratio", "latency_us.p99_ratio",
		"throughput_msgs.gateway", "throughput_msgs.direct", "throughput_msgs.ratio",
		"idle.users", "idle.rss_kib_per_user", "idle.goroutines_per_user",
		"fanout_ms.members", "fanout_ms.p50", "fanout_ms.p99", "fanout_ms.not_measured",
		"lost", "duplicates",
		"latency_us.gateway_q",
		"peers.streams", "peers.targets", "peers.ratios", "peers.quick", "peers.loadavg",
	} {
		var v any = m
		for _, part := range strings.Split(key, ".") {
			obj, ok := v.(map[string]any)
			if !ok {
				v = nil
				break
			}
			v = obj[part]
		}
		if v == nil {
			t.Errorf("results.json has no %s", key)
		}
	}
	if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("temporary file left behind: %v", err)
	}

	var out strings.Builder
	r.printTable(&out)
	for _, want := range []string{"1.50x", "0.80x", "fan-out not measured: rooms API not landed", "broken not measured: build failed", "centrifugo"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}

func TestParseMetrics(t *testing.T) {
	in := `# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 42
go_memstats_heap_inuse_bytes 1.2e+06
process_cpu_seconds_total 3.5
process_resident_memory_bytes 2.5165824e+07
sparkgate_sessions 10
sparkgate_streams 12
sparkgate_logins_total{result="ok"} 10
`
	got, err := parseMetrics(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := gatewayStats{rss: 25165824, heap: 1.2e6, cpu: 3.5, goroutines: 42, streams: 12, sessions: 10}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(gatewayStats{})); diff != "" {
		t.Errorf("parseMetrics (-want +got):\n%s", diff)
	}
	if _, err := parseMetrics(strings.NewReader("go_goroutines 1\n")); err == nil {
		t.Error("parseMetrics accepted a scrape without the process samples")
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:5222":            true,
		"http://127.0.0.1:5280/api": true,
		"http://localhost:8080":     true,
		"[::1]:5222":                true,
		"10.0.0.1:5222":             false,
		"http://example.org/api":    false,
	} {
		if got := isLoopback(addr); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

func TestParseBench(t *testing.T) {
	out := []byte(`goos: linux
BenchmarkEventPath/read-2         	   20000	     93669 ns/op	    4216 B/op	      77 allocs/op
BenchmarkEventPath/translate-2    	   20000	       227.9 ns/op	     232 B/op	       4 allocs/op
BenchmarkEventPath/read-2         	   20000	     95000 ns/op	    4216 B/op	      77 allocs/op
BenchmarkEventPath/read-2         	   20000	     91000 ns/op	    4216 B/op	      76 allocs/op
PASS
`)
	got, err := parseBench(out)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]PathStage{
		"read":      {NsPerOp: 93669, BytesPerOp: 4216, AllocsPerOp: 77}, // the median of three
		"translate": {NsPerOp: 227.9, BytesPerOp: 232, AllocsPerOp: 4},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseBench (-want +got):\n%s", diff)
	}
	if _, err := parseBench([]byte("PASS\n")); err == nil {
		t.Error("parseBench accepted output without results")
	}
}

// TestAlternate drives two sides whose "network" is a channel: one
// delivers everything once, the other loses one message and duplicates
// another.
func TestAlternate(t *testing.T) {
	loopback := func(drop, dup string) *side {
		ch := make(chan arrival, 16)
		return &side{arrivals: ch, send: func(_ context.Context, body string) error {
			if body == drop {
				return nil
			}
			ch <- arrival{body, time.Now()}
			if body == dup {
				ch <- arrival{body, time.Now()}
			}
			return nil
		}}
	}
	if testing.Short() {
		t.Skip("waits 5 s for the lost message")
	}
	good, bad := loopback("", ""), loopback("lat 51", "lat 52")
	if err := alternate(context.Background(), 5, good, bad); err != nil {
		t.Fatal(err)
	}
	if len(good.lat) != 5 || good.lost != 0 || good.dups != 0 {
		t.Errorf("good side: %d latencies, %d lost, %d dups; want 5, 0, 0", len(good.lat), good.lost, good.dups)
	}
	if len(bad.lat) != 4 || bad.lost != 1 || bad.dups != 1 {
		t.Errorf("bad side: %d latencies, %d lost, %d dups; want 4, 1, 1", len(bad.lat), bad.lost, bad.dups)
	}
}
