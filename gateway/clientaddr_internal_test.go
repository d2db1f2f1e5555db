package gateway

import "testing"

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
