package webpush

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"testing"
	"time"
)

// addressTests are endpoint hosts and whether a push may go to them: one
// or more of every non-global range, including the IPv6 forms that lead
// to IPv4 through a translator, and public addresses that must pass.
var addressTests = []struct {
	addr   string
	public bool
}{
	{"0.0.0.0", false},
	{"0.1.2.3", false}, // 0.0.0.0/8, "this network"
	{"10.1.2.3", false},
	{"100.64.0.1", false},
	{"127.0.0.1", false},
	{"169.254.169.254", false},
	{"172.16.0.1", false},
	{"192.0.0.8", false},
	{"192.168.1.1", false},
	{"198.18.0.1", false},
	{"224.0.0.1", false},
	{"240.0.0.1", false},
	{"255.255.255.255", false},
	{"::", false},
	{"::1", false},
	{"::7f00:1", false},                             // IPv4-compatible ::/96 (127.0.0.1)
	{"::a01:203", false},                            // IPv4-compatible ::/96 (10.1.2.3)
	{"::ffff:127.0.0.1", false},                     // IPv4-mapped
	{"::ffff:10.1.2.3", false},                      // IPv4-mapped
	{"::ffff:8.8.8.8", false},                       // IPv4-mapped, even of a public address
	{"64:ff9b::7f00:1", false},                      // NAT64 64:ff9b::/96 (127.0.0.1)
	{"64:ff9b::a9fe:a9fe", false},                   // NAT64 (169.254.169.254)
	{"64:ff9b:1::a00:1", false},                     // local-use NAT64 64:ff9b:1::/48
	{"2002:7f00:1::1", false},                       // 6to4 2002::/16 (127.0.0.1)
	{"2002:a01:203::1", false},                      // 6to4 (10.1.2.3)
	{"2001:0:4136:e378:8000:63bf:80ff:fffe", false}, // Teredo 2001::/32
	{"2001:db8::1", false},
	{"fc00::1", false},
	{"fd12:3456::1", false},
	{"fe80::1", false},
	{"ff02::1", false},
	{"1.1.1.1", true},
	{"8.8.8.8", true},
	{"142.250.74.78", true},
	{"203.0.114.7", true},
	{"2606:4700:4700::1111", true},
	{"2a00:1450:4001:80b::200e", true},
}

func TestPublicAddr(t *testing.T) {
	for _, tt := range addressTests {
		t.Run(tt.addr, func(t *testing.T) {
			ip := netip.MustParseAddr(tt.addr)
			if got := publicAddr(ip); got != tt.public {
				t.Errorf("publicAddr(%s) = %v, want %v", tt.addr, got, tt.public)
			}
			endpoint := "https://" + net.JoinHostPort(tt.addr, "443") + "/push/1"
			err := checkEndpoint(endpoint, nil)
			if tt.public != (err == nil) {
				t.Errorf("checkEndpoint(%s) = %v, want public %v", endpoint, err, tt.public)
			}
			if err != nil && !errors.Is(err, ErrInvalidSubscription) {
				t.Errorf("checkEndpoint(%s) = %v, want ErrInvalidSubscription", endpoint, err)
			}
		})
	}
}

// TestDialRefusesNonPublic: the sender's client checks the address it
// connects to, after DNS resolution, so a stored endpoint (or a name that
// resolves elsewhere later) cannot reach a non-public address.
func TestDialRefusesNonPublic(t *testing.T) {
	client := newHTTPClient(5*time.Second, false)
	for _, tt := range addressTests {
		ip := netip.MustParseAddr(tt.addr)
		if tt.public || ip.Is4In6() {
			// No test reaches out to the internet; an IPv4-mapped
			// address is dialled as its IPv4 address (a row of its own).
			continue
		}
		t.Run(tt.addr, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			u := "http://" + net.JoinHostPort(tt.addr, "9") + "/push/1"
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := client.Do(req)
			if err == nil {
				resp.Body.Close()
			}
			if !errors.Is(err, ErrForbiddenAddress) {
				t.Fatalf("POST %s: %v, want ErrForbiddenAddress", u, err)
			}
		})
	}
	// A loopback push service, as the tests' webpushtest, is reached when
	// private addresses are allowed.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusCreated) }))
	defer srv.Close()
	for allow, want := range map[bool]bool{false: false, true: true} {
		t.Run("loopback-allow-private-"+strconv.FormatBool(allow), func(t *testing.T) {
			resp, err := newHTTPClient(5*time.Second, allow).Post(srv.URL, "text/plain", nil)
			if err == nil {
				resp.Body.Close()
			}
			if (err == nil) != want || (err != nil && !errors.Is(err, ErrForbiddenAddress)) {
				t.Fatalf("allow private %v: %v", allow, err)
			}
		})
	}
}
