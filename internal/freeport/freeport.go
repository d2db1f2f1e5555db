// Package freeport picks loopback TCP ports for the private servers the
// project starts (ejabberd, NATS, PostgreSQL, gateway nodes).
//
// The port is free when it is picked, not promised: the listener is closed
// before the caller's server binds it, so another process may take it in
// between. Callers that start a server on it report a bind failure as
// such (and the test harnesses try again where it matters).
package freeport

import (
	"fmt"
	"net"
)

// Port returns a loopback TCP port that nobody listened on a moment ago.
func Port() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("freeport: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Addr returns "127.0.0.1:port" for a port from Port.
func Addr() (string, error) {
	p, err := Port()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("127.0.0.1:%d", p), nil
}
