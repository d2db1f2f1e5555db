package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// The picture of a run (bench/report.svg): small multiples drawn from
// results.json, one self-contained SVG with no script and no external
// reference, so the README can show it and a browser can open it alone.
// Latency distributions are cumulative curves on a logarithmic time axis
// (the fraction of events at or under a time), from the quantiles the run
// kept (quantiles()) or, for a file written before those were kept, from
// its p50 / p90 / p99 / max. Every curve and bar carries data-series and
// every panel data-panel, so a test can read the picture back.

// reportColors gives each series one color in every panel.
var reportColors = map[string]string{
	targetGateway:    "#1f77b4",
	targetHub:        "#2ca02c",
	targetMercure:    "#ff7f0e",
	targetCentrifugo: "#d62728",
	"direct":         "#7f7f7f",
}

// reportLabels are the legend's names of the series.
var reportLabels = map[string]string{
	targetGateway:    "gateway, end to end",
	targetHub:        "SSE layer alone",
	targetMercure:    "Mercure",
	targetCentrifugo: "Centrifugo",
	"direct":         "direct XMPP clients",
}

// curve is one series of a distribution panel: points (time, fraction).
type curve struct {
	name string
	x, y []float64
}

// curveOf is the curve of quantiles q, or of d's percentiles without them.
func curveOf(name string, q []float64, d Dist) (curve, bool) {
	c := curve{name: name}
	if len(q) > 1 {
		for i, v := range q {
			c.x = append(c.x, v)
			c.y = append(c.y, float64(i)/float64(len(q)-1))
		}
	} else if d.N > 0 {
		c.x = []float64{d.P50, d.P90, d.P99, d.Max}
		c.y = []float64{0.5, 0.9, 0.99, 1}
	}
	return c, len(c.x) > 0
}

// bar is one series of a bar panel.
type bar struct {
	name  string
	value float64
}

// svgWriter writes SVG elements; the first error sticks.
type svgWriter struct {
	w   io.Writer
	err error
}

func (s *svgWriter) printf(format string, args ...any) {
	if s.err == nil {
		_, s.err = fmt.Fprintf(s.w, format, args...)
	}
}

// text writes a text element with its content escaped.
func (s *svgWriter) text(x, y float64, attrs, content string) {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(content))
	s.printf(`<text x="%.1f" y="%.1f" %s>%s</text>`+"\n", x, y, attrs, b.String())
}

// attr escapes v for an attribute value.
func attr(v string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(v))
	return b.String()
}

// Panel geometry.
const (
	panelW, panelH = 470.0, 250.0
	plotL, plotR   = 56.0, 16.0 // margins inside a panel
	plotT, plotB   = 28.0, 40.0
)

// cdfPanel draws curves on a log time axis in unit at (x0, y0).
func (s *svgWriter) cdfPanel(x0, y0 float64, id, title, unit string, curves []curve) {
	s.printf(`<g class="panel" data-panel="%s" transform="translate(%.0f,%.0f)">`+"\n", attr(id), x0, y0)
	defer s.printf("</g>\n")
	s.text(0, 16, `class="title"`, title)
	if len(curves) == 0 {
		s.text(plotL, panelH/2, `class="note"`, "not measured in this run")
		return
	}
	lo, hi := math.Inf(1), 0.0
	for _, c := range curves {
		for _, v := range c.x {
			if v > 0 {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if hi == 0 {
		s.text(plotL, panelH/2, `class="note"`, "no positive time")
		return
	}
	dlo, dhi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if dhi <= dlo {
		dhi = dlo + 1
	}
	w, h := panelW-plotL-plotR, panelH-plotT-plotB
	px := func(v float64) float64 {
		v = math.Max(v, math.Pow(10, dlo))
		return plotL + (math.Log10(v)-dlo)/(dhi-dlo)*w
	}
	py := func(f float64) float64 { return plotT + (1-f)*h }
	s.printf(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="frame"/>`+"\n", plotL, plotT, w, h)
	for _, f := range []float64{0, 0.5, 0.9, 0.99} {
		s.printf(`<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" class="grid"/>`+"\n", plotL, plotL+w, py(f), py(f))
		s.text(plotL-4, py(f)+4, `class="tick" text-anchor="end"`, strconv.FormatFloat(f, 'f', -1, 64))
	}
	for d := dlo; d <= dhi; d++ {
		for _, m := range []float64{1, 2, 5} {
			v := m * math.Pow(10, d)
			if v > math.Pow(10, dhi) {
				break
			}
			x := px(v)
			s.printf(`<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" class="grid"/>`+"\n", x, x, plotT, plotT+h)
			s.text(x, plotT+h+14, `class="tick" text-anchor="middle"`, strconv.FormatFloat(v, 'g', 3, 64))
		}
	}
	s.text(plotL+w/2, plotT+h+30, `class="axis" text-anchor="middle"`, unit+" (log scale); fraction of events at or under")
	for i, c := range curves {
		var pts strings.Builder
		for k := range c.x {
			fmt.Fprintf(&pts, "%.1f,%.1f ", px(c.x[k]), py(c.y[k]))
		}
		s.printf(`<polyline class="cdf" data-series="%s" points="%s" stroke="%s"/>`+"\n",
			attr(c.name), strings.TrimSpace(pts.String()), reportColors[c.name])
		// Bottom right: a distribution's curve reaches there last.
		s.legend(plotL+w-140, plotT+h-8-float64(len(curves)-1-i)*14, c.name)
	}
}

// legend writes one legend entry.
func (s *svgWriter) legend(x, y float64, name string) {
	s.printf(`<rect x="%.1f" y="%.1f" width="10" height="10" fill="%s"/>`+"\n", x, y-9, reportColors[name])
	label := reportLabels[name]
	if label == "" {
		label = name
	}
	s.text(x+14, y, `class="legend"`, label)
}

// barPanel draws horizontal bars at (x0, y0), value labels formatted
// with format.
func (s *svgWriter) barPanel(x0, y0 float64, id, title, format string, bars []bar) {
	s.printf(`<g class="panel" data-panel="%s" transform="translate(%.0f,%.0f)">`+"\n", attr(id), x0, y0)
	defer s.printf("</g>\n")
	s.text(0, 16, `class="title"`, title)
	top := 0.0
	for _, b := range bars {
		top = math.Max(top, b.value)
	}
	if top == 0 {
		s.text(plotL, panelH/2, `class="note"`, "not measured in this run")
		return
	}
	const labelW = 130.0
	w := panelW - labelW - 80
	for i, b := range bars {
		y := plotT + float64(i)*34
		label := reportLabels[b.name]
		if label == "" {
			label = b.name
		}
		s.text(labelW-6, y+15, `class="legend" text-anchor="end"`, label)
		s.printf(`<rect class="bar" data-series="%s" data-value="%g" x="%.1f" y="%.1f" width="%.1f" height="22" fill="%s"/>`+"\n",
			attr(b.name), b.value, labelW, y, b.value/top*w, reportColors[b.name])
		s.text(labelW+b.value/top*w+4, y+15, `class="tick"`, fmt.Sprintf(format, b.value))
	}
}

// writeReport draws r as SVG to w.
func writeReport(w io.Writer, r *Results) error {
	s := &svgWriter{w: w}
	const width, height = 2*panelW + 30, 3*panelH + 136
	s.printf(`<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="11">`+"\n", width, height, width, height)
	s.printf("<style>.title{font-size:13px;font-weight:bold}.note{fill:#888}.tick{fill:#444;font-size:10px}.axis{fill:#444}" +
		".frame{fill:none;stroke:#bbb}.grid{stroke:#eee}.cdf{fill:none;stroke-width:1.8}</style>\n")
	s.printf(`<rect width="100%%" height="100%%" fill="#fff"/>` + "\n")
	m := r.Machine
	s.text(10, 20, `class="title"`, "sparkbench "+r.Time)
	if r.Command != "" {
		s.text(10, 36, "", fmt.Sprintf("%d cores, %s, load %s -> %s; %s", m.Cores, m.GoVersion, m.LoadStart, m.LoadEnd, r.Command))
	}
	if p := r.Peers; p != nil {
		quick := ""
		if p.Quick {
			quick = "quick run (-quick): small sizes, indicative only; "
		}
		s.text(10, 52, "", "peers: "+p.Time+", "+p.Command)
		s.text(10, 68, "", fmt.Sprintf("%s%d streams (fan-out, idle), %d streams x %d publishers x %gs (throughput), %d rounds;",
			quick, p.Streams, p.RateStreams, p.Publishers, p.Seconds, p.Rounds))
		s.text(10, 84, "", "load "+p.Load+" (2 cores shared with other work: compare within the run, not across runs)")
	}
	const top = 98.0
	col2 := panelW + 20

	var lat []curve
	if c, ok := curveOf(targetGateway, r.LatencyUS.GatewayQ, r.LatencyUS.Gateway); ok {
		lat = append(lat, scaled(c, 1e-3))
	}
	if c, ok := curveOf("direct", r.LatencyUS.DirectQ, r.LatencyUS.Direct); ok {
		lat = append(lat, scaled(c, 1e-3))
	}
	s.cdfPanel(10, top, "latency", fmt.Sprintf("One-way latency, %d sequential messages: gateway vs direct", r.LatencyUS.Messages), "ms", lat)

	var fan, del []curve
	var thr, idle []bar
	if p := r.Peers; p != nil {
		for _, t := range p.Targets {
			if t.NotMeasured != "" {
				continue
			}
			if c, ok := curveOf(t.Name, t.FanoutLastQ, t.FanoutLast); ok {
				fan = append(fan, c)
			}
			if c, ok := curveOf(t.Name, t.DeliveryQ, t.Delivery); ok {
				del = append(del, c)
			}
			thr = append(thr, bar{t.Name, t.DeliveredPerSec})
			idle = append(idle, bar{t.Name, t.IdleKiBPerStream})
		}
	}
	streams, rateStreams := 0, 0
	if r.Peers != nil {
		streams, rateStreams = r.Peers.Streams, r.Peers.RateStreams
	}
	s.cdfPanel(col2, top, "fanout", fmt.Sprintf("Fan-out: publish -> last of %d streams", streams), "ms", fan)
	s.cdfPanel(10, top+panelH+10, "delivery", fmt.Sprintf("Throughput runs: publish -> each of %d streams (1 in %d)", rateStreams, rateSample), "ms", del)
	s.barPanel(col2, top+panelH+10, "throughput", fmt.Sprintf("Events delivered per second, %d streams", rateStreams), "%.0f /s", thr)
	s.barPanel(10, top+2*panelH+20, "idle", fmt.Sprintf("Server RSS per idle stream, %d streams", streams), "%.1f KiB", idle)
	s.ratioPanel(col2, top+2*panelH+20, r.Peers)
	s.printf("</svg>\n")
	return s.err
}

// ratioPanel lists the gateway paths' ratios to the best peer.
func (s *svgWriter) ratioPanel(x0, y0 float64, p *Peers) {
	s.printf(`<g class="panel" data-panel="ratios" transform="translate(%.0f,%.0f)">`+"\n", x0, y0)
	defer s.printf("</g>\n")
	s.text(0, 16, `class="title"`, "Ratio to the best peer (issue 21 targets)")
	if p == nil || len(p.Ratios) == 0 {
		s.text(plotL, panelH/2, `class="note"`, "not measured in this run")
		return
	}
	y := 40.0
	line := func(indent float64, str string) { s.text(indent, y, "", str); y += 16 }
	vs := func(rt RatioTo) string {
		if rt.Peer == "" {
			return "no peer measured"
		}
		return fmt.Sprintf("%.2fx %s", rt.Ratio, reportLabels[rt.Peer])
	}
	for _, r := range p.Ratios {
		line(0, reportLabels[r.Target]+":")
		line(12, fmt.Sprintf("delivered/s %.0f: %s (target >= 1x)", r.Throughput.Figure, vs(r.Throughput)))
		line(12, fmt.Sprintf("fan-out, last stream p99 %.1f ms: %s (target <= 0.8x)", r.FanoutP99.Figure, vs(r.FanoutP99)))
		line(12, fmt.Sprintf("idle RSS per stream %.1f KiB: %s (target <= 16 KiB)", r.IdleRSS.Figure, vs(r.IdleRSS)))
	}
}

// scaled multiplies c's times by f (µs to ms).
func scaled(c curve, f float64) curve {
	x := make([]float64, len(c.x))
	for i, v := range c.x {
		x[i] = v * f
	}
	c.x = x
	return c
}

// writeReportFile draws r as SVG at path, through a temporary file.
func writeReportFile(r *Results, path string) error {
	var out bytes.Buffer
	if err := writeReport(&out, r); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, out.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
