package gateway

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// The requests' rate, errors and duration, by operation: what an operator
// graphs first and alerts on (a rise of 502s says the XMPP server is gone,
// of 401s a client with a stale token, of 429s a limit set too low).
//
// The route label is the operation's path template as registered
// ("/sparkweb/api/rest/chat/message/:to"), never the request's path, so its
// values are bounded by the routes: 66 operations and a few pages.
// Requests no route matched share "unmatched".

// requestBuckets span a cached GET (tens of µs) to an XMPP round trip
// that times out (seconds); prometheus's defaults start at 5 ms, above
// most of the gateway's answers.
var requestBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// newRequestMetrics makes sparkgate_http_requests_total and
// sparkgate_http_request_duration_seconds.
func newRequestMetrics() (*prometheus.CounterVec, *prometheus.HistogramVec) {
	total := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sparkgate_http_requests_total",
		Help: "HTTP requests answered, by route (the operation's path template; unmatched for none), method and status code.",
	}, []string{"route", "method", "code"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "sparkgate_http_request_duration_seconds",
		Help:    "Time from a request's arrival at the gateway's handlers to its answer, by route and method; an event stream counts until its handler hands the connection over, not its whole life.",
		Buckets: requestBuckets,
	}, []string{"route", "method"})
	return total, duration
}

// requests counts each request and times it. It is the outermost
// middleware (server.go), so limits' refusals and recovered panics count
// too. An error is turned into its response here (c.Error, the gateway's
// handleError) rather than after the chain, so the status is the one the
// client gets.
func (m *metrics) requests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		method := methodLabel(c.Request().Method)
		m.httpRequests.WithLabelValues(route, method, strconv.Itoa(c.Response().Status)).Inc()
		m.httpDuration.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
		return nil
	}
}

// methodLabel bounds the method label to the standard methods: a client
// may send any token as its method.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}
