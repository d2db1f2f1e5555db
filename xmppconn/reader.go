package xmppconn

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"syscall"
)

const initialBufSize = 2048

// bufPool holds the read buffers of captures that are busy: an idle
// connection gives its buffer back and waits for input with none (a plain
// socket, idleread_unix.go) or in a few bytes of its own (capture.first),
// so thousands of idle connections hold no read buffer
// (TestIntegrationSessionIdleCost).
var bufPool = sync.Pool{New: func() any { b := make([]byte, initialBufSize); return &b }}

// capture is the byte source of the stream's tokenizer (xmltok.go), which
// reads its buffer directly or byte by byte (ReadByte). It keeps every byte
// from a mark on, so that the exact bytes of a stanza can be cut out by
// tokenizer offsets. It refuses to hold more than max bytes past the mark,
// which bounds the memory of every token and stanza.
type capture struct {
	src  io.Reader
	raw  syscall.RawConn // src's socket when it is a plain one (idleread_unix.go)
	buf  []byte
	r, w int   // next byte to hand out, end of valid data, both in buf
	base int64 // stream offset of buf[0]
	mark int64 // stream offset from which bytes must be kept
	lim  int   // index in buf that r must not reach
	end  int   // min(w, lim): bytes up to here are handed out without a check
	max  int
	err  error // the error src returned, if any

	pooled *[]byte  // the bufPool entry buf is, or nil
	first  [64]byte // buf while idle: where the first bytes after a pause land
}

func newCapture(src io.Reader, max int) *capture {
	c := &capture{src: src, raw: rawOf(src), max: max}
	c.take()
	c.lim = max
	c.end = 0
	return c
}

// take makes a buffer from bufPool the capture's buffer, keeping the
// bytes buf holds (at most len(first), as take follows release).
func (c *capture) take() {
	p := bufPool.Get().(*[]byte)
	copy(*p, c.buf[:c.w])
	c.buf, c.pooled = *p, p
}

// release gives the buffer back while nothing in it is needed: every byte
// read was consumed and nothing is kept from the mark on.
func (c *capture) release() {
	c.base, c.r, c.w = c.mark, 0, 0
	c.lim = c.max
	c.end = 0
	if c.pooled != nil {
		bufPool.Put(c.pooled)
		c.pooled = nil
	}
	c.buf = c.first[:]
}

// setMark allows bytes before the stream offset off to be discarded and
// restarts the size limit there.
func (c *capture) setMark(off int64) {
	c.mark = off
	c.lim = int(off-c.base) + c.max
	c.end = min(c.w, c.lim)
}

// buffered reports the number of bytes read from src but not yet consumed.
func (c *capture) buffered() int { return c.w - c.r }

// bytes returns the kept bytes between stream offsets from and to.
func (c *capture) bytes(from, to int64) []byte {
	return c.buf[from-c.base : to-c.base]
}

func (c *capture) ReadByte() (byte, error) {
	if c.r >= c.lim {
		return 0, fmt.Errorf("%w: %w (more than %d bytes)", ErrProtocol, ErrStanzaTooLarge, c.max)
	}
	if c.r == c.w {
		if err := c.fill(); err != nil {
			return 0, err
		}
	}
	b := c.buf[c.r]
	c.r++
	return b, nil
}

func (c *capture) fill() error {
	// Drop what lies before the mark.
	if keep := int(c.mark - c.base); keep > 0 {
		n := copy(c.buf, c.buf[keep:c.w])
		c.r -= keep
		c.w = n
		c.lim -= keep
		c.end = min(c.w, c.lim)
		c.base = c.mark
		// Give back a buffer grown by a big stanza once it is idle again.
		if len(c.buf) > 4*initialBufSize && n <= initialBufSize/2 {
			small := make([]byte, initialBufSize)
			copy(small, c.buf[:n])
			c.buf, c.pooled = small, nil
		}
	}
	if c.w == len(c.buf) {
		grown := make([]byte, min(2*len(c.buf), c.max+initialBufSize))
		if len(grown) <= len(c.buf) {
			grown = make([]byte, len(c.buf)+initialBufSize)
		}
		copy(grown, c.buf[:c.w])
		c.buf, c.pooled = grown, nil
	}
	for {
		n, err := c.src.Read(c.buf[c.w:])
		c.w += n
		c.end = min(c.w, c.lim)
		if n > 0 {
			return nil
		}
		if err != nil {
			c.err = err
			return err
		}
	}
}

// element is one complete child of the stream root.
type element struct {
	name xml.Name   // resolved against the stream's namespaces
	attr []xml.Attr // attributes of the start tag, valid until the next call of next (xmlattrs.go)
	raw  []byte     // the exact bytes received, start tag to end tag

	// For message, presence and iq elements read with decoding on: the
	// decoded stanza, or why the typed decoder rejected it.
	stanza    *Stanza
	decodeErr error
}

func (e *element) attrValue(local string) string {
	for _, a := range e.attr {
		if a.Name.Local == local && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

// errStreamEnd is returned by next when the server closed the stream.
var errStreamEnd = errors.New("xmppconn: end of stream")

// elemReader reads a stream header and then its children one by one. The
// tokenizer (xmltok.go) reads from a capture, so each child's exact bytes
// are cut out by offsets, and stanzas are decoded in the same pass: by this
// package's own code from the tokens for what it knows, through a bridge
// to encoding/xml (xmlbridge.go) for gosrc.io/xmpp's types.
type elemReader struct {
	cap *capture
	tok *tokenizer
	br  *bridge // taken at the first decode by reflection, given back when idle
}

func newElemReader(src io.Reader, maxSize int) *elemReader {
	c := newCapture(src, maxSize)
	return &elemReader{cap: c, tok: newTokenizer(c, DefaultMaxDepth+1, DefaultMaxAttrs)}
}

const nsStream = "http://etherx.jabber.org/streams"

// header reads up to and including the server's <stream:stream> start tag.
func (er *elemReader) header() (xml.StartElement, error) {
	for {
		er.cap.setMark(er.tok.offset())
		tok, err := er.tok.next()
		if err != nil {
			return xml.StartElement{}, er.wrap(err)
		}
		switch tok.kind {
		case tokDecl:
		case tokText:
			if len(bytes.TrimSpace(tok.text)) != 0 {
				return xml.StartElement{}, protoErr("text before stream header")
			}
		case tokStart:
			if tok.name.Space != nsStream || tok.name.Local != "stream" {
				return xml.StartElement{}, protoErr("stream header is <%s xmlns=%q>", tok.name.Local, tok.name.Space)
			}
			// A copy: the caller may keep it past the next element.
			return xml.StartElement{Name: tok.name, Attr: slices.Clone(tok.attr)}, nil
		default:
			return xml.StartElement{}, protoErr("end tag </%s> before stream header", tok.name.Local)
		}
	}
}

// next returns the next child of the stream root; with decode set, message,
// presence and iq elements are decoded as well. It returns errStreamEnd when
// the server closes the stream.
func (er *elemReader) next(decode bool) (element, error) {
	for {
		before := er.tok.offset()
		er.cap.setMark(before)
		tok, err := er.tok.next()
		if err != nil {
			return element{}, er.wrap(err)
		}
		switch tok.kind {
		case tokStart:
			t := xml.StartElement{Name: tok.name, Attr: tok.attr}
			el := element{name: t.Name, attr: t.Attr}
			if decode && t.Name.Space == nsClient && isStanzaName(t.Name.Local) {
				s, derr := er.decodeElement(0, t)
				if derr != nil {
					if er.fatal(derr) {
						return element{}, er.wrap(derr)
					}
					el.decodeErr = derr
					s = nil
				}
				el.stanza = s
			}
			// Whatever the decoder left of the element (all of it when not
			// decoding, the rest after a rejection) is skipped.
			for er.tok.depth > 1 {
				if _, err := er.tok.next(); err != nil {
					return element{}, er.wrap(err)
				}
			}
			er.tok.between()
			el.raw = bytes.Clone(er.cap.bytes(before, er.tok.offset()))
			if el.stanza != nil {
				el.stanza.setRaw(el.raw, before)
			}
			return el, nil
		case tokEnd:
			return element{}, errStreamEnd
		case tokText:
			if len(bytes.TrimSpace(tok.text)) != 0 {
				return element{}, protoErr("text between stanzas")
			}
		default:
			return element{}, protoErr("XML declaration in stream")
		}
	}
}

// waitInput blocks between two children of the stream root until the
// source has bytes the tokenizer has not read, or has failed (next then
// reads the failure again and reports it). It does what the tokenizer's
// next read would do, but from the caller's shallow frame: a reader that
// idles here keeps a small stack. It returns at once unless the tokenizer
// holds nothing (no element open below the root, no end tag owed, no
// error) and every byte read so far was consumed. While it waits, the
// capture holds no read buffer of its own (bufPool) and the tokenizer no
// attribute arena (xmlattrs.go).
func (er *elemReader) waitInput() {
	c := er.cap
	t := er.tok
	if t.depth != 1 || t.closeNext || t.err != nil || c.err != nil || c.buffered() > 0 {
		return
	}
	c.setMark(t.offset())
	t.dropAttrs()
	er.dropBridge()
	c.release()
	if c.raw != nil {
		_ = c.fillIdle() // idleread_unix.go
		return
	}
	_ = c.fill()
	c.take()
}

func isStanzaName(local string) bool {
	return local == "message" || local == "presence" || local == "iq"
}

// fatal reports whether a decoding error broke the stream (bad XML, a limit,
// the socket) rather than being a typed decoder's rejection of well-formed
// XML.
func (er *elemReader) fatal(err error) bool {
	var se *xml.SyntaxError
	return errors.Is(err, ErrProtocol) || errors.As(err, &se) || er.cap.err != nil
}

// wrap classifies a decoder error: a failure of the source (including its
// end in the middle of the stream) is a network error, anything else a
// protocol violation.
func (er *elemReader) wrap(err error) error {
	if errors.Is(err, ErrProtocol) {
		return err
	}
	if src := er.cap.err; src != nil {
		if src == io.EOF {
			return netErr(io.ErrUnexpectedEOF)
		}
		if errors.Is(err, src) {
			return netErr(err)
		}
	}
	return fmt.Errorf("%w: %w", ErrProtocol, err)
}
