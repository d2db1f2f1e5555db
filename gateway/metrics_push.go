package gateway

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sparkgate/sparkgate/webpush"
)

// pushCollector serves sparkgate_push_deliveries_total{outcome} from the
// Web Push sender's own counts (webpush.Stats), read at each scrape: the
// sender is made before the Server and counts whether metrics are on or
// not.
type pushCollector struct {
	sender *webpush.Sender
	desc   *prometheus.Desc
}

func newPushCollector(sender *webpush.Sender) pushCollector {
	return pushCollector{sender: sender, desc: prometheus.NewDesc(
		"sparkgate_push_deliveries_total",
		"Web Push deliveries to one subscription by outcome: delivered (2xx), retried (429, 5xx or no answer: one more attempt later), gone (404 or 410: subscription removed), expired (removed unsent), refused (another 4xx, or an endpoint that is not public), failed (given up after the last attempt, or no room for the retry).",
		[]string{"outcome"}, nil)}
}

func (c pushCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c pushCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.sender.Stats()
	for _, o := range []struct {
		outcome string
		n       uint64
	}{
		{"delivered", st.Delivered}, {"retried", st.Retried}, {"gone", st.Gone},
		{"expired", st.Expired}, {"refused", st.Refused}, {"failed", st.Failed},
	} {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(o.n), o.outcome)
	}
}
