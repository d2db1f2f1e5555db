package gateway

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestAddrKey(t *testing.T) {
	for _, tc := range []struct {
		ip     string
		prefix int
		want   string
	}{
		{"192.0.2.7", 64, "192.0.2.7"},
		{"::ffff:192.0.2.7", 64, "192.0.2.7"},
		{"127.0.0.1", 128, "127.0.0.1"},
		{"2001:db8:1:2::a", 64, "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", 64, "2001:db8:1:2::/64"},
		{"2001:DB8:1:2::A", 64, "2001:db8:1:2::/64"},
		{"2001:db8:1:2::a", 56, "2001:db8:1::/56"},
		{"2001:db8:1:2::a", 128, "2001:db8:1:2::a"},
		{"fe80::1%eth0", 64, "fe80::/64"},
		{"fe80::1%eth0", 128, "fe80::1"},
		{"::1", 64, "::/64"},
		{"not an address", 64, "not an address"},
		{"", 64, ""},
	} {
		if got := addrKey(tc.ip, tc.prefix); got != tc.want {
			t.Errorf("addrKey(%q, %d) = %q, want %q", tc.ip, tc.prefix, got, tc.want)
		}
	}
}

func TestCheckIPv6Prefix(t *testing.T) {
	for bits, ok := range map[int]bool{-1: false, 0: true, 1: true, 48: true, 64: true, 128: true, 129: false} {
		if err := checkIPv6Prefix(bits); (err == nil) != ok {
			t.Errorf("checkIPv6Prefix(%d) = %v, want ok %v", bits, err, ok)
		}
	}
}

// TestClientIPExtractor: without trusted proxies the client is the TCP
// peer, whatever X-Forwarded-For says; behind them, the rightmost address
// of the header that is not a trusted proxy, so that what a client wrote
// into the header itself is never taken.
func TestClientIPExtractor(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24"), netip.MustParsePrefix("2001:db8::1/128")}
	for _, tc := range []struct {
		name    string
		trusted []netip.Prefix
		peer    string
		xff     []string
		want    string
	}{
		{"no proxy trusted, header ignored", nil, "198.51.100.7:5000", []string{"203.0.113.9"}, "198.51.100.7"},
		{"trusted proxy, no header", proxies, "10.0.0.2:5000", nil, "10.0.0.2"},
		{"trusted proxy", proxies, "10.0.0.2:5000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"a client's own entries stay left", proxies, "10.0.0.2:5000", []string{"6.6.6.6, 203.0.113.9"}, "203.0.113.9"},
		{"two trusted proxies in a row", proxies, "10.0.0.2:5000", []string{"203.0.113.9, 10.0.0.3"}, "203.0.113.9"},
		{"header lines joined", proxies, "10.0.0.2:5000", []string{"6.6.6.6", "203.0.113.9"}, "203.0.113.9"},
		{"untrusted peer with a header", proxies, "198.51.100.7:5000", []string{"203.0.113.9"}, "198.51.100.7"},
		{"a private peer is not trusted unless named", proxies, "192.168.1.5:5000", []string{"203.0.113.9"}, "192.168.1.5"},
		{"loopback is not trusted unless named", proxies, "127.0.0.1:5000", []string{"203.0.113.9"}, "127.0.0.1"},
		{"IPv6 proxy and client", proxies, "[2001:db8::1]:443", []string{"2001:db8:aaaa::7"}, "2001:db8:aaaa::7"},
		{"garbage where the proxy writes", proxies, "10.0.0.2:5000", []string{"203.0.113.9, nonsense"}, "10.0.0.2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := clientIPExtractor(tc.trusted)(r); got != tc.want {
				t.Fatalf("client address %q, want %q", got, tc.want)
			}
		})
	}
}
