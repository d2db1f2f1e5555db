package webpush

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"

	"code.dny.dev/ssrf"
)

// newHTTPClient is the default client of a Sender: bounded in time, no
// redirects (a push service answers, it does not redirect), no proxy from
// the environment, and unless allowPrivate a dialer that refuses
// non-public addresses after DNS resolution (so a name that resolves to a
// public address at subscribe time and to a private one later is still
// refused).
func newHTTPClient(timeout time.Duration, allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = func(network, address string, _ syscall.RawConn) error {
			if err := publicGuard.Safe(network, address, nil); err != nil {
				return fmt.Errorf("%w: %w", ErrForbiddenAddress, err)
			}
			return nil
		}
	}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:           d.DialContext,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: timeout,
			MaxIdleConns:          64,
			MaxIdleConnsPerHost:   8,
			IdleConnTimeout:       90 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// publicGuard refuses every address that is not globally routable: IPv4's
// special-purpose ranges of the IANA registry (0.0.0.0/8, private,
// loopback, link-local, shared, documentation, multicast, reserved …), and
// every IPv6 address outside global unicast (2000::/3) or inside its
// special-purpose ranges. That refuses the IPv6 forms that reach IPv4
// behind a translator too: IPv4-mapped (::ffff:0:0/96), IPv4-compatible
// (::/96), NAT64 (64:ff9b::/96, 64:ff9b:1::/48), 6to4 (2002::/16) and
// Teredo (2001::/32). Any port is allowed: push services may use others
// than 443.
var publicGuard = ssrf.New(ssrf.WithAnyPort())

// publicAddr reports whether ip may be a push service on the internet.
func publicAddr(ip netip.Addr) bool {
	return ip.IsValid() && publicGuard.SafeAddr(ip) == nil
}
