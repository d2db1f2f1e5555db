package main

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
)

func TestMain(m *testing.M) { ejabberdtest.Main(m) }

// TestIntegrationSoak runs the soak scenario small and short (20 users,
// 5 s) against a gateway in this process, so the scenario's code runs
// under `make test`: every message must arrive once, and the gateway's
// sessions, streams, goroutines and open files (this process's, the
// bench's own connections included) must be back after the logouts.
func TestIntegrationSoak(t *testing.T) {
	ej := ejabberdtest.Shared(t)
	env := gatewayenv.Start(t, func(c *gateway.Config) { c.Metrics = true })
	// The bench dials from 127.77.x.y, which reaches 127.0.0.1 but not ::1.
	_, port, err := net.SplitHostPort(strings.TrimPrefix(env.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "soak.json")
	var stdout, stderr bytes.Buffer
	err = run(t.Context(), []string{
		"-only", "soak", "-out", out,
		"-xmpp-addr", ej.C2SAddr(), "-admin-url", ej.AdminURL(), "-domain", ej.Domain(),
		"-gateway-url", "http://127.0.0.1:" + port, "-gateway-pid", strconv.Itoa(os.Getpid()),
		"-soak-users", "20", "-soak-duration", "5s", "-soak-interval", "1s",
		"-soak-room-size", "5", "-soak-room-every", "3", "-soak-settle", "3s",
	}, &stdout, &stderr)
	t.Logf("stdout:\n%s", stdout.String())
	if err != nil {
		// A verdict that fails only on latency or memory is a shared
		// machine's noise at this size; the checks below decide.
		t.Logf("run: %v\nstderr:\n%s", err, stderr.String())
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Soak   *Soak    `json:"soak"`
		Lost   int      `json:"lost"`
		Errors []string `json:"errors"`
		Idle   any      `json:"idle"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	s := doc.Soak
	if s == nil {
		t.Fatalf("no soak in %s", raw)
	}
	if doc.Idle != nil {
		t.Error("the soak's JSON carries the other scenarios' sections")
	}
	tr := s.Traffic
	// 20 users × 5 sends in 5 s, every third to a room of 5 (4 deliveries).
	if tr.ChatSent+tr.RoomPosts != 100 || tr.RoomPosts == 0 {
		t.Errorf("accepted %d one-to-one + %d room posts; want 100 in all, some to rooms", tr.ChatSent, tr.RoomPosts)
	}
	if want := tr.ChatSent + 4*tr.RoomPosts; tr.Expected != want || tr.Delivered != want {
		t.Errorf("expected %d, delivered %d; want both %d", tr.Expected, tr.Delivered, want)
	}
	if tr.Lost != 0 || tr.Duplicated != 0 || tr.SendErrors != 0 || tr.EarlyCloses != 0 || doc.Lost != 0 {
		t.Errorf("traffic %+v; want nothing lost, duplicated, refused or closed early", tr)
	}
	if tr.LogoutClose != 20 {
		t.Errorf("%d streams ended with a logout close event; want 20", tr.LogoutClose)
	}
	if !s.Verdict.Delivery.OK || !s.Verdict.Goroutines.OK || !s.Verdict.FDs.OK {
		t.Errorf("verdict %+v; want delivery, goroutines and open files ok", s.Verdict)
	}
	phases := map[string]SoakSample{}
	for _, x := range s.Samples {
		phases[x.Phase] = x
	}
	for _, p := range []string{"baseline", "logged-in", "run", "drained", "logged-out", "after"} {
		if _, ok := phases[p]; !ok {
			t.Errorf("no %q sample in %+v", p, s.Samples)
		}
	}
	if in := phases["logged-in"]; in.Sessions != 20 || in.Streams != 20 {
		t.Errorf("logged in: %d sessions, %d streams; want 20, 20", in.Sessions, in.Streams)
	}
	if len(s.Windows) != 5 || s.ChatMs.N != tr.ChatSent || s.RoomMs.N != 4*tr.RoomPosts {
		t.Errorf("%d windows, %d one-to-one and %d room latencies; want 5, %d, %d", len(s.Windows), s.ChatMs.N, s.RoomMs.N, tr.ChatSent, 4*tr.RoomPosts)
	}
	if !strings.Contains(stdout.String(), "verdict:") {
		t.Error("the table has no verdict")
	}
}

func TestParseSoakBody(t *testing.T) {
	at := time.Unix(0, 1700000000123456789)
	k, sent, ok := parseSoakBody("sk 12 7 1700000000123456789")
	if !ok || k != (soakKey{12, 7}) || !sent.Equal(at) {
		t.Errorf("parseSoakBody = %v, %v, %v", k, sent, ok)
	}
	for _, bad := range []string{"sk 12 7", "sk x 7 1", "sk 1 2 3 4", "sk 99999999999 1 1"} {
		if _, _, ok := parseSoakBody(bad); ok {
			t.Errorf("parseSoakBody(%q) accepted", bad)
		}
	}
}

// TestJudge: the verdict's checks against hand-made samples.
func TestJudge(t *testing.T) {
	good := func() *Soak {
		return &Soak{
			Users: 100, DurationS: 600,
			Traffic: SoakTraffic{ChatSent: 90, RoomPosts: 10, Expected: 180, Delivered: 180},
			Samples: []SoakSample{
				{Phase: "baseline", AtS: 0, Goroutines: 30, RSSMiB: 20, HeapMiB: 5, FDs: 12},
				{Phase: "logged-in", AtS: 10, Goroutines: 430, RSSMiB: 60, HeapMiB: 30, FDs: 212, Sessions: 100, Streams: 100},
				{Phase: "run", AtS: 40, Goroutines: 431, RSSMiB: 62, HeapMiB: 31, FDs: 212, Sessions: 100, Streams: 100},
				{Phase: "run", AtS: 100, Goroutines: 431, RSSMiB: 70, HeapMiB: 40, FDs: 212, Sessions: 100, Streams: 100},
				{Phase: "run", AtS: 580, Goroutines: 432, RSSMiB: 90, HeapMiB: 60, FDs: 212, Sessions: 100, Streams: 100},
				{Phase: "logged-out", AtS: 600, Goroutines: 35, RSSMiB: 92, HeapMiB: 50, FDs: 13},
				{Phase: "after", AtS: 800, Goroutines: 33, RSSMiB: 60, HeapMiB: 7, FDs: 13},
			},
			Windows: []SoakWindow{{Chat: Dist{N: 10, P99: 10}}, {Chat: Dist{N: 10, P99: 14}}},
		}
	}
	if v := judge(good()); !v.Pass {
		t.Errorf("good run judged %+v", v)
	}
	// The machine slowed down for everyone: the control drifted as much.
	loaded := good()
	loaded.Windows[0].Direct = Dist{N: 5, P99: 8}
	loaded.Windows[1].Direct = Dist{N: 5, P99: 80}
	loaded.Windows[1].Chat.P99 = 85
	if v := judge(loaded); !v.Latency.OK {
		t.Errorf("drift of the machine judged %+v", v.Latency)
	}
	tests := []struct {
		name  string
		spoil func(*Soak)
		check func(SoakVerdict) bool // must be false
	}{
		{"lost", func(s *Soak) { s.Traffic.Lost = 1 }, func(v SoakVerdict) bool { return v.Delivery.OK }},
		{"duplicated", func(s *Soak) { s.Traffic.Duplicated = 1 }, func(v SoakVerdict) bool { return v.Delivery.OK }},
		{"goroutines-kept", func(s *Soak) { s.Samples[6].Goroutines = 130 }, func(v SoakVerdict) bool { return v.Goroutines.OK }},
		{"session-kept", func(s *Soak) { s.Samples[6].Sessions = 1 }, func(v SoakVerdict) bool { return v.Goroutines.OK }},
		{"fds-kept", func(s *Soak) { s.Samples[6].FDs = 40 }, func(v SoakVerdict) bool { return v.FDs.OK }},
		{"fds-unknown", func(s *Soak) { s.Samples[6].FDs = -1 }, func(v SoakVerdict) bool { return v.FDs.OK }},
		{"heap-kept", func(s *Soak) { s.Samples[6].HeapMiB = 40 }, func(v SoakVerdict) bool { return v.Memory.OK }},
		{"rss-grew", func(s *Soak) { s.Samples[6].RSSMiB = 95 }, func(v SoakVerdict) bool { return v.Memory.OK }},
		{"no-logged-out", func(s *Soak) { s.Samples = slices.Delete(s.Samples, 5, 6) }, func(v SoakVerdict) bool { return v.Memory.OK }},
		{"p99-drifted", func(s *Soak) { s.Windows[1].Chat.P99 = 30 }, func(v SoakVerdict) bool { return v.Latency.OK }},
		{"p99-drifted-alone", func(s *Soak) {
			s.Windows[0].Direct = Dist{N: 5, P99: 8}
			s.Windows[1].Direct = Dist{N: 5, P99: 9}
			s.Windows[1].Chat.P99 = 30
		}, func(v SoakVerdict) bool { return v.Latency.OK }},
		{"no-after", func(s *Soak) { s.Samples = s.Samples[:6] }, func(v SoakVerdict) bool { return v.Memory.OK }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := good()
			tt.spoil(s)
			v := judge(s)
			if tt.check(v) || v.Pass {
				t.Errorf("judged %+v", v)
			}
		})
	}
}
