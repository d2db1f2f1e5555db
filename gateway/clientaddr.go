package gateway

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/labstack/echo/v4"
)

// Client addresses, as the per-address limits count them.
//
// The login rate limit, the lockout at an address and max-streams-per-ip
// each count per client address: the TCP peer's unless it is a trusted
// proxy (below), so X-Forwarded-For cannot move an attacker to a fresh
// address. An IPv4
// address is one key. An IPv6 address is not: one subscriber is given a
// whole /64 at least (a host picks its own interface identifiers, and
// privacy extensions change them daily), so counting each address would
// give one attacker 2^64 fresh budgets and fill the limiters' key tables
// (maxLimiterKeys, which then refuse every new address) within a minute.
// IPv6 addresses therefore count by their first LimitsConfig.IPv6Prefix
// bits, 64 by default, as one IPv4 address behind a NAT does.
//
// Behind a reverse proxy (TLS is terminated there in most deployments)
// every TCP peer is the proxy: all clients would share one address, so
// one person's failed logins would lock everyone out of that account and
// everyone's logins would share one budget. LimitsConfig.TrustedProxies
// names the proxies: a request whose TCP peer is one of them counts by
// the address its X-Forwarded-For names, read from the right (the
// proxies append to it) up to the first address that is not a trusted
// proxy. What a client writes into the header itself is further left
// and never reached; a request from any other peer counts by the peer,
// whatever its header says.

// defaultIPv6Prefix is LimitsConfig.IPv6Prefix's zero value: the
// smallest network an IPv6 subscriber is given.
const defaultIPv6Prefix = 64

// clientAddr is the client address the per-address limits count (see
// above): the peer's IPv4 address, or the network of its IPv6 address
// ("2001:db8:1:2::/64"). Logs name the peer itself (c.RealIP()).
func (s *Server) clientAddr(c echo.Context) string {
	return addrKey(c.RealIP(), s.limits.cfg.IPv6Prefix)
}

// addrKey is the key of the client address ip for the per-address limits:
// an IPv4 address (an IPv4-mapped IPv6 one too) as it is, an IPv6 address
// as its network of prefix bits, with any zone dropped. Anything that is
// not an address stays as it is.
func addrKey(ip string, prefix int) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap().WithZone("")
	if a.Is4() || prefix >= 128 {
		return a.String()
	}
	p, err := a.Prefix(prefix)
	if err != nil {
		return a.String()
	}
	return p.String()
}

// checkIPv6Prefix validates LimitsConfig.IPv6Prefix.
func checkIPv6Prefix(bits int) error {
	if bits < 0 || bits > 128 {
		return fmt.Errorf("gateway: IPv6 prefix of client addresses must be 0 to 128 bits, not %d", bits)
	}
	return nil
}

// clientIPExtractor is the echo IPExtractor that finds a request's client
// address: the TCP peer's, or behind trusted proxies the one
// X-Forwarded-For names (see above). Only the networks given are trusted:
// not loopback or private networks as echo's default is.
func clientIPExtractor(trusted []netip.Prefix) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		p = p.Masked()
		opts = append(opts, echo.TrustIPRange(&net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}
