//go:build !unix

package xmppconn

import (
	"io"
	"syscall"
)

// rawOf returns nil: the bufferless wait (idleread_unix.go) is for Unix
// sockets; elsewhere an idle capture reads into capture.first.
func rawOf(io.Reader) syscall.RawConn { return nil }

func (c *capture) fillIdle() error { panic("xmppconn: fillIdle without a raw socket") }
