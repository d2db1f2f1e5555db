package linkpreview

import (
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// checkURL is the guard's first point (see the package doc): it refuses,
// before any connection and at every redirect, a scheme other than http
// and https, credentials, a port not allowed, a host name with characters
// no host name has, an IP literal the dial-time guard would refuse, and a
// numeric host that is not a dotted-decimal address.
func (f *Fetcher) checkURL(u *url.URL) error {
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return fmt.Errorf("%w: only http and https URLs", ErrRefused)
	}
	if u.User != nil {
		return fmt.Errorf("%w: credentials in the URL", ErrRefused)
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("%w: no host", ErrRefused)
	}
	port, err := portOf(u, scheme)
	if err != nil {
		return err
	}
	if f.ports != nil && !slices.Contains(f.ports, port) {
		return fmt.Errorf("%w: port %d is not allowed", ErrRefused, port)
	}
	if strings.ContainsFunc(host, oddInHost) {
		return fmt.Errorf("%w: invalid host name", ErrRefused)
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		if addr.Zone() != "" {
			return fmt.Errorf("%w: zoned address", ErrRefused)
		}
		if err := f.guard.SafeAddrPort(netip.AddrPortFrom(addr, port)); err != nil {
			return fmt.Errorf("%w: %w", ErrRefused, err)
		}
		return nil
	}
	if numericHost(host) {
		return fmt.Errorf("%w: a numeric host that is not a dotted-decimal address", ErrRefused)
	}
	return nil
}

// portOf returns u's port, or the scheme's default one.
func portOf(u *url.URL, scheme string) (uint16, error) {
	ps := u.Port()
	switch {
	case ps != "":
		n, err := strconv.ParseUint(ps, 10, 16)
		if err != nil || n == 0 {
			return 0, fmt.Errorf("%w: invalid port", ErrRefused)
		}
		return uint16(n), nil
	case scheme == "https":
		return 443, nil
	}
	return 80, nil
}

// oddInHost reports whether r never belongs in a host name: spaces and
// control characters, invalid UTF-8, and the delimiters some URL parsers
// read differently from Go's.
func oddInHost(r rune) bool {
	return r <= ' ' || r == 0x7f || r == utf8.RuneError || strings.ContainsRune("%\\/@[]<>\"'`{}|^", r)
}

// numericHost reports whether host's last label is a number (decimal,
// octal or 0x hex). No top-level domain is one, but inet_aton reads such
// names as IPv4 addresses (127.1, 2130706433, 0x7f000001).
func numericHost(host string) bool {
	host = strings.TrimSuffix(host, ".")
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	digits := func(r rune) bool { return r >= '0' && r <= '9' }
	if len(last) > 2 && (last[:2] == "0x" || last[:2] == "0X") {
		last = last[2:]
		digits = func(r rune) bool { return unicode.Is(unicode.ASCII_Hex_Digit, r) }
	}
	return strings.IndexFunc(last, func(r rune) bool { return !digits(r) }) < 0
}
