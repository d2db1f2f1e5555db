package gateway

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// counts returns each series of v by its first label's value.
func counts(t *testing.T, v *prometheus.CounterVec) map[string]float64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 16)
	v.Collect(ch)
	close(ch)
	out := map[string]float64{}
	for m := range ch {
		var d dto.Metric
		if err := m.Write(&d); err != nil {
			t.Fatal(err)
		}
		out[d.GetLabel()[0].GetValue()] = d.GetCounter().GetValue()
	}
	return out
}

// TestCountLost: a lost connection's reason becomes one of lostReasons,
// whatever condition the XMPP server put in its stream error.
func TestCountLost(t *testing.T) {
	tests := []struct{ reason, label string }{
		{"ping-timeout", "ping-timeout"},
		{"closed-by-server", "closed-by-server"},
		{"connection-lost", "connection-lost"},
		{"conflict", "conflict"},
		{"system-shutdown", "stream-error"},
		{"policy-violation", "stream-error"},
		{"", "stream-error"},
		{"made-up-by-a-server\n{", "stream-error"},
	}
	for _, tt := range tests {
		m := newMetrics()
		m.countLost("u@example.org", tt.reason)
		got := counts(t, m.xmppLost)
		if len(got) != 1 || got[tt.label] != 1 {
			t.Errorf("reason %q counted as %v, want %s: 1", tt.reason, got, tt.label)
		}
	}
}

// TestMethodLabel: the method label takes the standard methods as they
// are and every other token as "other".
func TestMethodLabel(t *testing.T) {
	tests := []struct{ method, want string }{
		{"GET", "GET"}, {"HEAD", "HEAD"}, {"POST", "POST"}, {"PUT", "PUT"}, {"PATCH", "PATCH"},
		{"DELETE", "DELETE"}, {"OPTIONS", "OPTIONS"}, {"CONNECT", "CONNECT"}, {"TRACE", "TRACE"},
		{"get", "other"}, {"BREW", "other"}, {"", "other"}, {"PROPFIND", "other"},
	}
	for _, tt := range tests {
		if got := methodLabel(tt.method); got != tt.want {
			t.Errorf("methodLabel(%q) = %q, want %q", tt.method, got, tt.want)
		}
	}
}
