package gateway

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MetricsPath is where the gateway serves its metrics when Config.Metrics
// is set: the Prometheus text format, outside the authenticated API.
const MetricsPath = "/metrics"

// metrics are the gateway's own counters, next to the Go runtime and
// process collectors. Each Server has its own registry, so two gateways in
// one process (tests) do not share counters.
type metrics struct {
	reg          *prometheus.Registry
	logins       *prometheus.CounterVec // result: ok, failed
	eventsOut    prometheus.Counter     // events written to streams, per stream
	streamsEnded *prometheus.CounterVec // reason of the gateway's close event
}

// routeMetrics serves GET /metrics and counts logins and stream events
// when Config.Metrics is set; otherwise it does nothing and costs nothing.
func (s *Server) routeMetrics(e *echo.Echo) {
	if !s.cfg.Metrics {
		return
	}
	m := &metrics{reg: prometheus.NewRegistry()}
	m.logins = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sparkgate_logins_total",
		Help: "Login attempts (password, TOTP, passkey) by result: ok (200) or failed (401, 403).",
	}, []string{"result"})
	m.eventsOut = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "sparkgate_stream_events_total",
		Help: "Events written to event streams; an event sent to three tabs counts three times.",
	})
	m.streamsEnded = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sparkgate_streams_closed_total",
		Help: "Event streams the gateway ended itself, by the reason of its chatapi.close event; reason slow counts streams dropped for falling behind.",
	}, []string{"reason"})
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "sparkgate_sessions",
			Help: "XMPP sessions (logged-in users) the gateway holds.",
		}, func() float64 { return float64(s.sessions.Len()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "sparkgate_streams",
			Help: "Open event streams, all users together.",
		}, func() float64 { return float64(s.hub.Count()) }),
		m.logins, m.eventsOut, m.streamsEnded,
		s.limits.hits, // limits.go
	)
	// Both label values exist from the start, so a dashboard sees zeros.
	m.logins.WithLabelValues("ok")
	m.logins.WithLabelValues("failed")
	m.streamsEnded.WithLabelValues("slow")

	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: nil})
	e.GET(MetricsPath, echo.WrapHandler(h))
	e.Use(m.middleware)
}

// middleware counts the outcome of login operations and the events of
// event streams. It reads what the handlers answer, so no handler needs to
// know about metrics.
func (m *metrics) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := c.Request().URL.Path
		if p == APIPrefix+"/sse" {
			w := &countingWriter{ResponseWriter: c.Response().Writer, m: m}
			c.Response().Writer = w
			return next(c)
		}
		if !isLoginPath(c.Request().Method, p) {
			return next(c)
		}
		err := next(c)
		status := c.Response().Status
		if err != nil {
			status = classify(err).Status
		}
		switch {
		case status == http.StatusOK:
			m.logins.WithLabelValues("ok").Inc()
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			m.logins.WithLabelValues("failed").Inc()
		}
		return err
	}
}

// isLoginPath reports whether a request is one of the operations that end
// in a token: password login, the TOTP step, passkey login.
func isLoginPath(method, p string) bool {
	if method != http.MethodPost {
		return false
	}
	rest, ok := strings.CutPrefix(p, APIPrefix+"/rest/")
	if !ok {
		return false
	}
	return strings.HasPrefix(rest, "login/") ||
		strings.HasPrefix(rest, "totp/authenticate/") ||
		(strings.HasPrefix(rest, "totp/") && !strings.HasPrefix(rest, "totp/register/")) ||
		strings.HasPrefix(rest, "webauthn/authenticate/finish/")
}

// countingWriter counts the events written to one stream: every frame
// starts with an "id:" line (data lines are single-line JSON, so "\nid: "
// occurs nowhere else), and the gateway's own close event names its reason.
type countingWriter struct {
	http.ResponseWriter
	m *metrics
}

var (
	idLine     = []byte("\nid: ")
	closeFrame = []byte("event: chatapi.close\ndata: ")
)

func (w *countingWriter) Write(b []byte) (int, error) {
	w.m.count(b)
	return w.ResponseWriter.Write(b)
}

// count counts the events and the close event in b, a part of a stream's
// body.
func (m *metrics) count(b []byte) {
	n := bytes.Count(b, idLine)
	if bytes.HasPrefix(b, idLine[1:]) {
		n++
	}
	if n > 0 {
		m.eventsOut.Add(float64(n))
	}
	if i := bytes.Index(b, closeFrame); i >= 0 {
		data := b[i+len(closeFrame):]
		if j := bytes.IndexByte(data, '\n'); j >= 0 {
			data = data[:j]
		}
		var ev struct {
			Reason string `json:"reason"`
		}
		if json.Unmarshal(data, &ev) == nil {
			switch ev.Reason {
			case "slow", "max-age", "shutdown", "logout", "expired", "ended":
			default:
				ev.Reason = "other"
			}
			m.streamsEnded.WithLabelValues(ev.Reason).Inc()
		}
	}
}

// Hijack keeps the count for a stream that takes its connection over from
// net/http (sse/park.go): the stream writes its body to the connection,
// here a countingConn.
func (w *countingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	return &countingConn{Conn: c, m: w.m}, brw, nil
}

// countingConn is a taken-over stream's connection, counted as
// countingWriter counts (the chunk framing around each write holds no
// "id:" line). It holds the metrics, not the countingWriter: a stream
// that outlives its handler (sse.Hub.ServeStreamDetached) must not keep
// net/http's ResponseWriter, and with it the connection's buffers, alive.
type countingConn struct {
	net.Conn
	m *metrics
}

func (c *countingConn) Write(b []byte) (int, error) {
	c.m.count(b)
	return c.Conn.Write(b)
}

// Flush and Unwrap keep http.ResponseController working through the
// wrapper: the stream's flushes and write deadlines reach the connection.
func (w *countingWriter) Flush() {
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
