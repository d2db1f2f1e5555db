//go:build unix

package sse

import (
	"net"
	"syscall"
)

// socketFD returns the file descriptor of c's socket, or -1 when c does
// not expose one (a wrapper around a net.Conn). The descriptor is only
// used while c is open (through.go).
func socketFD(c net.Conn) int {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return -1
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	if rc.Control(func(u uintptr) { fd = int(u) }) != nil {
		return -1
	}
	return fd
}

// rawWrite makes one write system call of b on fd, a non-blocking socket,
// and returns how much of b it wrote: 0 on any error, EAGAIN included
// (the stream's goroutine writes the rest and meets the error itself).
func rawWrite(fd int, b []byte) int {
	n, err := syscall.Write(fd, b)
	if err != nil || n < 0 {
		return 0
	}
	return n
}
