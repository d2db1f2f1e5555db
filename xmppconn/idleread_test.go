//go:build unix

package xmppconn

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// socketPair returns the two ends of a loopback TCP connection.
func socketPair(t *testing.T) (here, there net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	here, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	there = <-accepted
	if there == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { here.Close(); there.Close() })
	return here, there
}

// TestReaderWaitInputSocket: on a plain socket an idle reader waits with
// no buffer and reads a stanza that comes after the pause in one read, not
// its first 64 bytes and then the rest; the end of the stream and a close
// from this side end the wait as they end a read.
func TestReaderWaitInputSocket(t *testing.T) {
	stanza := "<message id='a'><body>" + strings.Repeat("x", 600) + "</body></message>"
	big := "<message id='b'><body>" + strings.Repeat("y", 3*initialBufSize) + "</body></message>"
	for _, tc := range []struct {
		name  string
		after func(here, there net.Conn) // what happens while the reader waits
		check func(t *testing.T, er *elemReader)
	}{
		{"a stanza after a pause", func(_, there net.Conn) { there.Write([]byte(stanza)) }, func(t *testing.T, er *elemReader) {
			if n := er.cap.buffered(); n != len(stanza) {
				t.Errorf("%d bytes read at the wake-up; want the whole stanza's %d", n, len(stanza))
			}
			el, err := er.next(true)
			if err != nil || !bytes.Equal(el.raw, []byte(stanza)) || el.stanza == nil {
				t.Errorf("next: %q, %v", el.raw, err)
			}
		}},
		{"a stanza bigger than the pooled buffer", func(_, there net.Conn) { there.Write([]byte(big)) }, func(t *testing.T, er *elemReader) {
			el, err := er.next(true)
			if err != nil || !bytes.Equal(el.raw, []byte(big)) || el.stanza == nil {
				t.Errorf("next: %d bytes, %v; want the %d of the stanza", len(el.raw), err, len(big))
			}
		}},
		{"the server closes", func(_, there net.Conn) { there.Close() }, func(t *testing.T, er *elemReader) {
			if _, err := er.next(true); !errors.Is(err, ErrNetwork) || !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("next: %v; want a network error (unexpected EOF)", err)
			}
		}},
		{"closed here", func(here, _ net.Conn) { here.Close() }, func(t *testing.T, er *elemReader) {
			if _, err := er.next(true); !errors.Is(err, ErrNetwork) || !errors.Is(err, net.ErrClosed) {
				t.Errorf("next: %v; want a network error (closed)", err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			here, there := socketPair(t)
			er := newElemReader(here, 4*initialBufSize)
			if er.cap.raw == nil {
				t.Fatal("a TCP connection's capture has no raw socket")
			}
			there.Write([]byte(clientHeader))
			if _, err := er.header(); err != nil {
				t.Fatal(err)
			}
			waited := make(chan struct{})
			go func() {
				defer close(waited)
				er.waitInput()
			}()
			time.Sleep(20 * time.Millisecond) // most likely waiting by now; either way it must hold
			tc.after(here, there)
			select {
			case <-waited:
			case <-time.After(10 * time.Second):
				t.Fatal("waitInput did not return")
			}
			tc.check(t, er)
		})
	}
}
