package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Results is everything one run measured; it is written as JSON to -out
// and printed as a table. Durations are in the unit the key names.
type Results struct {
	Time    string  `json:"time"`
	Command string  `json:"command"`
	Quick   bool    `json:"quick"`
	Machine Machine `json:"machine"`
	// Direct says what the gateway is compared with.
	Direct string `json:"direct"`
	// Gateway describes the gateway's settings that matter for the figures.
	Gateway string `json:"gateway"`

	LatencyUS      Latency    `json:"latency_us"`
	ThroughputMsgs Throughput `json:"throughput_msgs"`
	Idle           Idle       `json:"idle"`
	ReceivePathUS  Receive    `json:"receive_path_us"`
	Login          Login      `json:"login"`
	FanoutMS       Fanout     `json:"fanout_ms"`
	// BigRoom is the bigroom scenario's (bigroom.go).
	BigRoom *BigRoom `json:"big_room_join,omitempty"`
	Tabs    Tabs     `json:"tabs"`
	PushMS  Push     `json:"push_ms"`
	// EventPath is xmppconn's BenchmarkEventPath per stage (read,
	// translate, json, publish, all), run with -benchmem.
	EventPath    map[string]PathStage `json:"event_path,omitempty"`
	EventPathCmd string               `json:"event_path_command,omitempty"`
	// Cluster is the cluster scenario's (cluster.go).
	Cluster *Cluster `json:"cluster,omitempty"`
	// Peers is the peers scenario's (peers.go): the SSE layer beside
	// Mercure and Centrifugo.
	Peers *Peers `json:"peers,omitempty"`
	// Targets are issue 21's rows (targets.go), computed from the file
	// once every section is in.
	Targets []Target `json:"targets,omitempty"`
	// Soak is the soak scenario's (soak.go), run only when asked for.
	Soak *Soak `json:"soak,omitempty"`

	// Lost counts messages sent (accepted by the gateway, or written to the
	// XMPP stream) that never arrived, over every scenario; Duplicates
	// counts messages that arrived more than once. Mercure's and
	// Centrifugo's own counts are not in them but in their rows of the
	// peers section.
	Lost       int            `json:"lost"`
	Duplicates int            `json:"duplicates"`
	LostBy     map[string]int `json:"lost_by,omitempty"`
	DupBy      map[string]int `json:"duplicates_by,omitempty"`
	Errors     []string       `json:"errors,omitempty"`
}

// Machine describes where the run happened.
type Machine struct {
	Cores      int    `json:"cores"`
	MemoryMiB  int    `json:"memory_mib"`
	GoVersion  string `json:"go_version"`
	OSArch     string `json:"os_arch"`
	CPU        string `json:"cpu,omitempty"`
	LoadStart  string `json:"loadavg_start"`
	LoadEnd    string `json:"loadavg_end"`
	Ejabberd   string `json:"ejabberd,omitempty"`
	SharedNote string `json:"note,omitempty"`
	// SettledS is how long each scenario waited for ejabberd and the
	// gateway to go quiet before it started (settleBefore), in seconds.
	SettledS map[string]float64 `json:"settled_s,omitempty"`
}

// Dist is a latency distribution.
type Dist struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Latency compares one-way message latency.
type Latency struct {
	Messages int     `json:"messages"`
	Gateway  Dist    `json:"gateway"`
	Direct   Dist    `json:"direct"`
	P50Ratio float64 `json:"p50_ratio"`
	P99Ratio float64 `json:"p99_ratio"`
	// GatewayQ and DirectQ are the distributions' quantiles (quantiles()),
	// for the report's picture.
	GatewayQ []float64 `json:"gateway_q,omitempty"`
	DirectQ  []float64 `json:"direct_q,omitempty"`
	// Path is the gateway's own share: from the stanza's arrival on the
	// gateway's XMPP connection to the SSE write, estimated as gateway
	// minus direct latency (both through the same ejabberd).
	Note string `json:"note,omitempty"`
}

// Receive measures the gateway's receive path: with many logged-in users
// each holding a stream, the time a stanza takes from its arrival at the
// gateway's XMPP connection to the SSE event. A direct client sends to a
// gateway user's stream and, alternately, to a direct client; both
// receivers sit behind the same ejabberd, so the difference of the two is
// the gateway's share (stanza read, translation, JSON, SSE write, and the
// loopback HTTP hop).
type Receive struct {
	Users      int     `json:"users"`
	Messages   int     `json:"messages"`
	ViaGateway Dist    `json:"via_gateway"`
	Direct     Dist    `json:"direct"`
	P50Added   float64 `json:"p50_added"`
	P99Added   float64 `json:"p99_added"`
}

// Throughput compares delivered messages per second.
type Throughput struct {
	Pairs     int     `json:"pairs"`
	InFlight  int     `json:"in_flight_per_pair"`
	Seconds   float64 `json:"seconds"`
	Gateway   float64 `json:"gateway"`
	Direct    float64 `json:"direct"`
	Ratio     float64 `json:"ratio"`
	GatewayN  int     `json:"gateway_delivered"`
	DirectN   int     `json:"direct_delivered"`
	GatewayMs Dist    `json:"gateway_latency_ms"`
	DirectMs  Dist    `json:"direct_latency_ms"`
}

// Idle is the cost of logged-in users each holding one idle stream.
type Idle struct {
	// Users, RSSKiBPerUser and GoroutinesPerUser repeat the largest run.
	Users             int       `json:"users"`
	RSSKiBPerUser     float64   `json:"rss_kib_per_user"`
	GoroutinesPerUser float64   `json:"goroutines_per_user"`
	CPUMsPerUserMin   float64   `json:"cpu_ms_per_user_per_min"`
	Runs              []IdleRun `json:"runs"`
}

// IdleRun is one scale step.
type IdleRun struct {
	Users             int     `json:"users"`
	RSSKiBPerUser     float64 `json:"rss_kib_per_user"`
	HeapKiBPerUser    float64 `json:"heap_inuse_kib_per_user"`
	GoroutinesPerUser float64 `json:"goroutines_per_user"`
	CPUMsPerUserMin   float64 `json:"cpu_ms_per_user_per_min"`
	CPUWindowS        float64 `json:"cpu_window_s"`
	EjabberdKiBPerUsr float64 `json:"ejabberd_rss_kib_per_user,omitempty"`
	RSSMiB            float64 `json:"gateway_rss_mib"`
	Goroutines        int     `json:"gateway_goroutines"`
	// The same number of idle direct clients (xmppconn streams, no SSE)
	// in the benchmark's own process: what one held connection costs
	// without the gateway.
	DirectRSSKiB     float64 `json:"direct_rss_kib_per_conn"`
	DirectHeapKiB    float64 `json:"direct_heap_inuse_kib_per_conn"`
	DirectGoroutines float64 `json:"direct_goroutines_per_conn"`
	RSSRatio         float64 `json:"rss_ratio"`
	GoroutinesRatio  float64 `json:"goroutines_ratio"`
}

// Login is the rate of logins that open an XMPP session.
type Login struct {
	Workers        int     `json:"workers"`
	PasswordPerSec float64 `json:"password_per_s"`
	PasswordMs     Dist    `json:"password_ms"`
	TokenPerSec    float64 `json:"token_per_s"`
	TokenMs        Dist    `json:"token_ms"`
	TokenNote      string  `json:"token_note,omitempty"`
}

// Fanout is the time from a room post to the last member's SSE event.
type Fanout struct {
	Members int     `json:"members"`
	Posts   int     `json:"posts"`
	P50     float64 `json:"p50"`
	P99     float64 `json:"p99"`
	Max     float64 `json:"max"`
	// The same between direct clients (xmppconn streams) in another room.
	DirectMembers int     `json:"direct_members"`
	DirectP50     float64 `json:"direct_p50"`
	DirectP99     float64 `json:"direct_p99"`
	DirectMax     float64 `json:"direct_max"`
	P50Ratio      float64 `json:"p50_ratio"`
	P99Ratio      float64 `json:"p99_ratio"`
	// CPU and DirectCPU are the CPU each process used per post while
	// each side's posts went out (cpumeter.go).
	CPU         *RoomCPU `json:"cpu_per_post_ms,omitempty"`
	DirectCPU   *RoomCPU `json:"direct_cpu_per_post_ms,omitempty"`
	Note        string   `json:"note,omitempty"`
	NotMeasured string   `json:"not_measured,omitempty"`
}

// RoomCPU is the CPU time per post, in ms, of each process while a
// room's posts went out: user and system time from /proc/<pid>/stat (1/100 s
// ticks, summed over all the posts before dividing). 0 for a process the
// bench did not start. On the direct side the gateway holds the members'
// idle sessions in another room, and the harness reads the direct
// members' XMPP streams instead of SSE.
type RoomCPU struct {
	Gateway  float64 `json:"gateway"`
	Ejabberd float64 `json:"ejabberd"`
	Harness  float64 `json:"harness"`
}

// dist computes the distribution of ds in unit (time.Microsecond for µs).
// It sorts ds.
func dist(ds []time.Duration, unit time.Duration) Dist {
	if len(ds) == 0 {
		return Dist{}
	}
	slices.Sort(ds)
	f := func(d time.Duration) float64 { return round(float64(d)/float64(unit), 1) }
	return Dist{
		N:   len(ds),
		P50: f(percentile(ds, 50)),
		P90: f(percentile(ds, 90)),
		P99: f(percentile(ds, 99)),
		Max: f(ds[len(ds)-1]),
	}
}

// quantiles returns the 0th to 100th percentiles of ds in unit, 101
// values, three significant digits each: enough to draw the
// distribution's curve (report.go) without keeping every sample. It
// sorts ds; nil for none.
func quantiles(ds []time.Duration, unit time.Duration) []float64 {
	if len(ds) == 0 {
		return nil
	}
	slices.Sort(ds)
	q := make([]float64, 101)
	for p := range q {
		q[p] = signif(float64(percentile(ds, float64(p)))/float64(unit), 3)
	}
	return q
}

// signif rounds v to digits significant digits.
func signif(v float64, digits int) float64 {
	if v == 0 {
		return 0
	}
	d := digits - 1 - int(math.Floor(math.Log10(math.Abs(v))))
	return round(v, d)
}

// percentile returns the nearest-rank p-th percentile of sorted, which must
// not be empty.
func percentile(sorted []time.Duration, p float64) time.Duration {
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// ratio is a/b rounded to two decimals, or 0 when either is unknown.
func ratio(a, b float64) float64 {
	if a <= 0 || b <= 0 {
		return 0
	}
	return round(a/b, 2)
}

func round(v float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	return math.Round(v*p) / p
}

// addLost records lost and duplicated messages of one scenario.
func (r *Results) addLost(scenario string, lost, dups int) {
	if r.LostBy == nil {
		r.LostBy, r.DupBy = map[string]int{}, map[string]int{}
	}
	r.LostBy[scenario] += lost
	r.DupBy[scenario] += dups
	r.Lost += lost
	r.Duplicates += dups
}

// writeJSON writes r to path through a temporary file in the same
// directory, so a reader never sees half a file.
func (r *Results) writeJSON(path string) error { return writeJSONFile(path, r) }

// writeJSONFile writes v as indented JSON to path, as writeJSON does.
func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// printTable writes the figures and ratios as one table.
func (r *Results) printTable(w io.Writer) {
	num := func(v float64, unit string) string {
		if v == 0 {
			return "-"
		}
		switch {
		case v >= 100:
			return fmt.Sprintf("%.0f%s", v, unit)
		case v >= 10:
			return fmt.Sprintf("%.1f%s", v, unit)
		default:
			return fmt.Sprintf("%.2f%s", v, unit)
		}
	}
	rat := func(v float64) string {
		if v == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2fx", v)
	}
	m := r.Machine
	fmt.Fprintf(w, "\nsparkbench %s: %d cores, %d MiB, %s, %s; load %s -> %s\n",
		r.Time, m.Cores, m.MemoryMiB, m.GoVersion, m.OSArch, m.LoadStart, m.LoadEnd)
	fmt.Fprintf(w, "direct = %s\ngateway = %s\n\n", r.Direct, r.Gateway)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "measure\tgateway\tdirect\tratio\t")
	if l := r.LatencyUS; l.Gateway.N > 0 || l.Direct.N > 0 {
		fmt.Fprintf(tw, "latency p50, %d msgs\t%s\t%s\t%s\t\n", l.Messages, num(l.Gateway.P50, " µs"), num(l.Direct.P50, " µs"), rat(l.P50Ratio))
		fmt.Fprintf(tw, "latency p99\t%s\t%s\t%s\t\n", num(l.Gateway.P99, " µs"), num(l.Direct.P99, " µs"), rat(l.P99Ratio))
		fmt.Fprintf(tw, "latency max\t%s\t%s\t%s\t\n", num(l.Gateway.Max, " µs"), num(l.Direct.Max, " µs"), rat(ratio(l.Gateway.Max, l.Direct.Max)))
	}
	if p := r.PushMS; p.Session.N > 0 || p.NoSession.N > 0 {
		fmt.Fprintf(tw, "message -> decrypted push p50 / p99, session no tab, %d msgs\t%s / %s\t\t\t\n", p.Messages, num(p.Session.P50, " ms"), num(p.Session.P99, " ms"))
		fmt.Fprintf(tw, "message -> decrypted push p50 / p99, no session (XEP-0357)\t%s / %s\t\t\t\n", num(p.NoSession.P50, " ms"), num(p.NoSession.P99, " ms"))
	}
	if t := r.ThroughputMsgs; t.GatewayN > 0 || t.DirectN > 0 {
		fmt.Fprintf(tw, "throughput, %d pairs x %d in flight\t%s\t%s\t%s\t\n", t.Pairs, t.InFlight, num(t.Gateway, " msg/s"), num(t.Direct, " msg/s"), rat(t.Ratio))
	}
	for _, run := range r.Idle.Runs {
		fmt.Fprintf(tw, "idle %d users: RSS per user\t%s\t%s\t%s\t\n", run.Users, num(run.RSSKiBPerUser, " KiB"), num(run.DirectRSSKiB, " KiB"), rat(run.RSSRatio))
		fmt.Fprintf(tw, "idle %d users: heap in use per user\t%s\t%s\t%s\t\n", run.Users, num(run.HeapKiBPerUser, " KiB"), num(run.DirectHeapKiB, " KiB"), rat(ratio(run.HeapKiBPerUser, run.DirectHeapKiB)))
		fmt.Fprintf(tw, "idle %d users: goroutines per user\t%s\t%s\t%s\t\n", run.Users, num(run.GoroutinesPerUser, ""), num(run.DirectGoroutines, ""), rat(run.GoroutinesRatio))
		fmt.Fprintf(tw, "idle %d users: CPU per user per minute\t%s\t\t\t\n", run.Users, num(run.CPUMsPerUserMin, " ms"))
		if run.EjabberdKiBPerUsr != 0 {
			fmt.Fprintf(tw, "idle %d users: ejabberd RSS per user\t\t%s\t\t\n", run.Users, num(run.EjabberdKiBPerUsr, " KiB"))
		}
	}
	signed := func(v float64) string { return fmt.Sprintf("%+.0f µs", v) }
	if rp := r.ReceivePathUS; rp.Messages > 0 {
		fmt.Fprintf(tw, "receive path with %d users: p50\t%s\t%s\t%s\t\n", rp.Users, num(rp.ViaGateway.P50, " µs"), num(rp.Direct.P50, " µs"), signed(rp.P50Added))
		fmt.Fprintf(tw, "receive path with %d users: p99\t%s\t%s\t%s\t\n", rp.Users, num(rp.ViaGateway.P99, " µs"), num(rp.Direct.P99, " µs"), signed(rp.P99Added))
	}
	if lg := r.Login; lg.PasswordPerSec > 0 {
		fmt.Fprintf(tw, "login rate, password (%d workers)\t%s\t\t\t\n", lg.Workers, num(lg.PasswordPerSec, " /s"))
		fmt.Fprintf(tw, "login rate, token (%d workers)\t%s\t\t\t\n", lg.Workers, num(lg.TokenPerSec, " /s"))
	}
	f := r.FanoutMS
	switch {
	case f.NotMeasured != "":
		fmt.Fprintf(tw, "fan-out\tnot measured\t\t\t\n")
	case f.Members > 0:
		fmt.Fprintf(tw, "fan-out to last of %d members, p50\t%s\t%s\t%s\t\n", f.Members, num(f.P50, " ms"), num(f.DirectP50, " ms"), rat(f.P50Ratio))
		fmt.Fprintf(tw, "fan-out to last of %d members, p99\t%s\t%s\t%s\t\n", f.Members, num(f.P99, " ms"), num(f.DirectP99, " ms"), rat(f.P99Ratio))
		if f.CPU != nil && f.DirectCPU != nil {
			for _, row := range []struct {
				name string
				gw   float64
				dir  float64
			}{{"gateway", f.CPU.Gateway, f.DirectCPU.Gateway}, {"ejabberd", f.CPU.Ejabberd, f.DirectCPU.Ejabberd}, {"harness", f.CPU.Harness, f.DirectCPU.Harness}} {
				fmt.Fprintf(tw, "fan-out to %d members: %s CPU per post\t%s\t%s\t\t\n", f.Members, row.name, num(row.gw, " ms"), num(row.dir, " ms"))
			}
		}
	}
	if br := r.BigRoom; br != nil && br.Members > 0 {
		fmt.Fprintf(tw, "join a room of %d members: REST call -> snapshot and own presence\t%s\t\t\t\n", br.Members, num(br.JoinMS, " ms"))
		fmt.Fprintf(tw, "join a room of %d members: events in the joiner's stream, resets\t%d, %d\t\t\t\n", br.Members, sum(br.JoinEvents), br.Resets)
		fmt.Fprintf(tw, "room of %d: post -> last of %d members, p50\t%s\t%s\t%s\t\n", br.Members, br.Recipients, num(br.GatewayMS.P50, " ms"), num(br.DirectMS.P50, " ms"), rat(br.P50Ratio))
		fmt.Fprintf(tw, "room of %d: post -> last of %d members, p99\t%s\t%s\t%s\t\n", br.Members, br.Recipients, num(br.GatewayMS.P99, " ms"), num(br.DirectMS.P99, " ms"), rat(br.P99Ratio))
	}
	if tb := r.Tabs; tb.Streams > 0 {
		fmt.Fprintf(tw, "fan-out to last of %d tabs of one user, p50\t%s\t\t\t\n", tb.Streams, num(tb.P50, " ms"))
		fmt.Fprintf(tw, "fan-out to last of %d tabs of one user, p99\t%s\t\t\t\n", tb.Streams, num(tb.P99, " ms"))
		if tb.RestP50 > 0 {
			fmt.Fprintf(tw, "REST post to last of %d tabs (echo into the hub), p50 / p99\t%s / %s\t\t\t\n", tb.Streams, num(tb.RestP50, ""), num(tb.RestP99, " ms"))
		}
		fmt.Fprintf(tw, "fan-out to last of %d tabs / resources, p50\t%s\t%s\t%s\t\n", tb.SameN, num(tb.SameP50, " ms"), num(tb.DirectP50, " ms"), rat(tb.P50Ratio))
		fmt.Fprintf(tw, "fan-out to last of %d tabs / resources, p99\t%s\t%s\t%s\t\n", tb.SameN, num(tb.SameP99, " ms"), num(tb.DirectP99, " ms"), rat(tb.P99Ratio))
		fmt.Fprintf(tw, "events delivered per second, %d tabs\t%s\t%s\t%s\t\n", tb.RateStreams, num(tb.EventsPerSec, " /s"), num(tb.DirectPerSec, " /s"), rat(tb.RateRatio))
		if tb.WrittenPerSec > 0 {
			fmt.Fprintf(tw, "events written per second (raw XML too), %d tabs\t%s\t\t\t\n", tb.RateStreams, num(tb.WrittenPerSec, " /s"))
		}
	}
	if c := r.Cluster; c != nil {
		for _, run := range c.Runs {
			fmt.Fprintf(tw, "cluster, %d node(s): delivered msg/s, %d pairs x %d in flight (ratio to 1 node); lost / duplicated; streams ended\t%s; %d / %d; %d\t\t%s\t\n", run.Nodes, c.Pairs, c.InFlight, num(run.MsgPerSec, " msg/s"), run.Lost, run.Duplicates, run.StreamsClosed, rat(run.Ratio))
		}
		if c.CrossAddedUS.N > 0 {
			fmt.Fprintf(tw, "cluster: post -> stream on the owner node / another node, p50\t%s / %s\t\t\t\n", num(c.SameNodeUS.P50, " µs"), num(c.CrossNodeUS.P50, " µs"))
			fmt.Fprintf(tw, "cluster: post -> stream on the owner node / another node, p99\t%s / %s\t\t\t\n", num(c.SameNodeUS.P99, " µs"), num(c.CrossNodeUS.P99, " µs"))
			fmt.Fprintf(tw, "cluster: cross-node delivery adds, p50 / p99\t%s / %s\t\t\t\n", signed(c.CrossAddedUS.P50), signed(c.CrossAddedUS.P99))
		}
		if c.RemoteAddedUS.N > 0 {
			fmt.Fprintf(tw, "cluster: REST call on the owner / another node, p50\t%s / %s\t\t\t\n", num(c.OwnerCallUS.P50, " µs"), num(c.RemoteCallUS.P50, " µs"))
			fmt.Fprintf(tw, "cluster: REST call on the owner / another node, p99\t%s / %s\t\t\t\n", num(c.OwnerCallUS.P99, " µs"), num(c.RemoteCallUS.P99, " µs"))
			fmt.Fprintf(tw, "cluster: another node adds to a REST call, p50 / p99\t%s / %s\t\t\t\n", signed(c.RemoteAddedUS.P50), signed(c.RemoteAddedUS.P99))
		}
	}
	for _, stage := range []string{"read", "translate", "json", "publish", "all"} {
		if st, ok := r.EventPath[stage]; ok {
			fmt.Fprintf(tw, "event path %s: ns, B, allocs per event\t%.0f ns  %.0f B  %.0f allocs\t\t\t\n", stage, st.NsPerOp, st.BytesPerOp, st.AllocsPerOp)
		}
	}
	fmt.Fprintf(tw, "lost / duplicated, all runs\t%d / %d\t\t\t\n", r.Lost, r.Duplicates)
	tw.Flush()
	if f.NotMeasured != "" {
		fmt.Fprintf(w, "\nfan-out not measured: %s\n", f.NotMeasured)
	}
	if f.Note != "" {
		fmt.Fprintf(w, "\nfan-out: %s\n", f.Note)
	}
	if br := r.BigRoom; br != nil && br.Note != "" {
		fmt.Fprintf(w, "\nbig room: %s; join events %v\n", br.Note, br.JoinEvents)
	}
	if r.Tabs.Note != "" {
		fmt.Fprintf(w, "\ntabs: %s\n", r.Tabs.Note)
	}
	if c := r.Cluster; c != nil && c.Note != "" {
		fmt.Fprintf(w, "\ncluster (%d nodes; sessions whose lease a node lost: %d): %s\n", c.Nodes, c.OwnershipsLost, c.Note)
		for _, l := range c.LeaseRenewals {
			fmt.Fprintf(w, "  a node's lease renewals: %s\n", l)
		}
	}
	if r.Peers != nil {
		r.Peers.print(w)
	}
	if r.Soak != nil {
		r.Soak.print(w)
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(w, "\nerrors:\n  %s\n", strings.Join(r.Errors, "\n  "))
	}
	fmt.Fprintln(w)
}
