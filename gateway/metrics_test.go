package gateway

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func TestIsLoginPath(t *testing.T) {
	tests := []struct {
		method, path string
		want         bool
	}{
		{"POST", APIPrefix + "/rest/login/alice", true},
		{"POST", APIPrefix + "/rest/totp/authenticate/alice/123456", true},
		{"POST", APIPrefix + "/rest/totp/123456", true},
		{"POST", APIPrefix + "/rest/totp/register/alice", false},
		{"POST", APIPrefix + "/rest/webauthn/authenticate/finish/alice", true},
		{"POST", APIPrefix + "/rest/webauthn/authenticate/start/alice", false},
		{"GET", APIPrefix + "/rest/login/alice", false},
		{"POST", APIPrefix + "/rest/chat/message/bob", false},
	}
	for _, tt := range tests {
		if got := isLoginPath(tt.method, tt.path); got != tt.want {
			t.Errorf("isLoginPath(%s, %s) = %v, want %v", tt.method, tt.path, got, tt.want)
		}
	}
}

// TestMetricsCount: the hub's Config.Wrote counts the events and the
// gateway's close events in each part of a body it writes.
func TestMetricsCount(t *testing.T) {
	m := newMetrics()
	writes := []string{
		"retry: 3000\n\nevent: onConnect\ndata: {\"username\":\"a\"}\n\n",
		"id: 1-1\nevent: chatapi.chat\ndata: {\"body\":\"id: 2\"}\n\nid: 1-2\nevent: chatapi.xmpp\ndata: {}\n\n",
		": ping\n",
		"id: 1-3\nevent: chatapi.chat\ndata: {}\n\nevent: chatapi.close\ndata: {\"reason\":\"slow\",\"resume\":true}\n\n",
		"event: chatapi.close\ndata: {\"reason\":\"<script>\",\"resume\":true}\n\n",
	}
	for _, s := range writes {
		m.count([]byte(s))
	}
	if got := value(t, m.eventsOut); got != 3 {
		t.Errorf("events = %v, want 3", got)
	}
	if got := value(t, m.streamsEnded.WithLabelValues("slow")); got != 1 {
		t.Errorf("slow = %v, want 1", got)
	}
	if got := value(t, m.streamsEnded.WithLabelValues("other")); got != 1 {
		t.Errorf("other = %v, want 1", got)
	}
}

func value(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var d dto.Metric
	if err := c.Write(&d); err != nil {
		t.Fatal(err)
	}
	return d.GetCounter().GetValue()
}
