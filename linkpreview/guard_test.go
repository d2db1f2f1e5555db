package linkpreview

import (
	"errors"
	"net/netip"
	"net/url"
	"testing"
)

func TestCheckURL(t *testing.T) {
	p, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	allowed, err := New(Config{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}, Ports: []uint16{0}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		p   *Fetcher
		url string
		ok  bool
	}{
		{p, "https://example.com/a", true},
		{p, "http://example.com:80/", true},
		{p, "HTTPS://Example.COM/", true},
		{p, "http://93.184.215.14/", true},
		{p, "http://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/", true},
		{p, "ftp://example.com/", false},
		{p, "file:///etc/passwd", false},
		{p, "http://user:pw@example.com/", false},
		{p, "http://127.0.0.1/", false},
		{p, "http://[::1]/", false},
		{p, "http://[::ffff:127.0.0.1]/", false},
		{p, "http://[::ffff:7f00:1]/", false},
		{p, "http://10.1.2.3/", false},
		{p, "http://172.16.0.1/", false},
		{p, "http://192.168.1.1/", false},
		{p, "http://169.254.169.254/latest/meta-data/", false},
		{p, "http://100.64.0.1/", false},
		{p, "http://0.0.0.0/", false},
		{p, "http://[::]/", false},
		{p, "http://224.0.0.1/", false},
		{p, "http://[fe80::1]/", false},
		{p, "http://[fe80::1%25eth0]/", false},
		{p, "http://[fc00::1]/", false},
		{p, "http://[64:ff9b::7f00:1]/", false},
		{p, "http://2130706433/", false},
		{p, "http://0177.0.0.1/", false},
		{p, "http://0x7f000001/", false},
		{p, "http://0x7f.0.0.1/", false},
		{p, "http://127.1/", false},
		{p, "http://017700000001/", false},
		{p, "http://example.com:8080/", false}, // only 80 and 443 by default
		{p, "http://example.com:0/", false},
		{allowed, "http://127.0.0.2:8080/", true},
		{allowed, "http://127.0.0.1:8080/", false},
		{allowed, "http://example.com:8080/", true},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.url)
		if err != nil {
			if tt.ok {
				t.Errorf("url.Parse(%q): %v", tt.url, err)
			}
			continue
		}
		err = tt.p.checkURL(u)
		if (err == nil) != tt.ok {
			t.Errorf("checkURL(%q) = %v, want ok %v", tt.url, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrRefused) {
			t.Errorf("checkURL(%q) = %v, not ErrRefused", tt.url, err)
		}
	}
}

// FuzzGuard: whatever the URL, checkURL never panics, and a URL it
// accepts never names a special-purpose address literally or in a numeric
// form; whatever the address, the dial-time guard never lets a loopback,
// private, link-local, multicast or unspecified one through (IPv4-mapped
// forms included).
func FuzzGuard(f *testing.F) {
	p, err := New(Config{Ports: []uint16{0}})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"http://127.0.0.1/", "http://[::ffff:10.0.0.1]/", "http://0x7f000001/", "https://example.com/", "http://1.1.1.1:8080/x"} {
		f.Add(s, []byte{127, 0, 0, 1})
	}
	f.Add("http://[::1]/", []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1})
	f.Fuzz(func(t *testing.T, raw string, ip []byte) {
		if u, err := url.Parse(raw); err == nil && p.checkURL(u) == nil {
			host := u.Hostname()
			a, err := netip.ParseAddr(host)
			if err == nil && special(a) {
				t.Fatalf("checkURL accepted %q (%v)", raw, a)
			}
			if err != nil && numericHost(host) {
				t.Fatalf("checkURL accepted the numeric host %q", host)
			}
		}
		a, ok := netip.AddrFromSlice(ip)
		if !ok {
			return
		}
		if special(a) && p.guard.SafeAddr(a) == nil {
			t.Fatalf("guard allowed %v", a)
		}
		if err := p.guard.Safe("tcp4", netip.AddrPortFrom(a.Unmap(), 80).String(), nil); special(a) && a.Unmap().Is4() && err == nil {
			t.Fatalf("guard allowed %v as tcp4", a)
		}
	})
}

// special reports whether a is an address a preview must never reach.
func special(a netip.Addr) bool {
	u := a.Unmap()
	return u.IsLoopback() || u.IsPrivate() || u.IsLinkLocalUnicast() || u.IsLinkLocalMulticast() ||
		u.IsMulticast() || u.IsUnspecified() || u.IsInterfaceLocalMulticast() ||
		netip.MustParsePrefix("100.64.0.0/10").Contains(u) || netip.MustParsePrefix("0.0.0.0/8").Contains(u)
}
