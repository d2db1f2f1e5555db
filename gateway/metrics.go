package gateway

import (
	"bytes"
	"encoding/json"
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
	refreshes    *prometheus.CounterVec // result: see refreshResults
	eventsOut    prometheus.Counter     // events written to streams, per stream
	streamsEnded *prometheus.CounterVec // reason of the gateway's close event
	// answersDropped counts the sessions' automatic answers to the XMPP
	// server dropped at a stalled connection (xmppconn/autoreply.go).
	answersDropped prometheus.Counter
	// stanzasSkipped counts stanzas from the XMPP server the sessions
	// skipped because their decoder rejected them (lost to the user).
	stanzasSkipped prometheus.Counter
	// xmppLost counts the sessions' lost XMPP connections by reason
	// (countLost).
	xmppLost *prometheus.CounterVec
	// silenced counts the pushes not sent for the user's mutes, by why:
	// muted (the conversation) or stranger (strangers.go).
	silenced *prometheus.CounterVec
	// httpRequests and httpDuration are every request's (metrics_http.go).
	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
}

// newMetrics makes the gateway's counters, before the event hub, whose
// Config.Wrote counts the events written to streams (count).
func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.logins = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sparkgate_logins_total",
		Help: "Login attempts (password, TOTP, passkey) by result: ok (200) or failed (401, 403).",
	}, []string{"result"})
	m.refreshes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sparkgate_refreshes_total",
		Help: "Token refreshes by result: ok; retried, a refresh whose answer was lost sent again within -refresh-retry-window; reused, a spent refresh token shown again, whose login was revoked (someone may hold a copy); refused, an unknown, expired or revoked one.",
	}, []string{"result"})
	m.eventsOut = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "sparkgate_stream_events_total",
		Help: "Events written to event streams; an event sent to three tabs counts three times.",
	})
	m.streamsEnded = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sparkgate_streams_closed_total",
		Help: "Event streams the gateway ended itself, by the reason of its chatapi.close event; reason slow counts streams dropped for falling behind.",
	}, []string{"reason"})
	m.answersDropped = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "sparkgate_xmpp_answers_dropped_total",
		Help: "Automatic answers to the XMPP server (delivery receipts, IQ replies) dropped because too many waited for a stalled connection.",
	})
	m.stanzasSkipped = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "sparkgate_xmpp_stanzas_skipped_total",
		Help: "Stanzas from the XMPP server skipped because the gateway could not decode them; each is also logged at warn (skipping a stanza the decoder rejected).",
	})
	m.xmppLost = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sparkgate_xmpp_connections_lost_total",
		Help: "XMPP connections of sessions lost, by reason: ping-timeout (the server stopped answering), closed-by-server, connection-lost (the socket failed), conflict (the login was taken over or the account removed: the session ends), stream-error (any other stream error). The session reconnects but on a conflict.",
	}, []string{"reason"})
	m.silenced = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sparkgate_push_silenced_total",
		Help: "Pushes not sent because the user muted them, by why: muted (the conversation: PUT /chat/muted/{to}) or stranger (the sender is outside the user's roster while strangers are muted: PUT /chat/strangers/muted).",
	}, []string{"why"})
	for _, why := range []string{"muted", "stranger"} {
		m.silenced.WithLabelValues(why) // listed at 0 from the start
	}
	m.httpRequests, m.httpDuration = newRequestMetrics()
	return m
}

// lostReasons are the values of sparkgate_xmpp_connections_lost_total's
// label: a stream error's condition comes from the server, so all but
// conflict count as stream-error.
var lostReasons = []string{"ping-timeout", "closed-by-server", "connection-lost", "conflict", "stream-error"}

// countLost counts a session's lost connection (ManagerConfig.OnLost).
func (m *metrics) countLost(_, reason string) {
	switch reason {
	case "ping-timeout", "closed-by-server", "connection-lost", "conflict":
	default:
		reason = "stream-error"
	}
	m.xmppLost.WithLabelValues(reason).Inc()
}

// routeMetrics serves GET /metrics and counts logins when Config.Metrics
// is set (s.metrics); otherwise it does nothing and costs nothing.
func (s *Server) routeMetrics(e *echo.Echo) {
	m := s.metrics
	if m == nil {
		return
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(), // go_build_info: which build a node runs
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "sparkgate_sessions",
			Help: "XMPP sessions (logged-in users) the gateway holds.",
		}, func() float64 { return float64(s.sessions.Len()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "sparkgate_xmpp_sessions_reconnecting",
			Help: "Sessions that lost their XMPP connection and have not made a new one yet: all of them while the XMPP server is down.",
		}, func() float64 { return float64(s.sessions.Reconnecting()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "sparkgate_streams",
			Help: "Open event streams, all users together.",
		}, func() float64 { return float64(s.hub.Count()) }),
		m.logins, m.refreshes, m.eventsOut, m.streamsEnded, m.answersDropped, m.stanzasSkipped,
		m.httpRequests, m.httpDuration, m.xmppLost, m.silenced,
		s.limits.hits, // limits.go
	)
	if s.push.sender != nil {
		m.reg.MustRegister(newPushCollector(s.push.sender)) // metrics_push.go
	}
	// Both label values exist from the start, so a dashboard sees zeros.
	m.logins.WithLabelValues("ok")
	m.logins.WithLabelValues("failed")
	for _, r := range refreshResults {
		m.refreshes.WithLabelValues(r)
	}
	m.streamsEnded.WithLabelValues("slow")
	for _, r := range lostReasons {
		m.xmppLost.WithLabelValues(r)
	}

	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: nil})
	e.GET(MetricsPath, echo.WrapHandler(h))
	e.Use(m.middleware)
}

// refreshResults are the values of sparkgate_refreshes_total's label.
var refreshResults = []string{"ok", "retried", "reused", "refused"}

// countRefresh counts a refresh's result (one of refreshResults) when
// metrics are on.
func (s *Server) countRefresh(result string) {
	if s.metrics != nil {
		s.metrics.refreshes.WithLabelValues(result).Inc()
	}
}

// middleware counts the outcome of login operations. It reads what the
// handlers answer, so no handler needs to know about metrics.
func (m *metrics) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := c.Request().URL.Path
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

var (
	idLine     = []byte("\nid: ")
	closeFrame = []byte("event: chatapi.close\ndata: ")
)

// count counts the events and the close event in b, a part of a stream's
// body as the hub writes it (sse.Config.Wrote): every frame starts with
// an "id:" line (data lines are single-line JSON, so "\nid: " occurs
// nowhere else), and the gateway's own close event names its reason.
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
