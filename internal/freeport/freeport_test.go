package freeport

import (
	"net"
	"strconv"
	"testing"
)

// TestPortIsBindable: the port returned can be listened on at once, on
// loopback only, and Addr names such a port.
func TestPortIsBindable(t *testing.T) {
	p, err := Port()
	if err != nil {
		t.Fatal(err)
	}
	if p <= 0 || p > 65535 {
		t.Fatalf("port %d", p)
	}
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
	if err != nil {
		t.Fatalf("port %d not bindable: %v", p, err)
	}
	l.Close()

	a, err := Addr()
	if err != nil {
		t.Fatal(err)
	}
	host, port, err := net.SplitHostPort(a)
	if err != nil || host != "127.0.0.1" || port == "0" {
		t.Fatalf("Addr %q (%v)", a, err)
	}
	l, err = net.Listen("tcp", a)
	if err != nil {
		t.Fatalf("Addr %s not bindable: %v", a, err)
	}
	l.Close()
}
