package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// svgSeries parses svg and returns, per data-panel, the data-series of
// the curves and bars inside it; it fails the test unless svg is
// well-formed XML whose root is an svg element.
func svgSeries(t *testing.T, svg []byte) map[string][]string {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(svg))
	got := map[string][]string{}
	var panels []string // the enclosing panels, innermost last
	depth, root := 0, ""
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				root = e.Name.Local
			}
			depth++
			panel := ""
			for _, a := range e.Attr {
				switch a.Name.Local {
				case "data-panel":
					panel = a.Value
				case "data-series":
					if len(panels) == 0 || panels[len(panels)-1] == "" {
						t.Errorf("series %s outside a panel", a.Value)
						continue
					}
					p := panels[len(panels)-1]
					got[p] = append(got[p], e.Name.Local+":"+a.Value)
				}
			}
			if panel == "" && len(panels) > 0 {
				panel = panels[len(panels)-1]
			}
			panels = append(panels, panel)
		case xml.EndElement:
			depth--
			panels = panels[:len(panels)-1]
		}
	}
	if root != "svg" || depth != 0 {
		t.Fatalf("root %q, depth at the end %d", root, depth)
	}
	return got
}

func sampleResults() *Results {
	ms := func(vs ...int) []time.Duration {
		var out []time.Duration
		for _, v := range vs {
			out = append(out, time.Duration(v)*time.Millisecond)
		}
		return out
	}
	r := &Results{Time: "2026-12-04T21:00:00Z", Command: "go run ./cmd/sparkbench -quick", Machine: Machine{Cores: 2, LoadStart: "1", LoadEnd: "2"}}
	r.LatencyUS.Messages = 5
	r.LatencyUS.Gateway = Dist{N: 5, P50: 1500, P90: 2000, P99: 2800, Max: 3000}
	r.LatencyUS.GatewayQ = quantiles(ms(1, 2, 2, 3, 3), time.Microsecond)
	r.LatencyUS.Direct = Dist{N: 5, P50: 1100, P90: 1500, P99: 2300, Max: 2500} // no quantiles: drawn from the percentiles
	r.Peers = &Peers{Quick: true, Streams: 100, RateStreams: 20, Publishers: 8, Seconds: 2, Rounds: 2, Load: "1 -> 2"}
	for i, name := range []string{targetMercure, targetCentrifugo, targetGateway, targetHub} {
		pt := PeerTarget{Name: name, Peer: i < 2, FanoutLast: dist(ms(5+i, 7+i, 9+i), time.Millisecond),
			FanoutLastQ: quantiles(ms(5+i, 7+i, 9+i), time.Millisecond), Delivery: dist(ms(1, 2+i), time.Millisecond),
			DeliveredPerSec: float64(100000 * (i + 1)), IdleKiBPerStream: float64(30 + 10*i)}
		if name == targetHub {
			pt.DeliveryQ = quantiles(ms(1, 2), time.Millisecond)
		}
		r.Peers.Targets = append(r.Peers.Targets, pt)
	}
	r.Peers.Targets = append(r.Peers.Targets, PeerTarget{Name: "broken", Peer: true, NotMeasured: "build failed"})
	r.Peers.Ratios = peerRatios(r.Peers.Targets)
	return r
}

func TestReportSVG(t *testing.T) {
	var out bytes.Buffer
	if err := writeReport(&out, sampleResults()); err != nil {
		t.Fatal(err)
	}
	got := svgSeries(t, out.Bytes())
	all := []string{targetMercure, targetCentrifugo, targetGateway, targetHub}
	each := func(kind string) []string {
		var s []string
		for _, n := range all {
			s = append(s, kind+":"+n)
		}
		return s
	}
	want := map[string][]string{
		"latency":    {"polyline:" + targetGateway, "polyline:direct"},
		"fanout":     each("polyline"),
		"delivery":   each("polyline"),
		"throughput": each("rect"),
		"idle":       each("rect"),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("series per panel (-want +got):\n%s", diff)
	}
	svg := out.String()
	for _, s := range []string{"quick run", "Centrifugo", "(target &gt;= 1x)", `data-panel="ratios"`} {
		if !strings.Contains(svg, s) {
			t.Errorf("picture lacks %q", s)
		}
	}
	if strings.Contains(svg, "broken") {
		t.Error("an unmeasured target is drawn")
	}
}

// TestReportSVGEmpty draws a run with no latency and no peers section:
// the panels say so, and the picture is still well-formed.
func TestReportSVGEmpty(t *testing.T) {
	var out bytes.Buffer
	if err := writeReport(&out, &Results{Command: `a <b> & "c"`}); err != nil {
		t.Fatal(err)
	}
	if got := svgSeries(t, out.Bytes()); len(got) != 0 {
		t.Errorf("series in an empty run: %v", got)
	}
	if n := strings.Count(out.String(), "not measured in this run"); n != 6 {
		t.Errorf("%d panels say not measured, want 6", n)
	}
}

// TestFinish draws from a results file as make bench does, and adds the
// targets to the file.
func TestFinish(t *testing.T) {
	dir := t.TempDir()
	from, to := filepath.Join(dir, "results.json"), filepath.Join(dir, "report.svg")
	if err := writeJSONFile(from, sampleResults()); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	if err := finish(from, &stdout, true); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "| measure | target | figure | ratio | met |") {
		t.Errorf("no Markdown table in:\n%s", stdout.String())
	}
	var r Results
	if b, err := os.ReadFile(from); err != nil {
		t.Fatal(err)
	} else if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Targets) != 11 {
		t.Errorf("%d targets in the file, want 11", len(r.Targets))
	}
	b, err := os.ReadFile(to)
	if err != nil {
		t.Fatal(err)
	}
	got := svgSeries(t, b)
	if !slices.Contains(got["fanout"], "polyline:"+targetHub) {
		t.Errorf("fan-out panel from the file: %v", got["fanout"])
	}
}
