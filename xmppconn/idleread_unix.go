//go:build unix

package xmppconn

import (
	"io"
	"os"
	"syscall"
)

// rawOf returns the raw socket of src when it is one (a plain TCP or Unix
// connection), or nil: a TLS connection reads through its own buffers.
func rawOf(src io.Reader) syscall.RawConn {
	sc, ok := src.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// fillIdle is fill for a capture that holds no buffer, on a raw socket: it
// waits for the socket to be readable with no buffer at all, and reads
// what came straight into one from bufPool.
//
// Why: reading into capture.first (64 bytes) while idle, as fill does,
// cut every stanza that arrived after a pause in two reads, the first of
// 64 bytes: in a room of 500, half the gateway's read system calls, each
// about as dear as the member's whole decode. The runtime's poller tells
// when the socket is readable (RawConn.Read calls read again only then),
// so no buffer is held while the connection waits.
func (c *capture) fillIdle() error {
	var n int
	var rerr error
	err := c.raw.Read(func(fd uintptr) bool {
		p := bufPool.Get().(*[]byte)
		for {
			n, rerr = syscall.Read(int(fd), *p)
			if rerr != syscall.EINTR {
				break
			}
		}
		if rerr == syscall.EAGAIN {
			bufPool.Put(p) // nothing yet: wait for the poller, holding nothing
			return false
		}
		c.buf, c.pooled = *p, p
		return true
	})
	switch {
	case err != nil: // closed, or a deadline passed
	case rerr != nil:
		err = os.NewSyscallError("read", rerr)
	case n == 0:
		err = io.EOF
	}
	if c.pooled == nil {
		c.take()
	}
	if err != nil {
		c.err = err
		return err
	}
	c.w = n
	c.end = min(c.w, c.lim)
	return nil
}
